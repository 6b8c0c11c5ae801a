package wixtar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// lenientNumber reads a JSON number or a JSON string holding one ("200")
// without going through float64. null, absence and "" give "".
func lenientNumber(raw json.RawMessage) (json.Number, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", nil
		}
	} else {
		s = string(raw)
	}
	var n json.Number
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return "", fmt.Errorf("%s is not a number", raw)
	}
	return n, nil
}

// lenientBool reads true/false, "true"/"false" or 0/1; null or absence give
// false.
func lenientBool(raw json.RawMessage) (bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return false, err
		}
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("%s is not a boolean", raw)
	}
	return b, nil
}

// lenientString reads a JSON string, or keeps a number's literal text.
func lenientString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("%s is not a string", raw)
	}
	return string(n), nil
}
