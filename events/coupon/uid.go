package coupon

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
)

// UID is a Pospal uid, a 64-bit integer that may exceed 2^53. It marshals as a
// JSON integer and unmarshals from a JSON integer or a decimal string, exactly:
// never through float64.
type UID int64

// UnmarshalJSON reads a JSON integer or a string of decimal digits; null
// leaves u unchanged.
func (u *UID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("uid %.40s is not a 64-bit integer", b)
	}
	*u = UID(n)
	return nil
}

// String returns the uid in decimal.
func (u UID) String() string { return strconv.FormatInt(int64(u), 10) }

// derivedCodeLen is the length of a derived code: 24 base32 characters carry
// 120 bits of the hash, so two command ids do not meet on one code.
const derivedCodeLen = 24

// DerivedCode returns the Pospal coupon code of a grant command that gives
// none: "LB" and 24 characters A–Z 2–7 from SHA-256 of the command id. It is
// stable (a retry of the command adds the same code, and Pospal's "code
// already exists" then confirms the earlier attempt) and within Pospal's rule
// of at most 50 ASCII letters or digits.
func DerivedCode(commandID string) string {
	sum := sha256.Sum256([]byte("loyaltybus/coupon.grant/" + commandID))
	return "LB" + base32.StdEncoding.EncodeToString(sum[:])[:derivedCodeLen]
}
