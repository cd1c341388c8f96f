// Package tmpfs gives tests a real, small file system to fill up, so that
// "disk full" is the kernel's ENOSPC rather than a simulation.
package tmpfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size bytes (mode 0700) on a new temp dir and
// unmounts it on cleanup, after the test's own later-registered cleanups.
// It skips the test when mounting is not permitted (not root, or no
// CAP_SYS_ADMIN).
func Mount(tb testing.TB, size int64) string {
	tb.Helper()
	dir := tb.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size))
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		tb.Skipf("cannot mount a tmpfs to fill (%v): run as root to test a full disk", err)
	}
	if err != nil {
		tb.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	tb.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			tb.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file in dir until the file system has about spare bytes
// free, and returns its path; removing the file gives the space back.
func Fill(tb testing.TB, dir string, spare int64) string {
	tb.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		tb.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for written := int64(0); written+spare < free; {
		n, err := f.Write(chunk[:min(int64(len(chunk)), free-spare-written)])
		written += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return path
}
