package testupstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStartServesHTTPBinOverBothSchemes(t *testing.T) {
	u := Start(t)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: u.Roots},
		ForceAttemptHTTP2: true,
	}}
	for _, base := range []string{u.HTTP.URL, u.HTTPS.URL} {
		resp, err := client.Get(base + "/get")
		if err != nil {
			t.Fatalf("GET %s/get: %v", base, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"url"`) {
			t.Errorf("GET %s/get: got %d %q, want 200 with httpbin JSON", base, resp.StatusCode, body)
		}
		if strings.HasPrefix(base, "https") && resp.Proto != "HTTP/2.0" {
			t.Errorf("GET %s/get: got proto %s, want HTTP/2.0", base, resp.Proto)
		}
	}
}

func TestStartBadCertFailsVerificationForTheRightReason(t *testing.T) {
	tests := []struct {
		kind BadCert
		want func(error) bool
	}{
		{Expired, func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}},
		{WrongHost, func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		}},
		{SelfSigned, func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			srv := StartBadCert(t, tt.kind)
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: Roots()}}}
			resp, err := client.Get(srv.URL + "/get")
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET succeeded, want a %s verification error", tt.kind)
			}
			if !tt.want(err) {
				t.Errorf("got error %v, want a %s verification error", err, tt.kind)
			}
		})
	}
}
