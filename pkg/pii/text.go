package pii

import "regexp"

// Patterns of PII that free text (error messages, vendor answers, DLQ
// reasons) may carry without a key to say what it is. Digits next to the
// match are excluded so order numbers and uids are left alone.
var (
	idCardPattern = regexp.MustCompile(`(^|[^0-9])([1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])($|[^0-9A-Za-z])`)
	mobilePattern = regexp.MustCompile(`(^|[^0-9])((?:\+?86[- ]?)?1[3-9][0-9]{9})($|[^0-9])`)
	emailPattern  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// MaskText masks PII in free text: JSON inside it by key (as MaskJSON does),
// and mainland mobile numbers, resident ID numbers and e-mail addresses by
// their shape wherever they stand. Use it for error messages and reasons
// that leave the process (results, dead letters) as well as for logs.
func MaskText(s string) string {
	if out, changed := MaskEmbedded(s); changed {
		s = out
	}
	s = idCardPattern.ReplaceAllStringFunc(s, func(m string) string {
		p := idCardPattern.FindStringSubmatch(m)
		return p[1] + maskIDCard(p[2]) + p[3]
	})
	s = mobilePattern.ReplaceAllStringFunc(s, func(m string) string {
		p := mobilePattern.FindStringSubmatch(m)
		return p[1] + maskPhone(p[2]) + p[3]
	})
	return emailPattern.ReplaceAllStringFunc(s, maskEmail)
}
