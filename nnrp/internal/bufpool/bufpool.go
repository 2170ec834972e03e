// Package bufpool provides size-classed, reference-counted byte buffers for
// received packets. A packet buffer is shared by the decoder, the session
// layer and the application (the tensor view aliases it), so it is returned
// to the pool only when the last holder releases it.
package bufpool

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
)

const (
	minClassShift = 9  // 512 B
	maxClassShift = 26 // 64 MiB, the largest packet the protocol allows
	numClasses    = maxClassShift - minClassShift + 1
)

// Buf is a pooled buffer. B has the requested length; its capacity is the
// size class. Holders call Retain before sharing and Release when done; B
// must not be used after the holder's Release.
type Buf struct {
	B     []byte
	refs  atomic.Int32
	class int8
	pool  *Pool
}

// Retain adds a holder. Retaining a released buffer panics without
// touching its count, so the buffer's state stays as it was.
func (b *Buf) Retain() {
	for {
		n := b.refs.Load()
		if n <= 0 {
			panic("bufpool: Retain of a released buffer")
		}
		if b.refs.CompareAndSwap(n, n+1) {
			return
		}
	}
}

// Release drops a holder; the last Release returns the buffer to its pool.
// Releasing more often than retained panics: it is a use-after-free bug.
func (b *Buf) Release() {
	switch n := b.refs.Add(-1); {
	case n == 0:
		b.pool.put(b)
	case n < 0:
		panic("bufpool: Release of a released buffer")
	}
}

// Pool is a set of size-classed buffer pools. The zero value is ready to use.
type Pool struct {
	classes     [numClasses]sync.Pool
	outstanding atomic.Int64 // buffers handed out and not yet returned
	bytes       atomic.Int64 // capacity of those buffers
}

// Get returns a buffer of length n with one holder. n must be at most 64 MiB.
func (p *Pool) Get(n int) *Buf {
	c := classOf(n)
	if c < 0 {
		panic(fmt.Sprintf("bufpool: %d bytes exceeds the largest class", n))
	}
	b, _ := p.classes[c].Get().(*Buf)
	if b == nil {
		b = &Buf{B: make([]byte, 1<<(c+minClassShift)), class: int8(c), pool: p}
	}
	b.B = b.B[:n]
	b.refs.Store(1)
	p.outstanding.Add(1)
	p.bytes.Add(int64(cap(b.B)))
	return b
}

func (p *Pool) put(b *Buf) {
	p.outstanding.Add(-1)
	p.bytes.Add(-int64(cap(b.B)))
	b.B = b.B[:cap(b.B)]
	p.classes[b.class].Put(b)
}

// Outstanding reports how many buffers are held and their total capacity.
// Tests assert it returns to zero: every received packet must be released.
func (p *Pool) Outstanding() (buffers, bytes int64) {
	return p.outstanding.Load(), p.bytes.Load()
}

func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassShift
	if c >= numClasses {
		return -1
	}
	return c
}
