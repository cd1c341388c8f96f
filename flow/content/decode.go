package content

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// maxZstdWindow bounds the memory a zstd frame may ask for; a frame that
// declares a larger window is refused instead of decoded.
const maxZstdWindow = 128 << 20

// DefaultLimit bounds decoded output when a caller has no better figure.
const DefaultLimit = 64 << 20

var (
	// ErrTooLarge means the decoded body exceeds the limit; the bytes
	// returned alongside are the first limit bytes.
	ErrTooLarge = errors.New("decoded body exceeds the limit")
	// ErrUnknownEncoding means a Content-Encoding this package cannot decode.
	ErrUnknownEncoding = errors.New("unknown content encoding")
)

// Decode undoes the Content-Encoding header value encoding (a
// comma-separated list, applied in order, so undone in reverse) on raw.
// The output never exceeds limit bytes (limit <= 0 means DefaultLimit).
// On ErrTooLarge the first limit decoded bytes are returned; on any other
// error the bytes decoded so far are returned, so a truncated capture still
// shows its beginning.
func Decode(encoding string, raw []byte, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	codings := Codings(encoding)
	out := raw
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		out, err = decodeOne(codings[i], out, limit)
		if err != nil {
			return out, err
		}
	}
	if int64(len(out)) > limit {
		return out[:limit], ErrTooLarge
	}
	return out, nil
}

// Codings splits a Content-Encoding value into lowercase codings, dropping
// "identity" and empty entries.
func Codings(encoding string) []string {
	var codings []string
	for c := range strings.SplitSeq(encoding, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			codings = append(codings, c)
		}
	}
	return codings
}

func decodeOne(coding string, raw []byte, limit int64) ([]byte, error) {
	var r io.Reader
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("content: gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	case "deflate":
		// RFC 9110 says deflate is zlib-wrapped; some servers send raw
		// deflate anyway, as browsers accept both.
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			fr := flate.NewReader(bytes.NewReader(raw))
			defer fr.Close()
			r = fr
		} else {
			defer zr.Close()
			r = zr
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(raw))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("content: zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		return raw, fmt.Errorf("content: %q: %w", coding, ErrUnknownEncoding)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	out := buf.Bytes()
	if n > limit {
		return out[:limit], ErrTooLarge
	}
	if err != nil {
		return out, fmt.Errorf("content: %s: %w", coding, err)
	}
	return out, nil
}
