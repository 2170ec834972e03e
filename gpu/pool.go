package gpu

import (
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// Default limits of a pool (PoolOptions zero values).
const (
	// DefaultMaxIdleBytes is how much released memory a pool keeps for reuse before it frees
	// buffers: a few batches of the largest shipped tile size.
	DefaultMaxIdleBytes = 256 << 20
)

// PoolOptions configure NewPool.
type PoolOptions struct {
	// Purpose labels the pool's accounting ("staging-input", "staging-output", …).
	Purpose string
	// Allocator provides the memory; nil means DefaultAllocator().
	Allocator Allocator
	// MaxBytes bounds the memory the pool holds (in use and idle); 0 means no bound. Get fails
	// with ErrLimit when a request does not fit even after freeing idle buffers.
	MaxBytes int64
	// MaxIdleBytes bounds released memory kept for reuse; 0 means DefaultMaxIdleBytes, a negative
	// value keeps none.
	MaxIdleBytes int64
	// Track records where every buffer was taken, so that Check and Close can name the buffers
	// that were never released and any double release. For tests; it costs a stack walk per Get.
	Track bool
}

// Usage is a pool's accounting.
type Usage struct {
	Purpose   string
	Allocator string
	// ReservedBytes is memory obtained from the allocator and not yet freed (in use + idle).
	ReservedBytes int64
	// InUseBytes is the class size of the buffers handed out and not yet released.
	InUseBytes int64
	// IdleBytes is released memory kept for reuse.
	IdleBytes int64
	// Buffers is the number of buffers handed out and not yet released.
	Buffers int
	// Gets counts Get calls that succeeded; Misses those that had to allocate.
	Gets, Misses uint64
	// Failures counts Get calls that failed (limit or allocator).
	Failures uint64
	// DoubleReleases counts Release calls on a buffer already released (a bug in the caller).
	DoubleReleases uint64
}

// Pool hands out page-aligned staging buffers in size classes (powers of two and 1.5× steps, at
// least one page), reusing released ones. It is safe for concurrent use.
type Pool struct {
	purpose  string
	alloc    Allocator
	maxBytes int64
	maxIdle  int64
	track    bool

	mu          sync.Mutex
	closed      bool
	idle        map[int][]*Buffer // released buffers by class size
	usage       Usage
	outstanding map[*Buffer]struct{} // tracking only
	violations  []string             // tracking only: double releases
}

// NewPool returns an empty pool.
func NewPool(o PoolOptions) *Pool {
	a := o.Allocator
	if a == nil {
		a, _ = DefaultAllocator()
	}
	idle := o.MaxIdleBytes
	switch {
	case idle == 0:
		idle = DefaultMaxIdleBytes
	case idle < 0:
		idle = 0
	}
	p := &Pool{purpose: o.Purpose, alloc: a, maxBytes: o.MaxBytes, maxIdle: idle, track: o.Track,
		idle: map[int][]*Buffer{}}
	p.usage.Purpose, p.usage.Allocator = o.Purpose, a.Name()
	if o.Track {
		p.outstanding = map[*Buffer]struct{}{}
	}
	return p
}

// Buffer is one staging buffer from a Pool.
//
// Ownership: the caller of Pool.Get owns the buffer and is the only one who may read or write it,
// or hand its memory to ONNX Runtime or a network write, until it calls Release; after Release the
// memory belongs to the pool and may be given to another caller at once, so no slice obtained from
// Bytes or Float32s may be used any more. Contents are unspecified when the buffer is handed out
// (not zeroed). Release exactly once; a second Release is counted (Usage.DoubleReleases) and, in a
// tracking pool, reported by Check.
type Buffer struct {
	pool  *Pool
	mem   []byte // the whole class-sized allocation
	n     int    // requested length
	held  bool   // guarded by pool.mu
	stack []uintptr
}

// Len returns the requested length in bytes.
func (b *Buffer) Len() int { return b.n }

// Bytes returns the buffer's memory: Len bytes, page-aligned.
func (b *Buffer) Bytes() []byte { return b.mem[:b.n:b.n] }

// Float32s returns the buffer viewed as Len/4 float32 values.
func (b *Buffer) Float32s() []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b.mem))), b.n/4)
}

// Release gives the buffer back to its pool (see Buffer for the rules).
func (b *Buffer) Release() { b.pool.put(b) }

// ClassSize returns the allocation size used for a request of n bytes (n > 0).
func ClassSize(n int) int {
	if n <= PageSize {
		return PageSize
	}
	p := 1 << bits.Len(uint(n-1)) // the power of two ≥ n
	if three := p / 4 * 3; p >= 4*PageSize && n <= three {
		return three
	}
	return p
}

// Get returns a buffer of n bytes.
func (p *Pool) Get(n int) (*Buffer, error) {
	if n <= 0 || n > MaxAlloc {
		return nil, fmt.Errorf("%w: %s buffer of %d bytes", ErrInvalidSize, p.purpose, n)
	}
	class := ClassSize(n)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrClosed, p.purpose)
	}
	if list := p.idle[class]; len(list) > 0 {
		b := list[len(list)-1]
		p.idle[class] = list[:len(list)-1]
		p.usage.IdleBytes -= int64(class)
		p.handOut(b, n)
		p.mu.Unlock()
		return b, nil
	}
	var freed [][]byte
	if p.maxBytes > 0 {
		// Make room by freeing idle buffers of other classes, largest first.
		for p.usage.ReservedBytes+int64(class) > p.maxBytes && p.usage.IdleBytes > 0 {
			freed = append(freed, p.dropIdleLocked())
		}
		if p.usage.ReservedBytes+int64(class) > p.maxBytes {
			p.usage.Failures++
			u := p.usage
			p.mu.Unlock()
			p.free(freed)
			return nil, fmt.Errorf("%w: %s needs %d more bytes; %d of %d are reserved (%d in use by %d buffers)",
				ErrLimit, p.purpose, class, u.ReservedBytes, p.maxBytes, u.InUseBytes, u.Buffers)
		}
	}
	p.usage.ReservedBytes += int64(class) // reserved before the allocator runs, unlocked
	p.mu.Unlock()
	p.free(freed)

	mem, err := p.alloc.Alloc(class)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.usage.ReservedBytes -= int64(class)
		p.usage.Failures++
		return nil, fmt.Errorf("%s buffer of %d bytes: %w", p.purpose, class, err)
	}
	p.usage.Misses++
	b := &Buffer{pool: p, mem: mem}
	p.handOut(b, n)
	return b, nil
}

// handOut marks b as owned by a caller. p.mu is held.
func (p *Pool) handOut(b *Buffer, n int) {
	b.n, b.held = n, true
	p.usage.Gets++
	p.usage.Buffers++
	p.usage.InUseBytes += int64(len(b.mem))
	if p.track {
		pcs := make([]uintptr, 16)
		b.stack = pcs[:runtime.Callers(3, pcs)]
		p.outstanding[b] = struct{}{}
	}
}

// dropIdleLocked removes the largest idle buffer and returns its memory for freeing.
func (p *Pool) dropIdleLocked() []byte {
	largest := 0
	for c, list := range p.idle {
		if len(list) > 0 && c > largest {
			largest = c
		}
	}
	list := p.idle[largest]
	b := list[len(list)-1]
	p.idle[largest] = list[:len(list)-1]
	p.usage.IdleBytes -= int64(largest)
	p.usage.ReservedBytes -= int64(largest)
	return b.mem
}

func (p *Pool) put(b *Buffer) {
	p.mu.Lock()
	if !b.held {
		p.usage.DoubleReleases++
		if p.track {
			p.violations = append(p.violations, "released twice: buffer taken at\n"+formatStack(b.stack)+
				"released again at\n"+formatStack(callers(3)))
		}
		p.mu.Unlock()
		return
	}
	class := len(b.mem)
	b.held = false
	p.usage.Buffers--
	p.usage.InUseBytes -= int64(class)
	if p.track {
		delete(p.outstanding, b)
	}
	if p.closed || p.usage.IdleBytes+int64(class) > p.maxIdle {
		p.usage.ReservedBytes -= int64(class)
		p.mu.Unlock()
		p.free([][]byte{b.mem})
		return
	}
	p.idle[class] = append(p.idle[class], b)
	p.usage.IdleBytes += int64(class)
	p.mu.Unlock()
}

func (p *Pool) free(mems [][]byte) {
	for _, m := range mems {
		// A failing munmap leaks address space but nothing else; there is no one to report it to
		// but the accounting, which already dropped the bytes.
		_ = p.alloc.Free(m)
	}
}

// Usage returns the pool's accounting.
func (p *Pool) Usage() Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.usage
}

// Trim frees every idle buffer.
func (p *Pool) Trim() {
	p.mu.Lock()
	var freed [][]byte
	for p.usage.IdleBytes > 0 {
		freed = append(freed, p.dropIdleLocked())
	}
	p.mu.Unlock()
	p.free(freed)
}

// Check reports buffers not released and double releases (with the stacks where the buffers were
// taken in a tracking pool) as an error wrapping ErrLeak; nil when every buffer came back.
func (p *Pool) Check() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.usage.Buffers == 0 && p.usage.DoubleReleases == 0 {
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s pool: %d buffers (%d bytes) not released, %d double releases", p.purpose,
		p.usage.Buffers, p.usage.InUseBytes, p.usage.DoubleReleases)
	if p.track {
		stacks := make([]string, 0, len(p.outstanding))
		for b := range p.outstanding {
			stacks = append(stacks, fmt.Sprintf("buffer of %d bytes taken at\n%s", b.n, formatStack(b.stack)))
		}
		sort.Strings(stacks)
		for _, s := range stacks {
			sb.WriteString("\n")
			sb.WriteString(s)
		}
		for _, v := range p.violations {
			sb.WriteString("\n")
			sb.WriteString(v)
		}
	}
	return fmt.Errorf("%w: %s", ErrLeak, sb.String())
}

// Close frees the idle buffers and refuses further Gets. Buffers still held are freed when they
// are released; Close then returns the Check error that names them.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Trim()
	return p.Check()
}

func callers(skip int) []uintptr {
	pcs := make([]uintptr, 16)
	return pcs[:runtime.Callers(skip+1, pcs)]
}

func formatStack(pcs []uintptr) string {
	var sb strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		fmt.Fprintf(&sb, "\t%s\n\t\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return sb.String()
}
