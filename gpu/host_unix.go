//go:build unix

package gpu

import (
	"fmt"
	"syscall"
)

// Alloc maps n bytes of anonymous memory.
func (HostAllocator) Alloc(n int) ([]byte, error) {
	if err := checkAllocSize(n); err != nil {
		return nil, err
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("%w: mmap %d bytes: %w", ErrOutOfMemory, n, err)
	}
	return b, nil
}

// Free unmaps memory returned by Alloc.
func (HostAllocator) Free(b []byte) error {
	if err := syscall.Munmap(b); err != nil {
		return fmt.Errorf("gpu: munmap %d bytes: %w", len(b), err)
	}
	return nil
}
