package audit

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParseSetCookieSemantics(t *testing.T) {
	type want struct {
		name, value, domain, path, sameSite, sameSiteRaw, prefix string
		hostOnly, pathDefaulted, secure, httpOnly, partitioned   bool
		deletion                                                 bool
		maxAge                                                   *int64
		expires                                                  time.Time
		ignored                                                  bool
	}
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name, line, reqURL string
		want               want
	}{
		{name: "plain", line: "a=b", reqURL: "https://example.com/x/y",
			want: want{name: "a", value: "b", hostOnly: true, path: "/x", pathDefaulted: true}},
		{name: "whitespace trimmed", line: " a \t= b c ;  Path = /p ", reqURL: "https://example.com/",
			want: want{name: "a", value: "b c", hostOnly: true, path: "/p"}},
		{name: "no '=' means empty name", line: "justvalue; Secure", reqURL: "https://example.com/",
			want: want{value: "justvalue", hostOnly: true, path: "/", pathDefaulted: true, secure: true}},
		{name: "value keeps '=' and quotes", line: `a="b=c"`, reqURL: "https://example.com/",
			want: want{name: "a", value: `"b=c"`, hostOnly: true, path: "/", pathDefaulted: true}},
		{name: "case-insensitive attributes", line: "a=b; SECURE; hTtPoNlY; PARTITIONED; sAmEsItE=sTrIcT", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, secure: true, httpOnly: true, partitioned: true, sameSite: "Strict", sameSiteRaw: "sTrIcT"}},
		{name: "last SameSite wins even if invalid", line: "a=b; SameSite=Lax; SameSite=Bogus", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, sameSiteRaw: "Bogus"}},
		{name: "Max-Age beats Expires, whatever the order", line: "a=b; Max-Age=60; Expires=Wed, 21 Oct 2015 07:28:00 GMT", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, maxAge: i64(60), expires: time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)}},
		{name: "last Max-Age wins", line: "a=b; Max-Age=60; Max-Age=0", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, maxAge: i64(0), deletion: true}},
		{name: "invalid Max-Age ignored", line: "a=b; Max-Age=60; Max-Age=1e3; Max-Age=+5", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, maxAge: i64(60)}},
		{name: "negative Max-Age deletes", line: "a=b; Max-Age=-1", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, maxAge: i64(-1), deletion: true}},
		{name: "past Expires deletes", line: "a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, deletion: true, expires: time.Unix(0, 0).UTC()}},
		{name: "unparseable Expires ignored, earlier one kept", line: "a=b; Expires=Fri, 01 Jan 2027 00:00:00 GMT; Expires=soon", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "Domain: leading dot stripped, lowercased", line: "a=b; Domain=.Example.COM", reqURL: "https://www.example.com/",
			want: want{name: "a", value: "b", domain: "example.com", path: "/", pathDefaulted: true}},
		{name: "last Domain wins", line: "a=b; Domain=www.example.com; Domain=example.com", reqURL: "https://www.example.com/",
			want: want{name: "a", value: "b", domain: "example.com", path: "/", pathDefaulted: true}},
		{name: "empty last Domain means host-only", line: "a=b; Domain=example.com; Domain=", reqURL: "https://www.example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true}},
		{name: "Path not starting with / uses the default", line: "a=b; Path=p", reqURL: "https://example.com/a/b/c",
			want: want{name: "a", value: "b", hostOnly: true, path: "/a/b", pathDefaulted: true}},
		{name: "empty Path uses the default", line: "a=b; Path=", reqURL: "https://example.com/a/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/a", pathDefaulted: true}},
		{name: "last Path wins", line: "a=b; Path=/x; Path=/y", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/y"}},
		{name: "default path of a one-segment path", line: "a=b", reqURL: "https://example.com/login",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true}},
		{name: "prefix matched case-insensitively", line: "__SECURE-a=b; Secure", reqURL: "https://example.com/",
			want: want{name: "__SECURE-a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, secure: true, prefix: PrefixSecure}},
		{name: "Secure over http is ignored", line: "a=b; Secure", reqURL: "http://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, secure: true, ignored: true}},
		{name: "Secure over http on localhost is kept", line: "a=b; Secure", reqURL: "http://localhost:8080/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, secure: true}},
		{name: "SameSite=None without Secure is rejected", line: "a=b; SameSite=None", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, sameSite: "None", sameSiteRaw: "None", ignored: true}},
		{name: "foreign Domain is rejected", line: "a=b; Domain=example.org", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", domain: "example.org", path: "/", pathDefaulted: true, ignored: true}},
		{name: "top-level Domain is rejected", line: "a=b; Domain=.COM", reqURL: "https://example.com/",
			want: want{name: "a", value: "b", domain: "com", path: "/", pathDefaulted: true, ignored: true}},
		{name: "Domain equal to a dotless host is fine", line: "a=b; Domain=intranet", reqURL: "http://intranet/",
			want: want{name: "a", value: "b", domain: "intranet", path: "/", pathDefaulted: true}},
		{name: "__Host- with default path is rejected", line: "__Host-a=b; Secure", reqURL: "https://example.com/",
			want: want{name: "__Host-a", value: "b", hostOnly: true, path: "/", pathDefaulted: true, secure: true, prefix: PrefixHost, ignored: true}},
		{name: "oversized attribute is ignored", line: "a=b; Path=/" + strings.Repeat("p", 1024) + "; Path=/ok", reqURL: "https://example.com/x/y",
			want: want{name: "a", value: "b", hostOnly: true, path: "/ok"}},
		{name: "oversized last Path does not win", line: "a=b; Path=/ok; Path=/" + strings.Repeat("p", 1024), reqURL: "https://example.com/x/y",
			want: want{name: "a", value: "b", hostOnly: true, path: "/ok"}},
		{name: "name+value over 4096 is ignored", line: "a=" + strings.Repeat("v", 4096), reqURL: "https://example.com/",
			want: want{name: "a", value: strings.Repeat("v", 4096), hostOnly: true, path: "/", pathDefaulted: true, ignored: true}},
		{name: "tab allowed", line: "a=b\tc", reqURL: "https://example.com/",
			want: want{name: "a", value: "b\tc", hostOnly: true, path: "/", pathDefaulted: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseSetCookie(tc.line, mustURL(t, tc.reqURL), testNow)
			if err != nil {
				t.Fatalf("ParseSetCookie error: %v", err)
			}
			got := want{name: c.Name, value: c.Value, domain: c.Domain, path: c.Path, sameSite: c.SameSite,
				sameSiteRaw: c.SameSiteRaw, prefix: c.Prefix, hostOnly: c.HostOnly, pathDefaulted: c.PathDefaulted,
				secure: c.Secure, httpOnly: c.HttpOnly, partitioned: c.Partitioned, deletion: c.Deletion,
				maxAge: c.MaxAge, expires: c.Expires, ignored: c.Ignored != ""}
			w := tc.want
			if (got.maxAge == nil) != (w.maxAge == nil) || (got.maxAge != nil && *got.maxAge != *w.maxAge) {
				t.Errorf("MaxAge = %v, want %v", deref(got.maxAge), deref(w.maxAge))
			}
			got.maxAge, w.maxAge = nil, nil
			if got != w {
				t.Errorf("got  %+v\nwant %+v\n(Ignored=%q)", got, w, c.Ignored)
			}
			if c.Raw != tc.line {
				t.Errorf("Raw = %q, want the line", c.Raw)
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseSetCookieKeepsRawAttributes(t *testing.T) {
	c, err := ParseSetCookie("a=b; Path=/; path=/x; Foo; Max-Age=5;;", mustURL(t, "https://example.com/"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []Attr{{"Path", "/"}, {"path", "/x"}, {"Foo", ""}, {"Max-Age", "5"}}
	if len(c.Attrs) != len(want) {
		t.Fatalf("Attrs = %q, want %q", c.Attrs, want)
	}
	for i := range want {
		if c.Attrs[i] != want[i] {
			t.Errorf("Attrs[%d] = %q, want %q", i, c.Attrs[i], want[i])
		}
	}
}

func TestParseSetCookieVoidLines(t *testing.T) {
	for _, line := range []string{"a=b\x00c", "a=b; Path=/\n", "a=\x7f", "", "   ", "=", " = ; Secure"} {
		c, err := ParseSetCookie(line, mustURL(t, "https://example.com/"), testNow)
		if !errors.Is(err, ErrVoidCookie) {
			t.Errorf("ParseSetCookie(%q) error = %v, want ErrVoidCookie", line, err)
		}
		if c.Raw != line || c.Ignored == "" {
			t.Errorf("ParseSetCookie(%q) = Raw %q Ignored %q, want the raw line and a reason", line, c.Raw, c.Ignored)
		}
	}
}

func TestExpiresAtCapsAt400Days(t *testing.T) {
	limit := testNow.Add(400 * 24 * time.Hour)
	tests := []struct {
		line string
		want time.Time
	}{
		{"a=b; Max-Age=3600", testNow.Add(time.Hour)},
		{"a=b; Max-Age=999999999999999999999999", limit},
		{"a=b; Expires=Fri, 01 Jan 2100 00:00:00 GMT", limit},
		{"a=b; Expires=Fri, 01 Jan 2027 00:00:00 GMT", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"a=b", time.Time{}},
		{"a=b; Max-Age=0", time.Unix(0, 0).UTC()},
	}
	for _, tc := range tests {
		c, err := ParseSetCookie(tc.line, nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ExpiresAt(testNow); !got.Equal(tc.want) {
			t.Errorf("%q: ExpiresAt = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestParseSetCookieAgreesWithNetHTTP compares the fields both parsers
// define on lines where RFC 6265bis and net/http agree.
func TestParseSetCookieAgreesWithNetHTTP(t *testing.T) {
	lines := []string{
		"sid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax",
		"theme=dark; Domain=example.com; Max-Age=3600",
		"a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
		"x=y; SameSite=Strict; Path=/app",
		"n=v; Partitioned; Secure",
	}
	for _, line := range lines {
		ours, err := ParseSetCookie(line, mustURL(t, "https://www.example.com/app/page"), testNow)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		if ours.Name != theirs.Name || ours.Value != theirs.Value || ours.Secure != theirs.Secure ||
			ours.HttpOnly != theirs.HttpOnly || ours.Partitioned != theirs.Partitioned {
			t.Errorf("%q: ours %+v, net/http %+v", line, ours, theirs)
		}
		if theirs.Path != "" && ours.Path != theirs.Path {
			t.Errorf("%q: Path %q, net/http %q", line, ours.Path, theirs.Path)
		}
		if theirs.Domain != "" && ours.Domain != strings.TrimPrefix(theirs.Domain, ".") {
			t.Errorf("%q: Domain %q, net/http %q", line, ours.Domain, theirs.Domain)
		}
		if !theirs.Expires.IsZero() && !ours.Expires.Equal(theirs.Expires) {
			t.Errorf("%q: Expires %v, net/http %v", line, ours.Expires, theirs.Expires)
		}
		if theirs.MaxAge > 0 && (ours.MaxAge == nil || *ours.MaxAge != int64(theirs.MaxAge)) {
			t.Errorf("%q: MaxAge %v, net/http %d", line, deref(ours.MaxAge), theirs.MaxAge)
		}
	}
}

func TestParseCookieHeader(t *testing.T) {
	tests := []struct {
		in   string
		want []RequestCookie
	}{
		{"a=1; b=2", []RequestCookie{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}},
		{" sid = x=y ;;", []RequestCookie{{Name: "sid", Value: "x=y", Session: ConfidenceHigh}}},
		{"novalue; c=", []RequestCookie{{Value: "novalue"}, {Name: "c"}}},
		{"", nil},
		{" ; ;", nil},
	}
	for _, tc := range tests {
		got := ParseCookieHeader(tc.in)
		if len(got) != len(tc.want) {
			t.Fatalf("ParseCookieHeader(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseCookieHeader(%q)[%d] = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func FuzzParseSetCookie(f *testing.F) {
	for _, s := range []string{
		"sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
		"__Host-a=b; Secure; Path=/; Domain=",
		"a=b; Max-Age=-1; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
		"=; ;;; =",
		"a=b; Domain=.EXAMPLE.com; Max-Age=99999999999999999999999",
	} {
		f.Add(s, "https://www.example.com/a/b")
	}
	f.Fuzz(func(t *testing.T, line, rawURL string) {
		u, _ := url.Parse(rawURL)
		c, err := ParseSetCookie(line, u, testNow)
		if err != nil {
			if !errors.Is(err, ErrVoidCookie) || c.Ignored == "" {
				t.Fatalf("error %v with Ignored %q", err, c.Ignored)
			}
			return
		}
		if c.Raw != line {
			t.Fatalf("Raw changed")
		}
		if c.HostOnly != (c.Domain == "") {
			t.Fatalf("HostOnly %v with Domain %q", c.HostOnly, c.Domain)
		}
		if !strings.HasPrefix(c.Path, "/") {
			t.Fatalf("Path %q does not start with /", c.Path)
		}
		if c.SameSite != "" && c.SameSite != "Strict" && c.SameSite != "Lax" && c.SameSite != "None" {
			t.Fatalf("SameSite %q", c.SameSite)
		}
		_ = c.ExpiresAt(testNow)
	})
}

func FuzzParseCookieHeader(f *testing.F) {
	for _, s := range []string{"a=1; b=2", "sid=x=y;;", "novalue", " ; = ;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range ParseCookieHeader(v) {
			if c.Name == "" && c.Value == "" {
				t.Fatalf("empty pair returned from %q", v)
			}
			if strings.Contains(c.Name, ";") || strings.Contains(c.Value, ";") {
				t.Fatalf("pair %+v contains ';'", c)
			}
		}
	})
}
