package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"onpath/proxy"
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

// checkRemoteListen enforces the safe default: a listener other machines
// can reach needs both --allow-remote and --proxy-auth, or anyone who
// reaches it could use it as an open proxy and read what it records. It
// returns the parsed credentials (nil without --proxy-auth), which are
// also accepted on loopback.
func checkRemoteListen(listen string, allowRemote bool, proxyAuth string) (*proxy.BasicAuth, error) {
	loopback, err := isLoopbackListen(listen)
	if err != nil {
		return nil, err
	}
	var auth *proxy.BasicAuth
	if proxyAuth != "" {
		user, pass, ok := strings.Cut(proxyAuth, ":")
		if !ok || user == "" || pass == "" {
			return nil, usagef("--proxy-auth wants USER:PASS, both non-empty (for example --proxy-auth dev:%s)", "a-long-random-password")
		}
		auth = &proxy.BasicAuth{User: user, Password: pass}
	}
	if loopback {
		return auth, nil
	}
	const why = "that address is reachable from other machines, and anyone who reaches the proxy could use it and read what it records"
	switch {
	case !allowRemote && auth == nil:
		return nil, usagef("refusing to listen on %s: %s.\n"+
			"Listen on loopback (--listen 127.0.0.1:8080), or pass --allow-remote together with --proxy-auth user:pass", listen, why)
	case !allowRemote:
		return nil, usagef("refusing to listen on %s: %s.\n"+
			"--proxy-auth alone is not enough: pass --allow-remote too to confirm, or listen on loopback (--listen 127.0.0.1:8080)", listen, why)
	case auth == nil:
		return nil, usagef("refusing to listen on %s: %s.\n"+
			"--allow-remote needs --proxy-auth user:pass, so that only clients with the credentials can use the proxy", listen, why)
	}
	return auth, nil
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
