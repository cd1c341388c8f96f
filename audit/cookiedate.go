package audit

import "time"

// parseCookieDate implements the cookie-date algorithm of RFC 6265bis-22
// §5.1.1, which is far more lenient than any HTTP date format: browsers
// pick the time, day, month and year out of whatever tokens are present.
// It does not allocate.
func parseCookieDate(s string) (time.Time, bool) {
	var (
		hour, minute, second  int
		day, month, year      int
		foundTime, foundDay   bool
		foundMonth, foundYear bool
	)
	for i := 0; i < len(s); {
		for i < len(s) && isDateDelimiter(s[i]) {
			i++
		}
		start := i
		for i < len(s) && !isDateDelimiter(s[i]) {
			i++
		}
		tok := s[start:i]
		if tok == "" {
			continue
		}
		if !foundTime {
			if h, m, sec, ok := parseHMS(tok); ok {
				hour, minute, second, foundTime = h, m, sec, true
				continue
			}
		}
		if !foundDay {
			if v, n := leadingDigits(tok, 1, 2); n > 0 {
				day, foundDay = v, true
				continue
			}
		}
		if !foundMonth {
			if m := monthOf(tok); m > 0 {
				month, foundMonth = m, true
				continue
			}
		}
		if !foundYear {
			if v, n := leadingDigits(tok, 2, 4); n > 0 {
				year, foundYear = v, true
				continue
			}
		}
	}
	switch {
	case foundYear && year >= 70 && year <= 99:
		year += 1900
	case foundYear && year >= 0 && year <= 69:
		year += 2000
	}
	if !foundTime || !foundDay || !foundMonth || !foundYear ||
		day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Day() != day { // e.g. 31 Feb: no such date
		return time.Time{}, false
	}
	return t, true
}

// isDateDelimiter: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
func isDateDelimiter(c byte) bool {
	return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) ||
		(c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// leadingDigits reads min..max digits at the start of tok that are not
// followed by another digit (the grammar's "[ non-digit *OCTET ]").
func leadingDigits(tok string, minDigits, maxDigits int) (int, int) {
	n, v := 0, 0
	for n < len(tok) && isDigit(tok[n]) {
		if n == maxDigits {
			return 0, 0
		}
		v = v*10 + int(tok[n]-'0')
		n++
	}
	if n < minDigits {
		return 0, 0
	}
	return v, n
}

// parseHMS matches time-field ":" time-field ":" time-field [non-digit *OCTET].
func parseHMS(tok string) (h, m, s int, ok bool) {
	var fields [3]int
	rest := tok
	for i := range fields {
		v, n := leadingDigits(rest, 1, 2)
		if n == 0 {
			return 0, 0, 0, false
		}
		fields[i] = v
		rest = rest[n:]
		if i < 2 {
			if rest == "" || rest[0] != ':' {
				return 0, 0, 0, false
			}
			rest = rest[1:]
		}
	}
	return fields[0], fields[1], fields[2], true
}

func monthOf(tok string) int {
	if len(tok) < 3 {
		return 0
	}
	var key [3]byte
	for i := range key {
		key[i] = lowerASCII(tok[i])
	}
	switch string(key[:]) {
	case "jan":
		return 1
	case "feb":
		return 2
	case "mar":
		return 3
	case "apr":
		return 4
	case "may":
		return 5
	case "jun":
		return 6
	case "jul":
		return 7
	case "aug":
		return 8
	case "sep":
		return 9
	case "oct":
		return 10
	case "nov":
		return 11
	case "dec":
		return 12
	}
	return 0
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
