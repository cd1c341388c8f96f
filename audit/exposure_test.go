package audit

import (
	"crypto/tls"
	"strings"
	"testing"

	"onpath/flow"
)

func findItem(items []Item, label string) (Item, bool) {
	for _, it := range items {
		if it.Label == label {
			return it, true
		}
	}
	return Item{}, false
}

func TestExposurePlainHTTP(t *testing.T) {
	f := newFlow("http://shop.example/login?next=/home&token=abcdefghijkl",
		reqHeader("Cookie", "sid=abc"), reqHeader("Authorization", "Basic dTpw"),
		reqHeader("X-Api-Key", "k"), reqHeader("Referer", "http://shop.example/"),
		requestBody("POST", "application/x-www-form-urlencoded", "user=bob&password=hunter2"),
		setCookies("sid=new; HttpOnly"))
	f.Client.Addr = "192.0.2.7:50000"
	f.Server.Addr = "198.51.100.4:80"
	v := Exposure(f)
	if len(v.Legs) != 2 || v.Legs[0].Name != LegClient || v.Legs[1].Name != LegServer {
		t.Fatalf("legs = %+v, want client then server", v.Legs)
	}
	for _, leg := range v.Legs {
		if leg.Encrypted || len(leg.Hidden) != 0 {
			t.Errorf("%s: Encrypted=%v Hidden=%v, want plain text with nothing hidden", leg.Name, leg.Encrypted, leg.Hidden)
		}
		sensitive := map[string]bool{
			"Request":                      true,
			"Request header Cookie":        true,
			"Request header Authorization": true,
			"Request header X-Api-Key":     true,
			"Request body":                 true,
			"Response header Set-Cookie":   true,
			"Request header Referer":       false,
			"Request header User-Agent":    false,
			"Response status":              false,
		}
		for label, want := range sensitive {
			it, ok := findItem(leg.Visible, label)
			if !ok {
				t.Errorf("%s: no visible item %q in %+v", leg.Name, label, leg.Visible)
				continue
			}
			if it.Sensitive != want {
				t.Errorf("%s: %q Sensitive = %v, want %v (%+v)", leg.Name, label, it.Sensitive, want, it)
			}
			if it.Sensitive && it.Why == "" {
				t.Errorf("%s: %q is sensitive without a reason", leg.Name, label)
			}
		}
		if it, _ := findItem(leg.Visible, "Request"); !strings.Contains(it.Value, "token=abcdefghijkl") || !strings.Contains(it.Why, "query: token") {
			t.Errorf("%s: request line %+v, want the full URL and the token named", leg.Name, it)
		}
		if it, _ := findItem(leg.Visible, "Request body"); !strings.Contains(it.Why, "form: password") {
			t.Errorf("%s: body item %+v, want the password field named", leg.Name, it)
		}
	}
	if it, ok := findItem(v.Legs[1].Visible, "DNS query"); !ok || it.Value != "shop.example" {
		t.Errorf("server leg DNS item = %+v, want shop.example", it)
	}
	if it, _ := findItem(v.Legs[0].Visible, "Client address"); it.Value != "192.0.2.7:50000" {
		t.Errorf("client address item = %+v", it)
	}
	if !containsLine(v.Active, "rewrite this http://") || !containsLine(v.Active, "collect the cookies without Secure: sid") {
		t.Errorf("active = %q, want rewrite and cookie collection", v.Active)
	}
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func TestExposureTLS12(t *testing.T) {
	f := newFlow("https://shop.example/account?id=7", reqHeader("Cookie", "sid=abc"), noHSTS,
		upstreamTLS(func(t *flow.TLSInfo) {
			t.Version = tls.VersionTLS12
			t.CipherSuite = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
			t.ALPN = "http/1.1"
		}))
	v := Exposure(f)
	server := v.Legs[1]
	if !server.Encrypted || server.TLSVersion != "TLS 1.2" {
		t.Fatalf("server leg Encrypted=%v version %q", server.Encrypted, server.TLSVersion)
	}
	for label, want := range map[string]string{
		"SNI":               "shop.example",
		"Offered ALPN":      "h2, http/1.1",
		"Selected ALPN":     "http/1.1",
		"TLS version":       "TLS 1.2",
		"Cipher suite":      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		"Certificate chain": "CN=shop.example ← CN=Test CA",
	} {
		it, ok := findItem(server.Visible, label)
		if !ok || it.Value != want {
			t.Errorf("visible %q = %+v, want value %q", label, it, want)
		}
	}
	for _, label := range []string{"Request", "Request header Cookie", "Request body", "Response status", "Response body"} {
		if _, ok := findItem(server.Hidden, label); !ok {
			t.Errorf("hidden items lack %q: %+v", label, server.Hidden)
		}
		if _, ok := findItem(server.Visible, label); ok {
			t.Errorf("%q is visible on a TLS leg", label)
		}
	}
	if it, _ := findItem(server.Hidden, "Request"); it.Value != "GET /account?id=7" {
		t.Errorf("hidden request = %q", it.Value)
	}
	if !containsLine(v.Active, "strip TLS on a first http:// visit: shop.example") {
		t.Errorf("active = %q, want SSL stripping (no HSTS)", v.Active)
	}
}

func TestExposureTLS13HidesCertificate(t *testing.T) {
	v := Exposure(newFlow("https://shop.example/"))
	for _, leg := range v.Legs {
		if leg.TLSVersion != "TLS 1.3" {
			t.Errorf("%s: version %q", leg.Name, leg.TLSVersion)
		}
		if _, ok := findItem(leg.Visible, "Certificate chain"); ok {
			t.Errorf("%s: certificate chain visible under TLS 1.3", leg.Name)
		}
		if it, ok := findItem(leg.Hidden, "Certificate chain"); !ok || !strings.Contains(it.Why, "same SNI") {
			t.Errorf("%s: hidden certificate item %+v, want the fetch-it-yourself caveat", leg.Name, it)
		}
		if _, ok := findItem(leg.Hidden, "Selected ALPN"); !ok {
			t.Errorf("%s: selected ALPN should be hidden under TLS 1.3", leg.Name)
		}
		for _, label := range []string{"SNI", "Offered ALPN", "TLS version", "Cipher suite", "Sizes"} {
			if _, ok := findItem(leg.Visible, label); !ok {
				t.Errorf("%s: %q not visible", leg.Name, label)
			}
		}
	}
	if it, _ := findItem(v.Legs[0].Visible, "CONNECT"); it.Value != "shop.example:443" {
		t.Errorf("client leg should show the CONNECT target: %+v", v.Legs[0].Visible)
	}
	if containsLine(v.Active, "strip TLS") {
		t.Errorf("active = %q: HSTS was sent, no stripping", v.Active)
	}
}

func TestExposureNotesECHAndLoopback(t *testing.T) {
	f := newFlow("https://shop.example/")
	f.Client.TLS.ECHAccepted = true
	v := Exposure(f)
	client := v.Legs[0]
	if it, _ := findItem(client.Visible, "SNI"); strings.Contains(it.Value, "shop.example") {
		t.Errorf("ECH leg shows the inner SNI: %+v", it)
	}
	if it, ok := findItem(client.Hidden, "SNI (inner)"); !ok || it.Value != "shop.example" {
		t.Errorf("ECH leg hidden SNI = %+v", it)
	}
	if !containsLine(client.Notes, "Encrypted Client Hello was used") || !containsLine(client.Notes, "loopback") {
		t.Errorf("client notes = %q", client.Notes)
	}
	server := v.Legs[1]
	if !containsLine(server.Notes, "cannot be observed through this proxy") {
		t.Errorf("server notes = %q, want the ECH caveat", server.Notes)
	}
}

func TestExposureMixedLegsAndLocalhost(t *testing.T) {
	// A local upstream: the server leg is loopback, no attacker on the network.
	f := newFlow("http://localhost:8080/x", reqHeader("Cookie", "sid=1"))
	f.Server.Addr = "127.0.0.1:8080"
	v := Exposure(f)
	if !containsLine(v.Legs[1].Notes, "on this machine") {
		t.Errorf("server notes = %q", v.Legs[1].Notes)
	}
	if len(v.Active) != 1 || !strings.Contains(v.Active[0], "none from the network") {
		t.Errorf("active = %q", v.Active)
	}
}

func TestExposureTunnel(t *testing.T) {
	f := &flow.Flow{Kind: flow.KindTunnel, Client: flow.Conn{Addr: "127.0.0.1:1"}, Server: flow.Conn{Addr: "198.51.100.4:443"},
		Request: flow.Request{Method: "CONNECT", URL: "https://pinned.example:443"}, Tunnel: &flow.Tunnel{BytesUp: 100, BytesDown: 2000}}
	v := Exposure(f)
	for _, leg := range v.Legs {
		if it, _ := findItem(leg.Visible, "Sizes"); !strings.Contains(it.Value, "100 bytes up, 2000 bytes down") {
			t.Errorf("%s sizes = %+v", leg.Name, it)
		}
		if !containsLine(leg.Notes, "did not decrypt") {
			t.Errorf("%s notes = %q", leg.Name, leg.Notes)
		}
	}
}

func TestExposureActiveAttacks(t *testing.T) {
	f := newFlow("https://shop.example/", setCookies("__Host-sid=1; Secure; Path=/", "theme=dark; Secure", "lang=en"),
		upstreamTLS(func(t *flow.TLSInfo) {
			t.Version = tls.VersionTLS10
			t.VerifyError = "x509: certificate has expired"
		}))
	v := Exposure(f)
	for _, want := range []string{
		"collect the cookies without Secure: lang",
		"could shadow: theme, lang",
		"impersonate the server: its certificate did not verify (x509: certificate has expired)",
		"deprecated TLS 1.0",
	} {
		if !containsLine(v.Active, want) {
			t.Errorf("active = %q, want a line with %q", v.Active, want)
		}
	}
}
