package pospaltest

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// keyset is the paging of the list queries: the request's postBackParameter
// {parameterType: LAST_RESULT_MIN_ID, parameterValue: "<id>"} names the
// smallest id answered so far, and a page lists ids below it.
type keyset struct {
	req   json.RawMessage // the parameter as sent; nil on the first page
	below int64           // -1 on the first page
}

// parseKeyset reads a request's postBackParameter. known tells whether an id
// is one the query could have answered; a parameter of another type or with
// an unknown id answers 9003.
func parseKeyset(raw json.RawMessage, known func(id int64) bool) (keyset, *vendorError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return keyset{below: -1}, nil
	}
	var p postBack
	if json.Unmarshal(raw, &p) != nil || p.ParameterType != ParameterType {
		return keyset{}, errBadParameter
	}
	v, err := strconv.ParseInt(p.ParameterValue, 10, 64)
	if err != nil || !known(v) {
		return keyset{}, errBadParameter
	}
	return keyset{req: raw, below: v}, nil
}

// skip reports whether id was on an earlier page.
func (k keyset) skip(id int64) bool { return k.below >= 0 && id >= k.below }

// next is the postBackParameter to answer: after last, the smallest id of
// a non-empty page; after an empty page the request's own, or an empty
// value on a first page.
func (k keyset) next(last int64, empty bool) json.RawMessage {
	switch {
	case !empty:
		b, _ := json.Marshal(postBack{ParameterType, strconv.FormatInt(last, 10)})
		return b
	case k.req != nil:
		return k.req
	}
	b, _ := json.Marshal(postBack{ParameterType, ""})
	return b
}
