package gpu

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClassSize(t *testing.T) {
	pg := PageSize
	for _, c := range []struct{ n, want int }{
		{1, pg}, {pg, pg}, {pg + 1, 2 * pg}, {2 * pg, 2 * pg}, {2*pg + 1, 3 * pg},
		{3 * pg, 3 * pg}, {3*pg + 1, 4 * pg}, {4*pg + 1, 6 * pg}, {6 * pg, 6 * pg}, {6*pg + 1, 8 * pg}, {1 << 24, 1 << 24}, {(1 << 24) + 1, 3 << 23},
	} {
		if got := ClassSize(c.n); got != c.want {
			t.Errorf("ClassSize(%d) = %d, want %d", c.n, got, c.want)
		}
		if got := ClassSize(c.n); got%pg != 0 || got < c.n {
			t.Errorf("ClassSize(%d) = %d: not a page multiple ≥ n", c.n, got)
		}
	}
}

func TestPoolReuseAndAccounting(t *testing.T) {
	p := NewPool(PoolOptions{Purpose: "test", Track: true})
	b, err := p.Get(10000)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 10000 || len(b.Bytes()) != 10000 || len(b.Float32s()) != 2500 {
		t.Fatalf("lengths %d %d %d", b.Len(), len(b.Bytes()), len(b.Float32s()))
	}
	if addr := uintptr(unsafe.Pointer(&b.Bytes()[0])); addr%uintptr(PageSize) != 0 {
		t.Fatalf("buffer at %#x is not page-aligned", addr)
	}
	f := b.Float32s()
	f[0], f[len(f)-1] = 1.5, -2
	u := p.Usage()
	if u.Buffers != 1 || u.InUseBytes != int64(ClassSize(10000)) || u.ReservedBytes != u.InUseBytes || u.Misses != 1 {
		t.Fatalf("usage after Get: %+v", u)
	}
	first := &b.Bytes()[0]
	b.Release()
	if u := p.Usage(); u.Buffers != 0 || u.InUseBytes != 0 || u.IdleBytes != int64(ClassSize(10000)) {
		t.Fatalf("usage after Release: %+v", u)
	}
	b2, err := p.Get(ClassSize(10000)) // same class: the released buffer comes back
	if err != nil {
		t.Fatal(err)
	}
	if &b2.Bytes()[0] != first {
		t.Fatal("released buffer was not reused for the same class")
	}
	if u := p.Usage(); u.Misses != 1 || u.Gets != 2 {
		t.Fatalf("usage after reuse: %+v", u)
	}
	b2.Release()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if u := p.Usage(); u.ReservedBytes != 0 || u.IdleBytes != 0 {
		t.Fatalf("usage after Close: %+v", u)
	}
	if _, err := p.Get(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
}

func TestPoolTrackingReportsLeaksAndDoubleRelease(t *testing.T) {
	p := NewPool(PoolOptions{Purpose: "leaky", Track: true})
	leaked, err := p.Get(100)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check()
	if !errors.Is(err, ErrLeak) || !strings.Contains(err.Error(), "TestPoolTrackingReportsLeaksAndDoubleRelease") {
		t.Fatalf("Check with a buffer out: %v (want ErrLeak naming this test's frame)", err)
	}
	leaked.Release()
	if err := p.Check(); err != nil {
		t.Fatalf("Check after release: %v", err)
	}
	leaked.Release() // a bug the pool must report, not absorb
	err = p.Check()
	if !errors.Is(err, ErrLeak) || !strings.Contains(err.Error(), "released twice") {
		t.Fatalf("Check after a double release: %v", err)
	}
	if u := p.Usage(); u.DoubleReleases != 1 || u.Buffers != 0 {
		t.Fatalf("usage: %+v", u)
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close of a pool that saw a double release returned nil")
	}
}

func TestPoolLimit(t *testing.T) {
	pg := PageSize
	p := NewPool(PoolOptions{Purpose: "bounded", MaxBytes: int64(4 * pg)})
	a, err := p.Get(2 * pg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Get(2 * pg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(1); !errors.Is(err, ErrLimit) {
		t.Fatalf("Get over the limit: %v, want ErrLimit", err)
	}
	a.Release() // idle, reserved: a request of another class must free it to fit
	c, err := p.Get(pg)
	if err != nil {
		t.Fatalf("Get after freeing idle memory: %v", err)
	}
	if u := p.Usage(); u.ReservedBytes > int64(4*pg) || u.Failures != 1 {
		t.Fatalf("usage: %+v", u)
	}
	b.Release()
	c.Release()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPoolInvalidSizes(t *testing.T) {
	p := NewPool(PoolOptions{Purpose: "x"})
	defer func() { _ = p.Close() }()
	for _, n := range []int{0, -1, MaxAlloc + 1} {
		if _, err := p.Get(n); !errors.Is(err, ErrInvalidSize) {
			t.Errorf("Get(%d): %v, want ErrInvalidSize", n, err)
		}
	}
	if _, err := (HostAllocator{}).Alloc(PageSize + 1); !errors.Is(err, ErrInvalidSize) {
		t.Errorf("Alloc of a non-page multiple: %v", err)
	}
}

func TestPoolNoIdleKeep(t *testing.T) {
	p := NewPool(PoolOptions{Purpose: "noidle", MaxIdleBytes: -1})
	b, err := p.Get(1)
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	if u := p.Usage(); u.ReservedBytes != 0 || u.IdleBytes != 0 {
		t.Fatalf("usage: %+v", u)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPoolConcurrent(t *testing.T) {
	p := NewPool(PoolOptions{Purpose: "concurrent", Track: true})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				b, err := p.Get(1 + (g*7919+i*104729)%(1<<20))
				if err != nil {
					t.Error(err)
					return
				}
				bs := b.Bytes()
				bs[0], bs[len(bs)-1] = byte(g), byte(i)
				b.Release()
			}
		}()
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStaging(t *testing.T) {
	s := NewStaging(StagingOptions{Track: true})
	in, err := s.Input.Get(100)
	if err != nil {
		t.Fatal(err)
	}
	if u := s.Usage(); u[0].Purpose != PurposeInput || u[0].Buffers != 1 || u[1].Purpose != PurposeOutput || u[1].Buffers != 0 {
		t.Fatalf("usage: %+v", u)
	}
	if err := s.Check(); !errors.Is(err, ErrLeak) {
		t.Fatalf("Check: %v", err)
	}
	in.Release()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultAllocator(t *testing.T) {
	a, reason := DefaultAllocator()
	if pinnedAllocator == nil && (a.Name() != "host" || reason != "") {
		t.Fatalf("default build: %s %q", a.Name(), reason)
	}
}

func BenchmarkPoolGetRelease(b *testing.B) {
	p := NewPool(PoolOptions{Purpose: "bench"})
	defer func() { _ = p.Close() }()
	b.ReportAllocs()
	for b.Loop() {
		buf, err := p.Get(16 * 3 * 72 * 72 * 4)
		if err != nil {
			b.Fatal(err)
		}
		buf.Release()
	}
}
