package ui

import (
	"testing"
)

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"esc\x1b[2Jclear", "esc·[2Jclear"},
		{"tab\there", "tab    here"},
		{"bad\xffutf8", "bad·utf8"},
	}
	for _, tc := range tests {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShortenMiddle(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"/short", 10, "/short"},
		{"/exactly10", 10, "/exactly10"},
		{"/a/very/long/path/index.html", 12, "/a/…dex.html"},
		{"/a/very/long/path/index.html", 1, "…"},
		{"/a/very/long/path/index.html", 0, ""},
		{"/ünïcödé/päth/ñame", 8, "/ü…/ñame"},
	}
	for _, tc := range tests {
		got := shortenMiddle(tc.in, tc.width)
		if got != tc.want {
			t.Errorf("shortenMiddle(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
		if n := len([]rune(got)); n > tc.width && tc.width > 0 {
			t.Errorf("shortenMiddle(%q, %d) is %d runes wide", tc.in, tc.width, n)
		}
	}
}

func TestFitAndPad(t *testing.T) {
	tests := []struct {
		in          string
		width       int
		fit, fitRgt string
	}{
		{"abc", 5, "abc  ", "  abc"},
		{"abcdef", 4, "abc…", "abc…"},
		{"abc", 0, "", ""},
		{"äöü", 3, "äöü", "äöü"},
	}
	for _, tc := range tests {
		if got := fit(tc.in, tc.width); got != tc.fit {
			t.Errorf("fit(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.fit)
		}
		if got := fitRight(tc.in, tc.width); got != tc.fitRgt {
			t.Errorf("fitRight(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.fitRgt)
		}
	}
	l := Line{{Text: "ab", Role: RoleKey}, {Text: "cdef"}}
	if got := padLine(l, 4, RoleNormal).String(); got != "abcd" {
		t.Errorf("padLine cut = %q, want abcd", got)
	}
	if got := padLine(l, 8, RoleNormal).String(); got != "abcdef  " {
		t.Errorf("padLine pad = %q, want %q", got, "abcdef  ")
	}
}
