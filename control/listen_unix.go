package control

import (
	"net"
	"syscall"
)

// listenPrivate listens on a unix socket created under umask 077. The
// umask is process-wide, so this runs once at start-up, before any other
// goroutine creates files.
func listenPrivate(path string) (net.Listener, error) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}
