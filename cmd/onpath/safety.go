package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
)

// isLoopbackListen reports whether a listen address only accepts
// connections from this machine.
func isLoopbackListen(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, usagef("--listen %q is not HOST:PORT (for example 127.0.0.1:8080)", addr)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// privateModes are the modes the data dir and its secrets must have.
var privateModes = []struct {
	name string
	mode fs.FileMode
}{
	{"", 0o700},
	{"ca-key.pem", 0o600},
	{"flows.db", 0o600},
}

// tightenModes narrows the data dir and its secret files to their private
// modes, warning about each one it had to change: a wider mode lets other
// users read recorded traffic or the CA key.
func tightenModes(dir string, warn io.Writer) error {
	for _, p := range privateModes {
		path := filepath.Join(dir, p.name)
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&^p.mode == 0 {
			continue
		}
		if err := os.Chmod(path, p.mode); err != nil {
			return fmt.Errorf("%s has mode %04o, readable by other users, and cannot be narrowed to %04o: %v\nFix its owner or mode, then start again.", path, st.Mode().Perm(), p.mode, err)
		}
		fmt.Fprintf(warn, "onpath: warning: %s had mode %04o, open to other users; narrowed it to %04o.\n", path, st.Mode().Perm(), p.mode)
	}
	return nil
}
