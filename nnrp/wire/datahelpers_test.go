package wire

import (
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
)

// dataBlock is the method set of a fixed-size body block codec.
type dataBlock interface {
	Len() int
	Append(b []byte) ([]byte, error)
}

// checkBlock is checkMessage for body blocks: random valid values
// round-trip, len(Append(nil)) == Len(), every truncation fails with a typed
// io.ErrUnexpectedEOF error, and trailing bytes are not consumed.
func checkBlock[T any, PT interface {
	*T
	dataBlock
}](t *testing.T, parse func([]byte) (T, int, error), random func(r *rand.Rand) T) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		v := random(r)
		b, err := PT(&v).Append(nil)
		if err != nil {
			t.Fatalf("Append(%+v): %v", v, err)
		}
		if len(b) != PT(&v).Len() {
			t.Fatalf("len(Append(nil)) = %d, Len() = %d", len(b), PT(&v).Len())
		}
		got, n, err := parse(append(b, 0xEE, 0xEE))
		if err != nil {
			t.Fatalf("parse(Append(%+v)): %v", v, err)
		}
		if n != len(b) || !reflect.DeepEqual(got, v) {
			t.Fatalf("round trip (%d of %d bytes):\n got %+v\nwant %+v", n, len(b), got, v)
		}
		for cut := range len(b) {
			expectTruncated(t, "truncation", cut, len(b), func() error { _, _, err := parse(b[:cut]); return err }())
		}
	}
}

// expectTruncated asserts a clean failure on input cut to cut of full bytes.
func expectTruncated(t *testing.T, what string, cut, full int, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: %d/%d bytes accepted", what, cut, full)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%s: %d/%d bytes: %v, want io.ErrUnexpectedEOF", what, cut, full, err)
	}
	if _, ok := CodeOf(err); !ok {
		t.Fatalf("%s: %d/%d bytes: untyped error %v", what, cut, full, err)
	}
}

// expectOK fails the test on err.
func expectOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
