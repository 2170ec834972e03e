package bufpool

import "testing"

func TestClasses(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {512, 0}, {513, 1}, {1024, 1}, {1025, 2}, {64 << 20, numClasses - 1}, {64<<20 + 1, -1},
	} {
		if got := classOf(tc.n); got != tc.class {
			t.Errorf("classOf(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
}

func TestGetReleaseAccounting(t *testing.T) {
	var p Pool
	a := p.Get(1000)
	if len(a.B) != 1000 || cap(a.B) != 1024 {
		t.Fatalf("len %d cap %d", len(a.B), cap(a.B))
	}
	a.Retain()
	if n, bytes := p.Outstanding(); n != 1 || bytes != 1024 {
		t.Fatalf("outstanding %d/%d", n, bytes)
	}
	a.Release()
	if n, _ := p.Outstanding(); n != 1 {
		t.Fatal("returned while still held")
	}
	a.Release()
	if n, bytes := p.Outstanding(); n != 0 || bytes != 0 {
		t.Fatalf("outstanding %d/%d after last release", n, bytes)
	}
}

func TestMisuse(t *testing.T) {
	var p Pool
	b := p.Get(10)
	b.Release()
	for name, f := range map[string]func(){
		"double release":    b.Release,
		"retain after free": b.Retain,
		"oversized get":     func() { p.Get(64<<20 + 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
