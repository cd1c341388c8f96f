package audit

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"onpath/flow"
)

func TestDecodedBody(t *testing.T) {
	html := "<html>" + strings.Repeat("x", 100) + "</html>"
	gz := gzipped(t, html)
	tests := []struct {
		name     string
		encoding string
		data     []byte
		want     string
		prefix   bool // want is only a prefix bound: got must be a prefix of it
	}{
		{"identity", "", []byte(html), html, false},
		{"gzip", "gzip", gz, html, false},
		{"truncated gzip gives what decoded", "gzip", gz[:len(gz)-12], html, true},
		{"unknown encoding gives nothing", "compress", []byte(html), "", false},
		{"empty", "gzip", nil, "", false},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.encoding != "" {
			h.Set("Content-Encoding", tc.encoding)
		}
		got := string(decodedBody(h, flow.Body{Data: tc.data, Size: int64(len(tc.data))}))
		if tc.prefix {
			if !strings.HasPrefix(tc.want, got) {
				t.Errorf("%s: got %q, want a prefix of %q", tc.name, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	big := make([]byte, MaxScanBytes+10)
	if got := len(decodedBody(http.Header{}, flow.Body{Data: big})); got != MaxScanBytes {
		t.Errorf("body of %d bytes decoded to %d, want the cap %d", len(big), got, MaxScanBytes)
	}
}

func TestBodyFields(t *testing.T) {
	tests := []struct {
		contentType, body string
		want              []string
	}{
		{"application/x-www-form-urlencoded; charset=utf-8", "a=1&pass=x", []string{"form a=1", "form pass=x"}},
		{"application/vnd.api+json", `{"t":"v"}`, []string{"json t=v"}},
		{"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" +
			"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\nfile\r\n--B--\r\n", []string{"multipart a=1"}},
		{"multipart/form-data", "--B\r\n", nil}, // no boundary
		{"text/plain", "password=x", nil},
	}
	for _, tc := range tests {
		var got []string
		h := http.Header{"Content-Type": {tc.contentType}}
		bodyFields(h, flow.Body{Data: []byte(tc.body)}, func(source, name, value string) bool {
			got = append(got, source+" "+name+"="+value)
			return true
		})
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields %q, want %q", tc.contentType, got, tc.want)
		}
	}
}

func TestIsHTML(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html": true, "TEXT/HTML; charset=utf-8": true, "application/xhtml+xml": true,
		"text/plain": false, "": false, "application/json": false,
	} {
		if got := isHTML(ct); got != want {
			t.Errorf("isHTML(%q) = %v, want %v", ct, got, want)
		}
	}
}
