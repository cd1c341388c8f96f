package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"testing"
)

// TestMain lets the test binary act as the proxy child.
func TestMain(m *testing.M) {
	if roots := os.Getenv(childEnv); roots != "" {
		if err := runChild(roots, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLoadTestRunsEveryPhaseWithoutLosingFlows(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-duration", "100ms", "-rounds", "1", "-concurrency", "4", "-hosts", "3", "-size", "1", "-max-requests", "200"}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"http keep-alive", "https keep-alive", "https new conn", "first request to 3 new hosts", "download 1 MiB", "upload 1 MiB"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	lost := regexp.MustCompile(`sent (\d+), recorded (\d+), lost (\d+)`).FindStringSubmatch(text)
	if lost == nil || lost[3] != "0" || lost[1] != lost[2] {
		t.Errorf("flows line: got %q, want every flow recorded:\n%s", lost, text)
	}
	if !regexp.MustCompile(`peak RSS while streaming \d+\.\d MiB`).MatchString(text) {
		t.Errorf("no RSS figure:\n%s", text)
	}
}
