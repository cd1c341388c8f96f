package audit

import (
	"slices"
	"testing"
)

func TestCookiesRows(t *testing.T) {
	f := newFlow("http://shop.example/",
		reqHeader("Cookie", "sid=abc; theme=dark"),
		setCookies("sid=new; Path=/", "lang=en; Secure", "bad\x01=x"))
	findings := Findings(f, testNow)
	rows := Cookies(f, findings, testNow)
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	if want := []string{"sid", "theme", "sid", "lang", ""}; !slices.Equal(names, want) {
		t.Fatalf("row names = %q, want %q", names, want)
	}
	rules := func(r CookieRow) []string {
		var out []string
		for _, f := range r.Findings {
			out = append(out, f.Rule)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		row      int
		sent     bool
		session  Confidence
		wantRule []string
	}{
		{0, true, ConfidenceHigh, []string{"CK12"}},
		{1, true, ConfidenceNone, []string{"CK12"}},
		{2, false, ConfidenceHigh, []string{"CK02", "CK04", "CK05"}},
		{3, false, ConfidenceNone, []string{"CK01", "CK04", "CK05"}},
		{4, false, ConfidenceNone, nil},
	}
	for _, tc := range tests {
		r := rows[tc.row]
		if r.Sent != tc.sent || (r.Sent && r.Request == nil) || (!r.Sent && r.Set == nil) {
			t.Errorf("row %d: Sent=%v Request=%v Set=%v", tc.row, r.Sent, r.Request, r.Set)
		}
		if got := r.Session(); got != tc.session {
			t.Errorf("row %d (%s): session %q, want %q", tc.row, r.Name, got, tc.session)
		}
		if got := rules(r); !slices.Equal(got, tc.wantRule) {
			t.Errorf("row %d (%s): rules %q, want %q", tc.row, r.Name, got, tc.wantRule)
		}
	}
	if rows[4].Set.Ignored == "" {
		t.Errorf("void line row should say why it is ignored: %+v", rows[4].Set)
	}
	if rows[2].Set.Path != "/" || rows[3].Set.Ignored == "" {
		t.Errorf("set rows not parsed: %+v / %+v", rows[2].Set, rows[3].Set)
	}
}
