//go:build !unix

package gpu

import "unsafe"

// Alloc returns page-aligned Go memory (no mmap on this platform). The garbage collector does not
// move Go heap objects; ONNX Runtime's use of it is covered by ortexec pinning its buffers.
func (HostAllocator) Alloc(n int) ([]byte, error) {
	if err := checkAllocSize(n); err != nil {
		return nil, err
	}
	raw := make([]byte, n+PageSize)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % uintptr(PageSize)); r != 0 {
		off = PageSize - r
	}
	return raw[off : off+n : off+n], nil
}

// Free drops the reference; the garbage collector reclaims the memory.
func (HostAllocator) Free([]byte) error { return nil }
