package shuyuntest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Business error codes the simulator answers with. Only CodeParam is documented by the
// vendor; the others are invented (see the package comment).
const (
	// CodeParam is the vendor's parameter error, "参数异常".
	CodeParam = "010407"
	// CodeInsufficientPoints refuses a freeze or DEDUCT beyond the available balance.
	CodeInsufficientPoints = "019001"
	// CodeUnknownFreeze refuses an unfreeze or deduct whose token froze nothing.
	CodeUnknownFreeze = "019002"
	// CodeFreezeSettled refuses an unfreeze or deduct of a freeze already unfrozen or deducted.
	CodeFreezeSettled = "019003"
	// CodeDuplicateToken refuses a repeated token when ReplayMode is TokenError.
	CodeDuplicateToken = "019004"
	// CodeFreezeMismatch refuses an unfreeze or deduct naming another member than the freeze.
	CodeFreezeMismatch = "019005"
)

// Descriptions that go with the codes.
const (
	descParam               = "参数异常"
	descInsufficientPoints  = "可用积分不足"
	descUnknownFreeze       = "冻结记录不存在"
	descFreezeSettled       = "冻结积分已处理"
	descDuplicateToken      = "重复的业务请求"
	descFreezeMismatch      = "会员与冻结记录不符"
	errorModule             = "Solution Package"
	errorService            = "openapi"
	reasonHeader            = "X-Simulator-Reason"
	defaultRetryAfter       = time.Second
	mulesoftContentType     = "application/json"
	shuyunErrorContentType  = "application/json;charset=UTF-8"
	couponUnknownMsgPrefix  = "券码不存在: "
	couponIllegalMsgPattern = "卡券状态%s不允许%s"
)

// businessError is the vendor's error body {module, service, code, desc, uri}. reason goes to
// the X-Simulator-Reason header to help debugging; the real vendor says no more than desc.
func businessError(status int, path, code, desc, reason string) response {
	resp := jsonResponse(status, struct {
		Module  string `json:"module"`
		Service string `json:"service"`
		Code    string `json:"code"`
		Desc    string `json:"desc"`
		URI     string `json:"uri"`
	}{errorModule, errorService, code, desc, path})
	resp.header.Set("Content-Type", shuyunErrorContentType)
	if reason != "" {
		resp.header.Set(reasonHeader, asciiOnly(reason))
	}
	return resp
}

// paramError is the 010407 answer.
func paramError(path, reason string) response {
	return businessError(http.StatusBadRequest, path, CodeParam, descParam, reason)
}

// gatewayError is a MuleSoft-style error: {"error": kind, "description": text}.
func gatewayError(status int, kind, description string) response {
	resp := jsonResponse(status, struct {
		Error       string `json:"error"`
		Description string `json:"description"`
	}{kind, description})
	resp.header.Set("Content-Type", mulesoftContentType)
	return resp
}

// setRateHeaders writes MuleSoft's rate-limiting headers; reset is sent in milliseconds and
// Retry-After in whole seconds, rounded up.
func setRateHeaders(h http.Header, limit, remaining int, reset time.Duration) {
	if reset < 0 {
		reset = 0
	}
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Milliseconds(), 10))
	h.Set("Retry-After", strconv.FormatInt(int64((reset+time.Second-1)/time.Second), 10))
}

// asciiOnly keeps a header value printable ASCII.
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
