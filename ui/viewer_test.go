package ui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

func TestListMixedFlows(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts := defaultOptions(st)
	opts.Status = Status{Listen: "127.0.0.1:8080", CAFingerprint: "AB:CD:EF:01:23:45:67:89", QueueDepth: func() int { return 0 }}
	hs := start(t, opts, 120, 16)
	got := hs.golden("list_mixed")
	for _, want := range []string{"127.0.0.1:8080", "CA ABCDEF01", "10 flows", "ERR", "pass", "HIGH"} {
		if !strings.Contains(got, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
}

func TestListKeysMoveSelection(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 16)
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyDown)
	hs.key(tcell.KeyEnter)
	txt := hs.waitText("[1 Request]")
	if !strings.Contains(txt, "#2 GET https://example.org/missing/page") {
		t.Errorf("Home, Down, Enter did not open flow 2:\n%s", txt)
	}
}

func TestDetailTabs(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 30)
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyEnter)
	hs.waitText("[1 Request]")
	names := []string{"request", "response", "cookies", "onpath", "tls", "timing"}
	for i, name := range names {
		hs.runes(string(rune('1' + i)))
		txt := hs.golden("detail_json_" + name)
		if !strings.Contains(txt, "["+string(rune('1'+i))+" ") {
			t.Errorf("key %d did not switch to tab %s", i+1, name)
		}
	}
	// Tab and Shift-Tab cycle.
	hs.key(tcell.KeyTab)
	if txt := hs.text(); !strings.Contains(txt, "[1 Request]") {
		t.Errorf("Tab after the last tab should wrap to Request:\n%s", txt)
	}
	hs.key(tcell.KeyBacktab)
	if txt := hs.text(); !strings.Contains(txt, "[6 Timing]") {
		t.Errorf("Shift-Tab from Request should go to Timing:\n%s", txt)
	}
	hs.key(tcell.KeyEsc)
	hs.waitText("METHOD")
}

func TestCookieBadges(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 120, 40)
	hs.key(tcell.KeyHome)
	hs.runes("jj")
	hs.key(tcell.KeyEnter)
	hs.waitText("#3 GET https://shop.example.com/account")
	hs.runes("3")
	txt := hs.golden("cookies_bad_flags")
	for _, want := range []string{"!HttpOnly", "SameSite=Lax", "!SameSite=None", "!__Host-", "session cookie (high confidence)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("Cookies tab lacks %q", want)
		}
	}
}

func TestPlainHTTPPasswordForm(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 120, 60)
	hs.key(tcell.KeyHome)
	hs.runes("jjjj")
	hs.key(tcell.KeyEnter)
	hs.waitText("#5 POST")
	hs.runes("4")
	txt := hs.golden("onpath_plain_http_login")
	for _, want := range []string{"VISIBLE TO A PASSIVE ATTACKER", "plain text", "password"} {
		if !strings.Contains(txt, want) {
			t.Errorf("On the path tab lacks %q", want)
		}
	}
	// Search jumps to the wire view further down.
	hs.runes("/As it crossed")
	hs.key(tcell.KeyEnter)
	txt = hs.golden("onpath_plain_http_login_wire")
	for _, want := range []string{"hunter2", "POST /login?next=/home&token=s3cr3tt0k3nvalue HTTP/1.1", "Cookie: PHPSESSID="} {
		if !strings.Contains(txt, want) {
			t.Errorf("On the path tab lacks %q", want)
		}
	}
	// The password value is drawn as a secret.
	if role := hs.roleOf("hunter2"); role != hs.v.ui.theme[RoleSecret] {
		t.Errorf("password not highlighted: style %v", role)
	}
	hs.runes("1")
	golden(t, "request_plain_http_login", hs.text())
}
