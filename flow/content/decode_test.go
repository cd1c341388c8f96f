package content

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

func compress(t *testing.T, coding string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "rawdeflate":
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	case "br":
		w = brotli.NewWriter(&buf)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("no compressor for %q", coding)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeEachCoding(t *testing.T) {
	plain := bytes.Repeat([]byte("hello onpath "), 100)
	tests := []struct{ header, compressor string }{
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"deflate", "deflate"},
		{"deflate", "rawdeflate"},
		{"br", "br"},
		{"zstd", "zstd"},
		{"GZIP ", "gzip"},
	}
	for _, tt := range tests {
		got, err := Decode(tt.header, compress(t, tt.compressor, plain), 0)
		if err != nil {
			t.Errorf("Decode(%q): %v", tt.header, err)
			continue
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Decode(%q) = %d bytes, want the %d original bytes", tt.header, len(got), len(plain))
		}
	}
}

func TestDecodeStackedCodings(t *testing.T) {
	plain := []byte(`{"stacked":true}`)
	raw := compress(t, "br", compress(t, "gzip", plain)) // gzip applied first, then br
	got, err := Decode("gzip, br", raw, 0)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Decode(gzip, br) = %q, %v; want %q", got, err, plain)
	}
}

func TestDecodeIdentityAndUnknown(t *testing.T) {
	raw := []byte("as is")
	if got, err := Decode("", raw, 0); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("Decode(\"\") = %q, %v", got, err)
	}
	if got, err := Decode("identity", raw, 0); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("Decode(identity) = %q, %v", got, err)
	}
	if _, err := Decode("compress", raw, 0); !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("Decode(compress) error = %v, want ErrUnknownEncoding", err)
	}
}

func TestDecodeBombIsBounded(t *testing.T) {
	bomb := bytes.Repeat([]byte{0}, 50<<20) // 50 MiB of zeros compresses to ~50 KiB
	for _, coding := range []string{"gzip", "br", "zstd", "deflate"} {
		raw := compress(t, coding, bomb)
		got, err := Decode(coding, raw, 1<<20)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: error = %v, want ErrTooLarge", coding, err)
		}
		if len(got) != 1<<20 {
			t.Errorf("%s: returned %d bytes, want exactly the 1 MiB limit", coding, len(got))
		}
	}
}

func TestDecodeTruncatedKeepsPrefix(t *testing.T) {
	plain := bytes.Repeat([]byte("0123456789"), 10000)
	raw := compress(t, "gzip", plain)
	got, err := Decode("gzip", raw[:len(raw)/2], 0)
	if err == nil {
		t.Fatal("Decode of half a gzip stream succeeded, want an error")
	}
	if len(got) == 0 || !bytes.Equal(got, plain[:len(got)]) {
		t.Errorf("got %d bytes that are not a prefix of the original", len(got))
	}
}
