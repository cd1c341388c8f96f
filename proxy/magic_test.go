package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMagicPageServesTheCA(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		url, wantType string
		want          []byte
	}{
		{"http://onpath.invalid/ca.pem", "application/x-pem-file", h.ca.CertPEM()},
		{"http://onpath.invalid/ca.der", "application/pkix-cert", h.ca.CertDER()},
		{"https://onpath.invalid/ca.pem", "application/x-pem-file", h.ca.CertPEM()},
	}
	for _, tt := range tests {
		resp, err := h.client(false).Get(tt.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.wantType || !bytes.Equal(body, tt.want) {
			t.Errorf("%s: got %d %s %d bytes, want 200 %s with the CA", tt.url, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), tt.wantType)
		}
	}
	status, page, _ := getText(t, h.client(false), "http://onpath.invalid/")
	for _, want := range []string{`href="/ca.pem"`, `href="/ca.der"`, "certutil", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "keytool", "--cacert"} {
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("magic page: status %d, missing %q", status, want)
		}
	}
	// Talking to the proxy directly shows the same page.
	status, page, _ = getText(t, http.DefaultClient, "http://"+h.addr+"/")
	if status != 200 || !strings.Contains(page, "ca.pem") {
		t.Errorf("direct page: got %d", status)
	}
	// None of that was recorded: the next flow is a real request.
	url := h.up.HTTP.URL + "/get?after-magic"
	getText(t, h.client(false), url)
	if f := h.nextFlow(); f.Request.URL != url {
		t.Errorf("next flow: got %s, want %s (the magic page must not be recorded)", f.Request.URL, url)
	}
}
