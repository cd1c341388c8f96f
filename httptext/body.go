package httptext

import (
	"fmt"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// isText reports whether body can be shown as text: valid UTF-8 with no
// control characters other than tab, LF and CR. NUL cannot travel in a
// shell argument, and other controls (ESC above all) would act on the
// terminal that prints a curl command or on the editor.
func isText(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	for _, c := range body {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return false
		}
	}
	return true
}

// writeBodyFile stores body in a new file in dir (os.TempDir when dir is
// empty), readable by the owner only because it holds captured traffic,
// and returns its absolute path.
func writeBodyFile(dir, pattern string, body []byte) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("httptext: body file: %w", err)
	}
	name := f.Name()
	_, werr := f.Write(body)
	cerr := f.Close()
	if err := firstErr(werr, cerr); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("httptext: write body file %s: %w", name, err)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return name, nil
	}
	return abs, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
