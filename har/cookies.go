package har

import (
	"net/http"
	"strings"
	"time"
)

// requestCookies lists the name=value pairs of the Cookie headers.
func requestCookies(h http.Header) cookieList {
	list := cookieList{}
	for _, line := range h.Values("Cookie") {
		for pair := range strings.SplitSeq(line, ";") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			name, value, _ := strings.Cut(pair, "=")
			list = append(list, cookie{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
		}
	}
	return list
}

// responseCookies lists the Set-Cookie headers with their attributes.
// received is when the response arrived: Max-Age counts from it. The
// audit package has the full RFC 6265bis parser; HAR needs only the
// attributes it names, which http.ParseSetCookie reads.
func responseCookies(h http.Header, received time.Time) cookieList {
	list := cookieList{}
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			// Keep what a browser would show anyway; a pair without "="
			// is a value with an empty name (RFC 6265bis section 5.6).
			first, _, _ := strings.Cut(line, ";")
			name, value, found := strings.Cut(first, "=")
			if !found {
				name, value = "", first
			}
			list = append(list, cookie{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
			continue
		}
		httpOnly, secure := c.HttpOnly, c.Secure
		hc := cookie{
			Name:     c.Name,
			Value:    c.Value,
			Path:     c.Path,
			Domain:   c.Domain,
			HTTPOnly: &httpOnly,
			Secure:   &secure,
			SameSite: sameSiteName(c.SameSite),
		}
		// Max-Age beats Expires (RFC 6265bis section 5.6.2).
		var expires time.Time
		switch {
		case c.MaxAge > 0 && !received.IsZero():
			expires = received.Add(time.Duration(c.MaxAge) * time.Second)
		case c.MaxAge < 0:
			expires = time.Unix(0, 0)
		case !c.Expires.IsZero():
			expires = c.Expires
		}
		if !expires.IsZero() {
			s := expires.UTC().Format(time.RFC3339)
			hc.Expires = &s
		}
		list = append(list, hc)
	}
	return list
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return ""
}
