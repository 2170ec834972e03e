package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

// ctlHex decodes hex written with optional spaces.
func ctlHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ctlExtBlock builds a block of three entries: a critical standard one with
// an 8-byte payload, an empty non-critical vendor one and a 3-byte one.
func ctlExtBlock(t *testing.T) []byte {
	t.Helper()
	var b []byte
	var err error
	for _, e := range []ControlExtension{
		{Type: ExtTransportPolicy, Flags: ExtCritical, Payload: []byte{1, 0, 0, 0, 2, 0, 0, 0}},
		{Type: 0x8001},
		{Type: ExtLossTolerance, Payload: []byte{3, 4, 5}},
	} {
		if b, err = AppendControlExtension(b, e.Type, e.Flags, e.Payload); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestControlExtensionsRoundTrip(t *testing.T) {
	b := ctlExtBlock(t)
	want := ctlHex(t, "0101 0100 08000000 0100000002000000"+"0180 0000 00000000"+"0301 0000 03000000 0304050000000000")
	if !bytes.Equal(b, want) {
		t.Fatalf("block = %x\nwant    %x", b, want)
	}
	var got []ControlExtension
	for e, err := range ControlExtensions(b).All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 3 || got[0].Type != ExtTransportPolicy || !got[0].Critical() || len(got[0].Payload) != 8 ||
		got[1].Type != 0x8001 || got[1].Critical() || len(got[1].Payload) != 0 ||
		!bytes.Equal(got[2].Payload, []byte{3, 4, 5}) || cap(got[2].Payload) != 3 {
		t.Fatalf("entries = %+v", got)
	}
	// Re-appending the entries reproduces the block.
	var out []byte
	for _, e := range got {
		out, _ = AppendControlExtension(out, e.Type, e.Flags, e.Payload)
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("re-encoded %x, want %x", out, b)
	}
	// Next walks the same entries.
	n := 0
	for rest := ControlExtensions(b); len(rest) > 0; n++ {
		var err error
		if _, rest, err = rest.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 {
		t.Fatalf("Next found %d entries", n)
	}
	// Stopping early is honoured (a yield after a false return would panic).
	for _, err := range ControlExtensions(b).All() {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if err := CheckControlExtensions(nil, nil); err != nil {
		t.Fatalf("empty block: %v", err)
	}
}

func TestControlExtensionsRejects(t *testing.T) {
	valid := ctlExtBlock(t)
	for _, tc := range []struct {
		name  string
		block []byte
		eof   bool // truncation: also wraps io.ErrUnexpectedEOF
	}{
		{"short entry header", valid[:5], true},
		{"payload cut", valid[:12], true},
		{"padding cut", valid[:len(valid)-1], true},
		{"misaligned tail", append(bytes.Clone(valid), 0, 0, 0), true},
		{"ext_len past the block", ctlHex(t, "01010000ffffffff"), true},
		{"type 0", ctlHex(t, "0000000000000000"), false},
		{"flag bit 1", ctlHex(t, "0101020000000000"), false},
		{"flag bit 15", ctlHex(t, "0101008000000000"), false},
		{"non-zero padding", ctlHex(t, "010100000100000007000000000000ff"), false},
		{"bad entry after good", append(bytes.Clone(valid), ctlHex(t, "0000000000000000")...), false},
	} {
		err := CheckControlExtensions(tc.block, func(uint16) bool { return true })
		expectReject(t, tc.name, err, CodeMalformedBody)
		if tc.eof != errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v (%v)", tc.name, !tc.eof, tc.eof, err)
		}
	}
}

func TestCheckControlExtensionsCritical(t *testing.T) {
	b := ctlExtBlock(t)
	knowsAll := func(uint16) bool { return true }
	knowsPolicy := func(typ uint16) bool { return typ == ExtTransportPolicy }
	knowsLoss := func(typ uint16) bool { return typ == ExtLossTolerance }
	if err := CheckControlExtensions(b, knowsAll); err != nil {
		t.Fatal(err)
	}
	// Unknown non-critical entries (0x8001, 0x0103) are skipped.
	if err := CheckControlExtensions(b, knowsPolicy); err != nil {
		t.Fatal(err)
	}
	expectReject(t, "unknown critical", CheckControlExtensions(b, knowsLoss), CodeUnsupportedCapability)
	expectReject(t, "nil known", CheckControlExtensions(b, nil), CodeUnsupportedCapability)
	// A malformed block is malformed even if it also has an unknown critical entry.
	bad := append(bytes.Clone(b), 1, 2, 3)
	expectReject(t, "malformed wins", CheckControlExtensions(bad, nil), CodeMalformedBody)
}

func TestAppendControlExtensionRejects(t *testing.T) {
	in := []byte{0xAB}
	for _, tc := range []struct {
		name  string
		typ   uint16
		flags ExtFlags
	}{
		{"type 0", 0, 0},
		{"flag bit 1", ExtTransportPolicy, 0x2},
	} {
		out, err := AppendControlExtension(in, tc.typ, tc.flags, nil)
		expectReject(t, tc.name, err, CodeMalformedBody)
		if !bytes.Equal(out, in) {
			t.Fatalf("%s: buffer changed to %x", tc.name, out)
		}
	}
}

func TestControlExtensionsAllocs(t *testing.T) {
	b := ctlExtBlock(t)
	known := func(typ uint16) bool { return typ < 0x0200 }
	if n := testing.AllocsPerRun(100, func() {
		if err := CheckControlExtensions(b, known); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("CheckControlExtensions allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		for rest := ControlExtensions(b); len(rest) > 0; {
			_, rest, _ = rest.Next()
		}
	}); n != 0 {
		t.Fatalf("Next allocates %v times", n)
	}
}

func FuzzControlExtensions(f *testing.F) {
	f.Add([]byte{})
	f.Add(ctlExtBlockSeed())
	f.Add([]byte{1, 1, 1, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckControlExtensions(b, func(typ uint16) bool { return typ&1 == 0 })
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
		}
		// Whatever parses re-encodes to the same bytes.
		var out []byte
		for e, err := range ControlExtensions(b).All() {
			if err != nil {
				return
			}
			if out, err = AppendControlExtension(out, e.Type, e.Flags, e.Payload); err != nil {
				t.Fatalf("re-append of a parsed entry: %v", err)
			}
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoded %x, want %x", out, b)
		}
	})
}

func ctlExtBlockSeed() []byte {
	b, _ := AppendControlExtension(nil, ExtPayloadCapabilities, ExtCritical, []byte{0x73, 0, 0, 0, 0, 0, 0, 0})
	b, _ = AppendControlExtension(b, 0xC001, 0, []byte("debug"))
	return b
}
