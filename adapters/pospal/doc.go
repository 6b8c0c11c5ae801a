// Package pospal is a client for the Pospal (银豹) POS open API, version 1
// (https://area{N}-win.pospal.cn/pospal-api2/openapi/v1/<module>/<method>).
//
// It covers the calls loyaltybus needs: adding a coupon code to a coupon rule
// ([Client.AddCouponCode]), redeeming a coupon code ([Client.UseCouponCode]),
// listing the codes used in a window of at most 5 days, to confirm a redeem
// whose answer was lost ([Client.QueryUsedPromotionCodes]), and walking a
// member's ticket history page by page ([Client.QueryCustomerHistoryTickets]).
//
// # Wire format
//
// Every call is a POST of a JSON body that carries appId. The body is
// serialised once and the header data-signature is UPPER(hex(MD5(appKey +
// body))) over exactly the bytes sent. Answers come with HTTP 200 in an
// envelope {status, messages, errorCode, data}; status is compared case
// insensitively. A data-signature header on the answer is verified when present
// (see [Config.IgnoreResponseSignature]).
//
// # Errors
//
// Every error returned by a call is one of:
//
//   - [*APIError]: the vendor answered status "error" (or a non-2xx status with
//     an envelope). Match codes with errors.Is against the sentinels
//     ([ErrCodeExists], [ErrSignature], [ErrCouponInvalid], …).
//   - [*TransportError]: the vendor could not be reached, answered a non-2xx
//     status without an envelope, or its answer was unreadable, truncated or
//     wrongly signed. Context cancellation and deadlines stay recognisable with
//     errors.Is(err, context.Canceled) / context.DeadlineExceeded.
//   - [*QuotaError]: the client's own daily call counter is used up; no request
//     was sent.
//   - [*ValidationError]: the request was refused before sending.
//   - [*LoopError]: the vendor repeated a postBackParameter while paging.
//
// All of them report Temporary() and RetryAfter(), so a caller classifies an
// error once, and VendorDetail() for result events.
//
// # Quota
//
// Pospal allows 300 calls per appId per day (midnight Asia/Shanghai) and charges
// rejected calls too. The client counts its own calls and refuses to call once
// the limit is reached (see [Client.Quota]). The counter lives in the Client, so
// use one Client per appId in a process.
//
// The package pospaltest beside this one holds a faithful in-memory simulator.
package pospal
