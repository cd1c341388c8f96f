package audit

import (
	"math"
	"strings"
)

// Confidence says how sure the classifier is that a cookie is a
// session/auth cookie.
type Confidence string

const (
	// ConfidenceHigh: the name says so (a framework session name, or a
	// name containing sess, auth, token, jwt, login, remember, or ending in sid).
	ConfidenceHigh Confidence = "high"
	// ConfidenceMedium: only the value says so (a JWT, or a random-looking
	// value of at least 64 bits).
	ConfidenceMedium Confidence = "medium"
	// ConfidenceNone: not a session cookie as far as we can tell.
	ConfidenceNone Confidence = ""
)

// IsSession reports whether the confidence is high or medium (S(c)).
func (c Confidence) IsSession() bool { return c != ConfidenceNone }

// knownSessionNames are framework session cookie names, matched
// case-insensitively after the __Secure-/__Host- prefix is removed.
var knownSessionNames = [...]string{
	"JSESSIONID", "PHPSESSID", "ASP.NET_SessionId", "connect.sid",
	"sessionid", "sid", "sessid", "CFID", "CFTOKEN",
}

// sessionNameParts: RULES.md's sess|sid$|auth|token|jwt|login|remember,
// hand-matched (sid is checked as a suffix) to keep regexps off the hot path.
var sessionNameParts = [...]string{"sess", "auth", "token", "jwt", "login", "remember"}

// ClassifySession says whether a cookie is a session/auth cookie, per
// RULES.md "Is it a session cookie?". Analytics cookies (_ga*, _gid, _fbp,
// __utm*) never are.
func ClassifySession(name, value string) Confidence {
	base := name
	switch {
	case hasPrefixFold(base, PrefixSecure):
		base = base[len(PrefixSecure):]
	case hasPrefixFold(base, PrefixHost):
		base = base[len(PrefixHost):]
	}
	if isAnalyticsCookie(base) {
		return ConfidenceNone
	}
	for _, known := range knownSessionNames {
		if equalFoldASCII(base, known) {
			return ConfidenceHigh
		}
	}
	if hasPrefixFold(base, "ASPSESSIONID") || hasSuffixFold(base, "sid") {
		return ConfidenceHigh
	}
	for _, part := range sessionNameParts {
		if containsFold(base, part) {
			return ConfidenceHigh
		}
	}
	if isJWT(value) || randomBits(value) >= 64 {
		return ConfidenceMedium
	}
	return ConfidenceNone
}

func isAnalyticsCookie(name string) bool {
	return hasPrefixFold(name, "_ga") || equalFoldASCII(name, "_gid") ||
		equalFoldASCII(name, "_fbp") || hasPrefixFold(name, "__utm")
}

// isJWT matches the compact JWS shape: "eyJ" (base64url of `{"`), then
// three non-empty-header/payload base64url segments separated by dots (the
// signature may be empty for alg=none).
func isJWT(v string) bool {
	if !strings.HasPrefix(v, "eyJ") {
		return false
	}
	dots, segLen := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.':
			if segLen == 0 {
				return false
			}
			dots++
			segLen = 0
		case isBase64URLChar(c):
			segLen++
		default:
			return false
		}
	}
	return dots == 2
}

func isBase64URLChar(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'
}

// randomBits estimates the entropy of a token-shaped value as length ×
// log2(alphabet), where the alphabet is the smallest common one holding
// every character: digits (10), hex (16), one-case letters (26), one-case
// alphanumerics (36), letters (52), alphanumerics (62), base64 or base64url
// (64). Values shorter than 16 characters, or with characters outside
// base64 (spaces, commas, percent-escapes: text, not tokens), score 0.
func randomBits(v string) float64 {
	if len(v) < 16 {
		return 0
	}
	var digit, lowerHex, lower, upperHex, upper, symbol bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			digit = true
		case c >= 'a' && c <= 'f':
			lowerHex = true
		case c >= 'g' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'F':
			upperHex = true
		case c >= 'G' && c <= 'Z':
			upper = true
		case c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
			symbol = true
		default:
			return 0
		}
	}
	anyLower, anyUpper := lower || lowerHex, upper || upperHex
	var alphabet float64
	switch {
	case symbol:
		alphabet = 64
	case anyLower && anyUpper:
		if digit {
			alphabet = 62
		} else {
			alphabet = 52
		}
	case !lower && !upper && (lowerHex != upperHex):
		alphabet = 16 // hex, in one case
	case anyLower || anyUpper:
		if digit {
			alphabet = 36
		} else {
			alphabet = 26
		}
	default:
		alphabet = 10
	}
	return float64(len(v)) * math.Log2(alphabet)
}
