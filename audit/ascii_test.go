package audit

import "testing"

func TestASCIIHelpers(t *testing.T) {
	if !hasPrefixFold("__SECURE-x", "__Secure-") || hasPrefixFold("__Sec", "__Secure-") {
		t.Error("hasPrefixFold")
	}
	if !hasSuffixFold("userSID", "sid") || hasSuffixFold("id", "sid") {
		t.Error("hasSuffixFold")
	}
	if !containsFold("X-Auth-Token", "token") || containsFold("tok", "token") || !containsFold("x", "") {
		t.Error("containsFold")
	}
	if got := trimWSP(" \t a b \t"); got != "a b" {
		t.Errorf("trimWSP = %q", got)
	}
	if b, a, ok := cutByte("k=v=w", '='); b != "k" || a != "v=w" || !ok {
		t.Errorf("cutByte = %q %q %v", b, a, ok)
	}
	if b, a, ok := cutByte("kv", '='); b != "kv" || a != "" || ok {
		t.Errorf("cutByte without separator = %q %q %v", b, a, ok)
	}
}
