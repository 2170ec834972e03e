package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func randomTypedPayloadDescriptor(r *rand.Rand) TypedPayloadDescriptor {
	d := TypedPayloadDescriptor{
		ProfileID: ProfileID(r16(r)), Kind: PayloadKind(2) << r.IntN(6), Flags: rBits(r, knownTypedPayloadFlags),
		SchemaID: r32(r), SchemaVersion: r32(r), StreamSemantics: TypedPayloadStream(r16(r)), Offset: r32(r), Length: r32(r),
	}
	if d.ProfileID == ProfileTensor || d.Kind == PayloadTokenChunk {
		d.ProfileID = ProfileToken
	}
	return d
}

func TestTypedPayloadDescriptorCodec(t *testing.T) {
	checkBlock(t, ParseTypedPayloadDescriptor, randomTypedPayloadDescriptor)
}

func TestTypedPayloadDescriptorRejects(t *testing.T) {
	ok := TypedPayloadDescriptor{ProfileID: 3, Kind: PayloadAudioChunk}
	with := func(f func(*TypedPayloadDescriptor)) TypedPayloadDescriptor { d := ok; f(&d); return d }
	for _, tc := range []struct {
		name string
		d    TypedPayloadDescriptor
	}{
		{"payload_kind 0", with(func(d *TypedPayloadDescriptor) { d.Kind = 0 })},
		{"payload_kind two bits", with(func(d *TypedPayloadDescriptor) { d.Kind = PayloadAudioChunk | PayloadVideoChunk })},
		{"payload_kind tensor", with(func(d *TypedPayloadDescriptor) { d.Kind = PayloadTensor })},
		{"payload_kind 0x80", with(func(d *TypedPayloadDescriptor) { d.Kind = 0x80 })},
		{"profile tensor", with(func(d *TypedPayloadDescriptor) { d.ProfileID = ProfileTensor })},
		{"token on profile 0", with(func(d *TypedPayloadDescriptor) { d.Kind = PayloadTokenChunk; d.ProfileID = 0 })},
		{"descriptor_flags 0x10", with(func(d *TypedPayloadDescriptor) { d.Flags = 0x10 })},
	} {
		_, err := tc.d.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		_, _, err = ParseTypedPayloadDescriptor(tc.d.appendUnchecked(nil))
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
	b := ok.appendUnchecked(nil)
	b[15] = 1
	_, _, err := ParseTypedPayloadDescriptor(b)
	expectReject(t, "reserved0", err, CodeMalformedBody)
}

func TestTypedPayloadRegion(t *testing.T) {
	tok := TypedPayloadTokenChunk([]byte("he"))
	evt := TypedPayload{ProfileID: 7, Kind: PayloadStructuredEvent, Payload: []byte("llo!")}
	desc := func(ds ...TypedPayloadDescriptor) []byte {
		var b []byte
		for i := range ds {
			b = ds[i].appendUnchecked(b)
		}
		return b
	}
	d0, d1 := tok.descriptor(0), evt.descriptor(2)
	frames := []byte("hello!")
	bitmap := PayloadTensor | PayloadTokenChunk | PayloadStructuredEvent
	r, err := ParseTypedPayloadRegion(desc(d0, d1), frames, 2, bitmap)
	expectOK(t, "valid", err)
	if r.Len() != 2 || r.Descriptor(1) != d1 || !bytes.Equal(r.Frame(0), []byte("he")) || !bytes.Equal(r.Frame(1), []byte("llo!")) {
		t.Fatalf("region %d %+v %q %q", r.Len(), r.Descriptor(1), r.Frame(0), r.Frame(1))
	}
	_, err = ParseTypedPayloadRegion(nil, nil, 0, PayloadTensor)
	expectOK(t, "empty", err)

	at := func(d TypedPayloadDescriptor, off, n uint32) TypedPayloadDescriptor {
		d.Offset, d.Length = off, n
		return d
	}
	for _, tc := range []struct {
		name   string
		desc   []byte
		frames []byte
		count  uint16
		bitmap PayloadKind
	}{
		{"descriptor bytes != count×24", desc(d0, d1), frames, 1, bitmap},
		{"count 0 with frames", nil, frames, 0, PayloadTensor},
		{"first offset not 0", desc(at(d0, 1, 2), at(d1, 3, 3)), frames, 2, bitmap},
		{"gap", desc(d0, at(d1, 3, 3)), frames, 2, bitmap},
		{"overlap", desc(d0, at(d1, 1, 5)), frames, 2, bitmap},
		{"tail", desc(d0, at(d1, 2, 3)), frames, 2, bitmap},
		{"overrun", desc(d0, at(d1, 2, 5)), frames, 2, bitmap},
		{"bitmap missing a kind", desc(d0, d1), frames, 2, PayloadTokenChunk},
		{"bitmap extra kind", desc(d0, d1), frames, 2, bitmap | PayloadAudioChunk},
		{"bad descriptor", desc(d0, at(TypedPayloadDescriptor{Kind: PayloadTensor}, 2, 4)), frames, 2, bitmap},
	} {
		_, err := ParseTypedPayloadRegion(tc.desc, tc.frames, tc.count, tc.bitmap)
		expectReject(t, tc.name, err, CodeMalformedBody)
	}
}
