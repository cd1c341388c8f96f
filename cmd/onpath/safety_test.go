package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteListenIsRefused(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0"} {
		_, errOut, code := cli(t, "--no-ui", "--listen", addr, "--dir", t.TempDir())
		if code != exitUsage || !strings.Contains(errOut, "--allow-remote") {
			t.Errorf("--listen %s: exit %d, %q; want a refusal naming --allow-remote", addr, code, errOut)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "127.5.6.7:1"} {
		if ok, err := isLoopbackListen(addr); !ok || err != nil {
			t.Errorf("isLoopbackListen(%s) = %v, %v; want true", addr, ok, err)
		}
	}
}

func TestWideModesAreNarrowedAtStart(t *testing.T) {
	p := startProxy(t, "")
	p.stop(t)
	for _, name := range []string{"flows.db", "ca-key.pem"} {
		os.Chmod(filepath.Join(p.dir, name), 0o644)
	}
	os.Chmod(p.dir, 0o755)
	q := startProxy(t, p.dir)
	for name, want := range map[string]os.FileMode{"": 0o700, "flows.db": 0o600, "ca-key.pem": 0o600} {
		st, err := os.Stat(filepath.Join(p.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %04o after start, want %04o", name, st.Mode().Perm(), want)
		}
	}
	if got := q.stderr.String(); strings.Count(got, "narrowed it to") != 3 {
		t.Errorf("want one warning per narrowed file, got:\n%s", got)
	}
}

func TestCorruptStoreIsRefusedAndLeftAlone(t *testing.T) {
	p := startProxy(t, "")
	p.stop(t)
	path := filepath.Join(p.dir, "flows.db")
	for name, content := range map[string][]byte{
		"not a bbolt file": []byte("#!/bin/sh\necho this is not a flow store\n"),
		"truncated store":  truncatedCopy(t, path),
	} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := cli(t, "--no-ui", "--listen", "127.0.0.1:0", "--dir", p.dir)
		if code != exitFailure || !strings.Contains(errOut, "not a readable onpath flow store") || !strings.Contains(errOut, "mv "+path) {
			t.Errorf("%s: exit %d, stderr %q; want a failure saying what to do", name, code, errOut)
		}
		if got, _ := os.ReadFile(path); string(got) != string(content) {
			t.Errorf("%s: the file was changed", name)
		}
		if _, errOut, code := cli(t, "flows", "--dir", p.dir); code != exitFailure || !strings.Contains(errOut, "not a readable") {
			t.Errorf("%s: flows: exit %d, %q", name, code, errOut)
		}
	}
}

func truncatedCopy(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The two meta pages survive (bbolt's page size is the OS's); the
	// pages they point to are gone. The file itself may run past the
	// pages in use, so a cut by fraction might miss them.
	return data[:2*os.Getpagesize()+100]
}
