package audit

import (
	"net/url"
	"strings"
)

// ScanFields walks the name=value pairs of a query string or an
// application/x-www-form-urlencoded body, in order, calling fn with each
// pair percent-decoded ('+' as space); a pair whose escapes are malformed
// is passed as written. Pairs are separated by '&' only (';' is not a
// separator, as in net/url since Go 1.17); a pair without '=' has an empty
// value; empty pairs are skipped. fn returns false to stop. ScanFields
// allocates only to decode pairs that contain escapes.
func ScanFields(s string, fn func(name, value string) bool) {
	for s != "" {
		var pair string
		pair, s, _ = cutByte(s, '&')
		if pair == "" {
			continue
		}
		name, value, _ := cutByte(pair, '=')
		if !fn(unescapeField(name), unescapeField(value)) {
			return
		}
	}
}

func unescapeField(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// secretNameParts: RULES.md's P(name), pass(word|wd)?|pwd|secret|token|
// ticket|sess|sid|auth|api[-_]?key|jwt, unanchored and case-insensitive.
// "pass" covers password and passwd.
var secretNameParts = [...]string{"pass", "pwd", "secret", "token", "ticket", "sess", "sid", "auth", "apikey", "api-key", "api_key", "jwt"}

// isSecretName is P(name).
func isSecretName(name string) bool {
	for _, part := range secretNameParts {
		if containsFold(name, part) {
			return true
		}
	}
	return false
}
