package ca

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileExclusive(t *testing.T) {
	for _, perm := range []fs.FileMode{0o600, 0o644} {
		t.Run(perm.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.pem")
			if err := writeFileExclusive(path, []byte("first"), perm); err != nil {
				t.Fatalf("first write: %v", err)
			}
			if got := mode(t, path); got != perm {
				t.Errorf("mode = %v, want %v", got, perm)
			}
			err := writeFileExclusive(path, []byte("second"), perm)
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("second write: err = %v, want fs.ErrExist", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "first" {
				t.Errorf("content = %q, want %q (never overwritten)", got, "first")
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("dir holds %v, want only f.pem (temporary files removed)", names)
			}
		})
	}
}

func TestWriteFileExclusiveMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "f.pem")
	if err := writeFileExclusive(path, []byte("x"), 0o600); err == nil {
		t.Fatalf("write into a missing directory succeeded")
	}
}

func TestEnsureDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "b")
	created, err := ensureDir(dir)
	if err != nil || !created {
		t.Fatalf("ensureDir(new) = %v, %v; want true, nil", created, err)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("mode = %v, want 0700", got)
	}
	// An existing directory is left as the user made it.
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	created, err = ensureDir(dir)
	if err != nil || created {
		t.Fatalf("ensureDir(existing) = %v, %v; want false, nil", created, err)
	}
	if got := mode(t, dir); got != 0o750 {
		t.Errorf("existing dir mode = %v, want 0750 untouched", got)
	}
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureDir(file); err == nil {
		t.Errorf("ensureDir(regular file) succeeded")
	}
}
