package pospal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// envelope is the frame of every answer. Only status must be present; the
// other fields are decoded leniently (messages as a string or a list,
// errorCode as a number or a numeric string).
type envelope struct {
	Status    string          `json:"status"`
	Messages  messages        `json:"messages"`
	ErrorCode json.Number     `json:"errorCode"`
	Data      json.RawMessage `json:"data"`
}

// success reports whether status is "success" in any case.
func (e *envelope) success() bool { return strings.EqualFold(e.Status, "success") }

// code returns errorCode as an int, 0 when absent or not an integer.
func (e *envelope) code() int {
	n, err := strconv.Atoi(e.ErrorCode.String())
	if err != nil {
		return 0
	}
	return n
}

// decodeEnvelope decodes the frame of an answer.
func decodeEnvelope(body []byte) (*envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	if env.Status == "" {
		return nil, fmt.Errorf("decode answer: no status in %.200q", body)
	}
	return &env, nil
}

// messages accepts ["a","b"], "a" and null.
type messages []string

// UnmarshalJSON implements json.Unmarshaler.
func (m *messages) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*m = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = messages{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*m = ss
	return nil
}
