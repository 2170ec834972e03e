package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func randomExtensionDescriptor(r *rand.Rand) ExtensionDescriptor {
	return ExtensionDescriptor{Kind: r16(r), Flags: rBits(r, knownExtensionFlags), ProfileID: ProfileID(r16(r)),
		PayloadOffset: r32(r), PayloadLength: r32(r)}
}

func TestExtensionDescriptorCodec(t *testing.T) {
	checkBlock(t, ParseExtensionDescriptor, randomExtensionDescriptor)
}

func TestExtensionRegion(t *testing.T) {
	desc := func(ds ...ExtensionDescriptor) []byte {
		var b []byte
		for i := range ds {
			var err error
			b, err = ds[i].Append(b)
			expectOK(t, "append", err)
		}
		return b
	}
	payload := []byte("abcdefgh")
	r, err := ParseExtensionRegion(desc(ExtensionDescriptor{Kind: 9, PayloadOffset: 1, PayloadLength: 2},
		ExtensionDescriptor{Kind: 10, PayloadOffset: 5, PayloadLength: 3}), payload)
	expectOK(t, "valid with a gap", err)
	if r.Len() != 2 || r.Descriptor(1).Kind != 10 || !bytes.Equal(r.Payload(0), []byte("bc")) || !bytes.Equal(r.Payload(1), []byte("fgh")) {
		t.Fatalf("region %d %q %q", r.Len(), r.Payload(0), r.Payload(1))
	}

	_, err = (&ExtensionDescriptor{Flags: 2}).Append(nil)
	expectReject(t, "extension_flags 2 append", err, CodeMalformedBody)
	bad := desc(ExtensionDescriptor{})
	bad[2] = 2
	_, _, err = ParseExtensionDescriptor(bad)
	expectReject(t, "extension_flags 2 parse", err, CodeMalformedBody)
	bad = desc(ExtensionDescriptor{})
	bad[7] = 1
	_, _, err = ParseExtensionDescriptor(bad)
	expectReject(t, "reserved0", err, CodeMalformedBody)

	_, err = ParseExtensionRegion(make([]byte, 24), payload)
	expectReject(t, "descriptor bytes % 16", err, CodeMalformedBody)
	_, err = ParseExtensionRegion(desc(ExtensionDescriptor{Flags: ExtensionCritical}), payload)
	expectReject(t, "critical", err, CodeUnsupportedCapability)
	_, err = ParseExtensionRegion(desc(ExtensionDescriptor{PayloadOffset: 0, PayloadLength: 4},
		ExtensionDescriptor{PayloadOffset: 3, PayloadLength: 1}), payload)
	expectReject(t, "overlap", err, CodeMalformedBody)
	_, err = ParseExtensionRegion(desc(ExtensionDescriptor{PayloadOffset: 4, PayloadLength: 1},
		ExtensionDescriptor{PayloadOffset: 0, PayloadLength: 1}), payload)
	expectReject(t, "descending", err, CodeMalformedBody)
	_, err = ParseExtensionRegion(desc(ExtensionDescriptor{PayloadOffset: 6, PayloadLength: 3}), payload)
	expectReject(t, "beyond the payload region", err, CodeMalformedBody)
}
