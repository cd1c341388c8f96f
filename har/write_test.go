package har

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// exportDoc writes flows and decodes the result into a generic tree.
func exportDoc(t *testing.T, opts Options) ([]byte, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, sampleFlows(t), opts); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	return buf.Bytes(), doc
}

func TestDump(t *testing.T) {
	b, _ := exportDoc(t, Options{Version: "test", Findings: true})
	os.WriteFile("/tmp/onpath-har-dump.har", b, 0o600)
}
