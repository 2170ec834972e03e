package wire

import (
	"math/rand/v2"
	"testing"
)

func randomBodyPrelude(r *rand.Rand) BodyPrelude {
	return BodyPrelude{
		InlineObjectBytes: r32(r) >> 4, ObjectReferenceBytes: ObjectReferenceLen * (r32(r) >> 8),
		TypedPayloadDescriptorBytes: TypedPayloadDescriptorLen * uint32(r16(r)),
		TypedPayloadFrameBytes:      r32(r) >> 4, ExtensionDescriptorBytes: ExtensionDescriptorLen * (r32(r) >> 8),
		ExtensionPayloadBytes: r32(r) >> 4,
	}
}

func TestBodyPreludeCodec(t *testing.T) { checkBlock(t, ParseBodyPrelude, randomBodyPrelude) }

func TestBodyPreludeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    BodyPrelude
	}{
		{"object_reference_bytes 16", BodyPrelude{ObjectReferenceBytes: 16}},
		{"typed_payload_descriptor_bytes 16", BodyPrelude{TypedPayloadDescriptorBytes: 16}},
		{"extension_descriptor_bytes 24", BodyPrelude{ExtensionDescriptorBytes: 24}},
		{"body_flags 1", BodyPrelude{BodyFlags: 1}},
	} {
		_, err := tc.p.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		_, _, err = ParseBodyPrelude(tc.p.appendUnchecked(nil))
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
	b := (&BodyPrelude{}).appendUnchecked(nil)
	b[31] = 1
	_, _, err := ParseBodyPrelude(b)
	expectReject(t, "reserved", err, CodeMalformedBody)
}

func TestBodyPreludeCheckBody(t *testing.T) {
	p := BodyPrelude{InlineObjectBytes: 8, TypedPayloadDescriptorBytes: 48, TypedPayloadFrameBytes: 5}
	expectOK(t, "valid", p.CheckBody(32+8+48+5, 2))
	expectReject(t, "sum short", p.CheckBody(32+8+48+4, 2), CodeMalformedBody)
	expectReject(t, "sum long", p.CheckBody(32+8+48+6, 2), CodeMalformedBody)
	expectReject(t, "typed bytes != count×24", p.CheckBody(32+8+48+5, 1), CodeMalformedBody)
	q := BodyPrelude{TypedPayloadFrameBytes: 5}
	expectReject(t, "frames without descriptors", q.CheckBody(32+5, 0), CodeMalformedBody)

	body := make([]byte, 32+8+48+5)
	regions, err := p.Split(body)
	expectOK(t, "split", err)
	if len(regions.Inline) != 8 || len(regions.TypedDescriptors) != 48 || len(regions.TypedFrames) != 5 ||
		len(regions.References)+len(regions.ExtensionDescriptors)+len(regions.ExtensionPayload) != 0 {
		t.Fatalf("regions %+v", regions)
	}
	_, err = p.Split(body[:len(body)-1])
	expectReject(t, "split short", err, CodeMalformedBody)
}

// TestPreludeDetection pins the tolerant receiver's rule of D§5.9.
func TestPreludeDetection(t *testing.T) {
	p := BodyPrelude{InlineObjectBytes: 16, ObjectReferenceBytes: 24, TypedPayloadDescriptorBytes: 24, ExtensionDescriptorBytes: 16}
	body := append(p.appendUnchecked(nil), make([]byte, 80)...)
	if !isPreludeForm(body, 1) {
		t.Fatal("valid prelude body not detected")
	}
	for name, mut := range map[string]func([]byte) []byte{
		"short":         func(b []byte) []byte { return b[:31] },
		"sum":           func(b []byte) []byte { return append(b, 0) },
		"body_flags":    func(b []byte) []byte { b[24] = 1; return b },
		"reserved":      func(b []byte) []byte { b[28] = 1; return b },
		"refs % 24":     func(b []byte) []byte { b[4] = 23; b[0] = 17; return b },
		"ext % 16":      func(b []byte) []byte { b[16] = 15; b[0] = 17; return b },
		"typed ≠ count": func(b []byte) []byte { b[8] = 48; b[4] = 0; return b },
	} {
		b := mut(append([]byte(nil), body...))
		if isPreludeForm(b, 1) {
			t.Errorf("%s: detected as prelude form", name)
		}
	}
	if isPreludeForm(body, 2) {
		t.Error("descriptor bytes for 1 frame detected with payload_frame_count 2")
	}
}
