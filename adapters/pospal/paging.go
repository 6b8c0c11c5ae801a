package pospal

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
)

// pagedData is the data of an answer of a keyset-paged query (VENDOR-NOTES
// §1(d)). pageSize is not listed for every query; it is 0 when absent.
type pagedData[T any] struct {
	PostBackParameter json.RawMessage `json:"postBackParameter"`
	Result            []T             `json:"result"`
	PageSize          json.Number     `json:"pageSize"`
}

// rawPage is one decoded page of a walk.
type rawPage[T any] struct {
	number   int
	result   []T
	pageSize int
	request  json.RawMessage // the postBackParameter sent, nil for a fresh first page
	next     json.RawMessage // the postBackParameter answered, byte for byte
	last     bool
}

// walk fetches the pages of a keyset-paged query in order and hands each to
// handle. body builds the request for a postBackParameter (nil: the first
// page, sent without one); resume, when not nil, is sent with the first
// request.
//
// The walk stops cleanly after a page that is shorter than its pageSize (the
// documented rule; an empty page included), or whose postBackParameter is
// absent, null or has an empty parameterValue (the rule production clients
// use). When an answer repeats a postBackParameter the walk already sent, the
// page is still handed over, then the walk stops with a [*LoopError]. An
// error of handle or of a call stops the walk and is returned unchanged.
func walk[T any](ctx context.Context, c *Client, op string, resume json.RawMessage, body func(postBack json.RawMessage) any, handle func(rawPage[T]) error) error {
	var sent [][]byte // compacted parameters sent so far, for the loop guard
	if resume != nil {
		sent = append(sent, compact(resume))
	}
	postBack := resume
	for n := 1; ; n++ {
		data, err := c.call(ctx, op, body(postBack))
		if err != nil {
			return err
		}
		var d pagedData[T]
		if err := decodeData(op, data, &d); err != nil {
			return err
		}
		size, _ := strconv.Atoi(d.PageSize.String())
		p := rawPage[T]{number: n, result: d.Result, pageSize: size, request: postBack, next: d.PostBackParameter}
		short := len(d.Result) < size || len(d.Result) == 0
		p.last = short || emptyPostBack(d.PostBackParameter)
		var loop error
		if !p.last {
			next := compact(d.PostBackParameter)
			for _, s := range sent {
				if bytes.Equal(s, next) {
					loop = &LoopError{Op: op, Page: n, PostBackParameter: d.PostBackParameter}
					p.last = true
					break
				}
			}
			sent = append(sent, next)
		}
		if err := handle(p); err != nil {
			return err
		}
		if p.last {
			return loop
		}
		postBack = d.PostBackParameter
	}
}

// emptyPostBack reports whether a postBackParameter is absent, null, not an
// object, or has an absent, null or empty parameterValue.
func emptyPostBack(raw json.RawMessage) bool {
	var p struct {
		ParameterValue json.RawMessage `json:"parameterValue"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return true
	}
	v := bytes.TrimSpace(p.ParameterValue)
	return len(v) == 0 || bytes.Equal(v, []byte("null")) || bytes.Equal(v, []byte(`""`))
}

// compact returns raw without insignificant white space, for comparison.
func compact(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}
