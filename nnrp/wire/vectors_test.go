package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// Every vector of ../shared/nnrp/vectors (copied to testdata/) must decode to
// its listed fields and re-encode to the same bytes, unless it is listed in
// rejectedVectors with the reason our codec (and the reference runtime)
// refuses it.

// rejectedVectors are vectors whose bytes are valid for some source but not
// for the live nnrp-1-preview4 wire. Each entry says which variant is
// canonical and why; the test asserts rejection with the given code.
var rejectedVectors = map[string]struct {
	code ErrorCode
	why  string
}{
	// Data plane (D§14). Canonical: the preview4 conformance copies.
	"rust.nnrp1_baseline.frame_submit.metadata": {CodeMalformedBody,
		"operation_id 0: the nnrp-rs harness copy predates preview4; FrameSubmitMetadata::parse rejects 0 (D§2)"},
	"nnrp-rs.baseline.frame_submit_metadata_variant": {CodeMalformedBody,
		"operation_id 0: the nnrp-rs harness copy predates preview4; FrameSubmitMetadata::parse rejects 0 (D§2)"},
	"rust.nnrp1_baseline.result_push.metadata": {CodeMalformedBody,
		"flags PARTIAL with reused_frame_id 41: parses (lenient receive) but breaks R2, so Append refuses to re-send it (D§8.2)"},
	"derived.data_rs.result_push_metadata_round_trips_frozen_layout": {CodeMalformedBody,
		"same bytes as the nnrp-rs baseline copy: breaks R2, so Append refuses to re-send it (D§8.2)"},
	"nnrp-rs.baseline.result_push_metadata_variant": {CodeMalformedBody,
		"flags PARTIAL with reused_frame_id 41: parses (lenient receive) but breaks R2, so Append refuses to re-send it (D§8.2)"},
	"rust.nnrp1_baseline.body_region.prelude": {CodeMalformedBody,
		"typed_payload_descriptor_bytes 16: one historical 16-byte descriptor; preview4 descriptors are 24 bytes (D§4.2)"},
	"nnrp-rs.baseline.body_region_prelude_variant": {CodeMalformedBody,
		"typed_payload_descriptor_bytes 16: one historical 16-byte descriptor; preview4 descriptors are 24 bytes (D§4.2)"},
	"recipe.preview2.body_region.prelude": {CodeMalformedBody,
		"object_reference_bytes 16: the historical 16-byte reference block; preview4 references are 24 bytes (D§4.4)"},
	"recipe.preview4.object_reference.camera_block": {CodeMalformedBody,
		"ref_flags 3: nnrp-rs, nnrp-js and nnrp-py reject non-zero ref_flags (D§4.4)"},
}

// registryValueVectors hold 32-bit registry identifiers from the conformance
// recipes that never appear in a wire structure (C§5.3 collision note).
var registryValueKinds = map[string]bool{
	"control_frame": true, "object_frame": true, "result_drop_reason": true,
}

func TestVectorsControl(t *testing.T) { runVectors(t, "control.json") }
func TestVectorsData(t *testing.T)    { runVectors(t, "data.json") }

func runVectors(t *testing.T, file string) {
	for _, v := range loadVectors(t, file) {
		t.Run(v.Name, func(t *testing.T) {
			b := v.bytes(t)
			codec := vectorCodecFor(t, &v)
			fields, out, err := codec(b)
			want := v.Fields
			if v.Kind == "packet" {
				// Prose descriptions of a packet, not field values; the
				// data-plane tests check them (TestWorkedTensorValues,
				// TestDataPacketVectors).
				want = withoutKeys(want, "tensor_values", "body_layout")
			}
			if v.MessageType == "(value)" || v.Kind == "u32_value" {
				// The registry a value belongs to ("kind") and its name
				// ("meaning") are not in its four bytes; TestRegistryValueNames
				// checks the names.
				want = withoutKeys(want, "kind", "meaning")
			}
			if rej, ok := rejectedVectors[v.Name]; ok {
				expectReject(t, v.Name+" ("+rej.why+")", err, rej.code)
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			compareFields(t, v.Name, want, fields)
			if !bytes.Equal(out, b) {
				t.Fatalf("re-encode:\n got %s\nwant %s", hex.EncodeToString(out), v.Hex)
			}
		})
	}
}

func vectorCodecFor(t *testing.T, v *vector) vectorCodec {
	t.Helper()
	if c, ok := kindCodecs[v.Kind]; ok {
		return c
	}
	switch v.Kind {
	case "header":
		return func(b []byte) (any, []byte, error) {
			h, _, err := ParseHeader(b)
			if err != nil {
				return nil, nil, err
			}
			out, err := h.Append(nil)
			return headerFields(h), out, err
		}
	case "packet":
		switch v.MessageType {
		case "FRAME_SUBMIT", "RESULT_PUSH", "RESULT_DROP":
			// Data-plane packets: header, metadata and body structure.
			if c, ok := kindCodecs["data_packet"]; ok {
				return c
			}
		}
		return packetVectorCodec
	case "u32_value":
		return u32ValueCodec
	case "metadata":
		if v.MessageType == "(value)" {
			return u32ValueCodec
		}
		if c, ok := kindCodecs[v.MessageType]; ok { // "(schema descriptor)"
			return c
		}
		// Data-plane blocks are filed under FRAME_SUBMIT in control.json;
		// their size tells which block the vector holds.
		if v.MessageType == "FRAME_SUBMIT" && len(v.Hex)/2 != TypeFrameSubmit.MetaLen() {
			if c, ok := kindCodecs[frameSubmitBlockKind(v)]; ok {
				return c
			}
		}
		mt, ok := typeByName(v.MessageType)
		if !ok {
			t.Fatalf("unknown message type %q", v.MessageType)
		}
		return metadataVectorCodec(mt)
	}
	t.Fatalf("no codec for kind %q (message type %q)", v.Kind, v.MessageType)
	return nil
}

// frameSubmitBlockKind names the data.json kind of a control.json
// "FRAME_SUBMIT metadata" vector that actually holds a body block.
func frameSubmitBlockKind(v *vector) string {
	switch {
	case strings.Contains(v.Name, "prelude"):
		return "body_region_prelude"
	case strings.Contains(v.Name, "object_reference"):
		return "object_reference_block"
	case strings.HasSuffix(v.Name, "frame_regions.golden.descriptor_region"):
		return "typed_payload_descriptor_region_16_historical"
	case strings.HasSuffix(v.Name, "frame_regions.golden.payload"):
		return "typed_payload_frame_region"
	case strings.Contains(v.Name, "typed_payload.descriptor.golden"):
		return "typed_payload_descriptor_16_historical"
	case strings.Contains(v.Name, "typed_payload.descriptor"):
		return "typed_payload_descriptor"
	}
	return ""
}

// u32ValueCodec checks a 4-byte little-endian registry value. Error-code
// families must match a named constant of this package; the preview4 recipe
// registry ids are accepted as plain numbers and documented as never sent.
func u32ValueCodec(b []byte) (any, []byte, error) {
	if len(b) != 4 {
		return nil, nil, errShort(0, "value", 4, len(b))
	}
	v := binary.LittleEndian.Uint32(b)
	return map[string]any{
		"value":       v,
		"value_hex":   "0x" + hex.EncodeToString([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}),
		"family_hi16": "0x" + hex.EncodeToString([]byte{byte(v >> 24), byte(v >> 16)}),
		"low16":       v & 0xFFFF,
	}, b, nil
}

func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// recipeRegistry names the preview4 conformance recipes' 32-bit registry ids.
// They appear in no wire structure (message types are u8, drop reasons are a
// u16 with its own numbering), so this package never sends them; the table
// only pins what the vectors say.
var recipeRegistry = map[uint32]string{
	0x00040001: "cancel", 0x00040002: "abort", 0x00040003: "priority_update",
	0x00040004: "expire_at", 0x00040005: "progress", 0x00040006: "partial_result",
	0x00040007: "credit_update", 0x00040008: "capability_negotiation",
	0x00040009: "result_drop_reason",
	0x00050001: "declare", 0x00050002: "ref", 0x00050003: "release", 0x00050004: "delta",
	0x00060001: "deadline_expired", 0x00060002: "superseded", 0x00060003: "backpressure",
}

func TestRegistryValueNames(t *testing.T) {
	for _, file := range []string{"control.json", "data.json"} {
		for _, v := range loadVectors(t, file) {
			if v.MessageType != "(value)" && v.Kind != "u32_value" {
				continue
			}
			kind, _ := v.Fields["kind"].(string)
			val, _ := number(v.Fields["value"])
			name := v.Name[strings.LastIndex(v.Name, ".")+1:]
			if registryValueKinds[kind] || strings.Contains(v.Name, "result_drop_reason") {
				if got := recipeRegistry[uint32(val.Uint64())]; got != name {
					t.Errorf("%s: recipe id 0x%08x is %q here, vector says %q", v.Name, val.Uint64(), got, name)
				}
				continue
			}
			if got := ErrorCode(val.Uint64()).String(); got != name {
				t.Errorf("%s: code 0x%08x is named %q here, vector says %q", v.Name, val.Uint64(), got, name)
			}
		}
	}
}
