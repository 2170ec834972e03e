package wire

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func randomSchemaDescriptor(r *rand.Rand) SchemaDescriptor {
	return SchemaDescriptor{SchemaID: r32(r), SchemaVersion: r32(r), ProfileID: ProfileID(r16(r)),
		Flags: rBits(r, knownSchemaFlags), MinVersionMajor: r8(r), MaxVersionMajor: r8(r), BodyBytes: r32(r),
		DependencyCount: r16(r), DefaultStreamSemantics: TypedPayloadStream(r16(r)), SchemaHash: r64(r)}
}

func TestSchemaDescriptorCodec(t *testing.T) {
	checkBlock(t, ParseSchemaDescriptor, randomSchemaDescriptor)
}

func TestSchemaDescriptorRejects(t *testing.T) {
	_, err := (&SchemaDescriptor{Flags: 0x10}).Append(nil)
	expectReject(t, "schema_flags 0x10 append", err, CodeMalformedBody)
	b, _ := (&SchemaDescriptor{}).Append(nil)
	b[10] = 0x10
	_, _, err = ParseSchemaDescriptor(b)
	expectReject(t, "schema_flags 0x10 parse", err, CodeMalformedBody)
	b[10], b[14] = 0, 1
	_, _, err = ParseSchemaDescriptor(b)
	expectReject(t, "reserved0", err, CodeMalformedBody)
}

func TestSchemaTokenDelta(t *testing.T) {
	s := SchemaTokenDelta()
	b, err := s.Append(nil)
	expectOK(t, "append", err)
	// derived.schema.standard_token_delta_descriptor
	if got := hex.EncodeToString(b); got != "011000000300000002000000010100000000000000000200336b6f7470726e6e" {
		t.Fatalf("token delta schema = %s", got)
	}
}
