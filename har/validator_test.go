package har

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// validatorScript checks a HAR on stdin with the npm package har-validator
// (HAR 1.2 JSON schema), loaded from $HAR_NODE_MODULES.
const validatorScript = `
const path = require('path');
const validator = require(path.join(process.env.HAR_NODE_MODULES, 'har-validator'));
const har = JSON.parse(require('fs').readFileSync(0, 'utf8'));
validator.har(har).then(
  () => console.log('valid'),
  (e) => { console.error(JSON.stringify(e.errors || e.message, null, 1)); process.exit(1); });
`

// nodeModules finds the folder holding har-validator: $ONPATH_NODE_MODULES,
// else .cache/node/node_modules under the module root.
func nodeModules(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("ONPATH_NODE_MODULES"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "node", "node_modules")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// findValidator returns node and the node_modules holding har-validator,
// or why the schema check cannot run.
func findValidator(t *testing.T) (node, modules, why string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		return "", "", "node is not installed: the HAR schema check with har-validator is skipped"
	}
	modules = nodeModules(t)
	if _, err := os.Stat(filepath.Join(modules, "har-validator", "package.json")); err != nil {
		root := strings.TrimSuffix(modules, string(filepath.Separator)+"node_modules")
		why = fmt.Sprintf("node is installed but har-validator is not in %s; install it with:\n"+
			"  npm install --prefix %s har-validator@5.1.5\n(or set ONPATH_NODE_MODULES to a node_modules holding it)", modules, root)
		// .ci/run installs it, so in CI its absence is a failure; a fresh
		// checkout's plain `go test ./...` skips it rather than fail on a
		// download no test may make.
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		return "", "", why
	}
	return node, modules, ""
}

func TestExportPassesHARValidator(t *testing.T) {
	node, modules, why := findValidator(t)
	if why != "" {
		t.Skip(why)
	}
	for _, opts := range []Options{{Version: "1.0", Findings: true}, {}} {
		var buf bytes.Buffer
		if err := Write(&buf, sampleFlows(t), opts); err != nil {
			t.Fatal(err)
		}
		validate(t, node, modules, buf.Bytes())
	}
	// An empty export is a valid HAR too.
	var empty bytes.Buffer
	if err := Write(&empty, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	validate(t, node, modules, empty.Bytes())
}

func validate(t *testing.T, node, modules string, har []byte) {
	t.Helper()
	cmd := exec.Command(node, "-e", validatorScript)
	cmd.Env = append(os.Environ(), "HAR_NODE_MODULES="+modules)
	cmd.Stdin = bytes.NewReader(har)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("har-validator rejects the export (%v):\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != "valid" {
		t.Fatalf("har-validator printed %q, want \"valid\"", got)
	}
}

// Flows imported from other tools export as valid HAR too, and read back
// the same.
func TestForeignImportReexports(t *testing.T) {
	node, modules, why := findValidator(t)
	for _, name := range []string{"chrome.har", "firefox.har", "charles.har"} {
		t.Run(name, func(t *testing.T) {
			flows := readFixture(t, name)
			var buf bytes.Buffer
			if err := Write(&buf, flows, Options{}); err != nil {
				t.Fatal(err)
			}
			if why == "" {
				validate(t, node, modules, buf.Bytes())
			}
			again, err := Read(bytes.NewReader(buf.Bytes()), "fixture", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(again) != len(flows) {
				t.Fatalf("read back %d flows, want %d", len(again), len(flows))
			}
			for i := range flows {
				flows[i].Timings, again[i].Timings = sameLocation(flows[i].Timings), sameLocation(again[i].Timings)
				if !reflect.DeepEqual(again[i], flows[i]) {
					t.Errorf("flow %d:\ngot  %+v\nwant %+v", i, again[i], flows[i])
				}
			}
		})
	}
}
