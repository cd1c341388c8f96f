package store

import "golang.org/x/sys/unix"

// dropMappedPages removes length bytes of a shared file mapping at addr
// from the process's page tables. The data stays in the file and the page
// cache; the next access maps it again.
func dropMappedPages(addr uintptr, length int64) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, uintptr(length), unix.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
