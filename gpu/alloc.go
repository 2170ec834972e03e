// Package gpu holds the host side of the GPU path: page-aligned staging memory for batches, handed
// out by size-classed pools whose allocations are accounted per purpose.
//
// The default build needs no CUDA: staging memory is ordinary anonymous memory mapped outside the
// Go heap (page-aligned, never moved or scanned by the garbage collector). ONNX Runtime reads and
// writes it in place. A pinned allocator (cuMemHostAlloc, so that the CUDA execution provider's
// host↔device copies are direct DMA) plugs in behind the `cuda` build tag through the Allocator
// interface: a cuda-tagged file sets pinnedAllocator in its init function, and DefaultAllocator
// returns it. Nothing else in the package changes.
package gpu

import (
	"errors"
	"fmt"
	"os"
)

// PageSize is the host page size; every allocation is a multiple of it and page-aligned.
var PageSize = os.Getpagesize()

// Errors of this package; every error returned wraps one of them.
var (
	// ErrOutOfMemory: the allocator could not provide the memory.
	ErrOutOfMemory = errors.New("gpu: out of host memory")
	// ErrLimit: a pool's byte limit would be exceeded.
	ErrLimit = errors.New("gpu: staging limit reached")
	// ErrInvalidSize: a request for zero, negative or absurdly large memory.
	ErrInvalidSize = errors.New("gpu: invalid allocation size")
	// ErrClosed: the pool is closed.
	ErrClosed = errors.New("gpu: pool closed")
	// ErrLeak: buffers were not returned (tracking pools, Check and Close).
	ErrLeak = errors.New("gpu: staging buffers not returned")
)

// MaxAlloc is the largest single allocation a pool accepts (64 GiB): larger requests are bugs.
const MaxAlloc = 64 << 30

// Allocator provides host memory for staging buffers. Implementations must be safe for concurrent
// use.
type Allocator interface {
	// Name says what kind of memory it provides ("host", "pinned"); it labels the metrics.
	Name() string
	// Alloc returns n bytes of page-aligned memory that the Go garbage collector never moves or
	// frees; n is a positive multiple of PageSize. The contents are unspecified.
	Alloc(n int) ([]byte, error)
	// Free returns memory obtained from Alloc; b must be exactly the slice Alloc returned and must
	// not be used afterwards.
	Free(b []byte) error
}

// pinnedAllocator, when set by a cuda-tagged file's init, is the allocator DefaultAllocator
// returns: page-locked memory the CUDA driver can DMA from. It returns an error when no CUDA
// device is usable, in which case DefaultAllocator falls back to HostAllocator.
var pinnedAllocator func() (Allocator, error)

// DefaultAllocator returns the best allocator this build offers: pinned memory when built with the
// `cuda` tag and a device is usable, otherwise HostAllocator. The reason for not using pinned
// memory, if any, is returned with it ("" when pinned memory is used or not built in).
func DefaultAllocator() (Allocator, string) {
	if pinnedAllocator != nil {
		a, err := pinnedAllocator()
		if err == nil {
			return a, ""
		}
		return HostAllocator{}, err.Error()
	}
	return HostAllocator{}, ""
}

// HostAllocator maps anonymous private memory (mmap on Unix): page-aligned, zero-filled when
// first mapped, outside the Go heap.
type HostAllocator struct{}

// Name returns "host".
func (HostAllocator) Name() string { return "host" }

func checkAllocSize(n int) error {
	if n <= 0 || n > MaxAlloc || n%PageSize != 0 {
		return fmt.Errorf("%w: %d bytes (want a positive multiple of the %d-byte page, at most %d)", ErrInvalidSize, n, PageSize, MaxAlloc)
	}
	return nil
}
