package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"
)

// TestSubmitBuilderVectors builds every FRAME_SUBMIT vector of data.json
// from its inputs (D§5.5, D§7) and compares the bytes.
func TestSubmitBuilderVectors(t *testing.T) {
	floats := make([]byte, 0, 192)
	for i := range 48 {
		floats = binary.LittleEndian.AppendUint32(floats, math.Float32bits(float32(i)))
	}
	worked := SubmitBuilder{
		Header: Header{SessionID: 1, FrameID: 1},
		Meta: FrameSubmit{SrcWidth: 4, SrcHeight: 4, TileWidth: 4, TileHeight: 4, LatencyBudgetMS: 50, OperationID: 1,
			LossTolerance: LossToleranceInheritSession},
		Tiles:    TileRange(0, 1),
		Sections: []SectionData{{RoleID: 1, DTypeID: DTypeFloat32, LayoutID: LayoutNCHW, ElementCountPerTile: 48, Tiles: [][]byte{floats}}},
	}
	legacy := worked
	legacy.LegacyRaw = true
	rsHeader := Header{Flags: FlagAckRequired, FrameID: 9, ViewID: 3, RouteID: 4, TraceID: 5}
	rsSection := SectionData{RoleID: 1, CodecID: 2, DTypeID: 3, LayoutID: 4, ElementCountPerTile: 16, Tiles: [][]byte{{1}, {2, 3}}}
	tensor := SubmitBuilder{
		Header: rsHeader,
		Meta: FrameSubmit{SrcWidth: 64, SrcHeight: 64, TileWidth: 16, TileHeight: 16, InputProfile: InputProfileChangedTilesLuma,
			OperationID: 7, LossTolerance: LossToleranceInheritSession},
		Tiles: TileRange(0, 2), Sections: []SectionData{rsSection},
	}
	tensor.Sections[0].Tiles = [][]byte{{1, 2}, {3}} // lengths [2, 1] in that vector
	token := SubmitBuilder{
		Header: rsHeader,
		Meta:   FrameSubmit{OperationID: 7, LossTolerance: LossToleranceInheritSession},
		Typed:  []TypedPayload{TypedPayloadTokenChunk([]byte("abc"))},
	}
	typed := SubmitBuilder{
		Meta: FrameSubmit{FrameClass: FrameClassRetransmit, LatencyBudgetMS: 17, TargetFPSx100: 6000, RetryOfFrame: 8,
			OperationID: 7, BudgetPolicy: AllowDegraded, LossTolerance: LossToleranceLowLatency, DependencyFrameID: 6},
		Typed: []TypedPayload{
			{ProfileID: 41, Kind: PayloadAudioChunk, Flags: TypedPayloadTerminal, SchemaID: 42, SchemaVersion: 3, StreamSemantics: 4, Payload: []byte{1, 2, 3}},
			{ProfileID: 51, Kind: PayloadStructuredEvent, Flags: TypedPayloadPartial, SchemaID: 52, SchemaVersion: 5, StreamSemantics: 6, Payload: []byte{4, 5}},
		},
	}
	mixed := SubmitBuilder{
		Meta: FrameSubmit{SrcWidth: 32, SrcHeight: 32, TileWidth: 16, TileHeight: 16, InputProfile: InputProfileChangedTilesLuma,
			OperationID: 7, LossTolerance: LossToleranceInheritSession},
		Tiles: TileList(TileIndexRawU16, []uint16{2, 4}), Sections: []SectionData{rsSection},
		CameraRef: &ObjectReference{Namespace: 1, KeyLo: 1},
	}
	cases := map[string]*SubmitBuilder{
		"worked.frame_submit.fp32_1x3x4x4_inline":          &worked,
		"worked.frame_submit.fp32_1x3x4x4_legacy_raw_form": &legacy,
		"derived.submit_rs.tensor_builder_packet":          &tensor,
		"derived.submit_rs.token_builder_packet":           &token,
		"derived.submit_rs.typed_payload_builder_body":     &typed,
		"derived.submit_rs.mixed_submit_camera_reference":  &mixed,
	}
	for _, v := range loadVectors(t, "data.json") {
		b, ok := cases[v.Name]
		if !ok {
			continue
		}
		delete(cases, v.Name)
		pkt, err := b.Append(nil)
		expectOK(t, v.Name, err)
		if v.Kind == "metadata+body" {
			pkt = pkt[HeaderLen:]
		}
		if got := hex.EncodeToString(pkt); got != v.Hex {
			t.Fatalf("%s:\n got %s\nwant %s", v.Name, got, v.Hex)
		}
	}
	if len(cases) != 0 {
		t.Fatalf("vectors not found: %v", cases)
	}
}

func TestSubmitBuilderRejects(t *testing.T) {
	meta := FrameSubmit{OperationID: 1}
	sec := []SectionData{{RoleID: 1, Tiles: [][]byte{{1}}}}
	ref := &ObjectReference{Namespace: 1}
	for _, tc := range []struct {
		name string
		b    SubmitBuilder
		code ErrorCode
	}{
		{"camera inline and referenced", SubmitBuilder{Meta: meta, Camera: []byte("c"), CameraRef: ref}, CodeMalformedBody},
		{"sections inline and referenced", SubmitBuilder{Meta: meta, Tiles: TileRange(0, 1), Sections: sec, SectionTableRef: ref}, CodeMalformedBody},
		{"reference of another kind", SubmitBuilder{Meta: meta, Camera: []byte("c"), TileIndexRef: &ObjectReference{Kind: ObjectCameraBlock}}, CodeMalformedBody},
		{"reference with ref_flags", SubmitBuilder{Meta: meta, CameraRef: &ObjectReference{Flags: 1}}, CodeMalformedBody},
		{"section tiles != tile count", SubmitBuilder{Meta: meta, Tiles: TileRange(0, 2), Sections: sec}, CodeMalformedBody},
		{"DELTA ids not increasing", SubmitBuilder{Meta: meta, Tiles: TileList(TileIndexDeltaU16, []uint16{2, 1})}, CodeMalformedBody},
		{"non-tensor with dimensions", SubmitBuilder{Meta: FrameSubmit{OperationID: 1, SrcWidth: 4},
			Typed: []TypedPayload{TypedPayloadTokenChunk(nil)}}, CodeMalformedBody},
		{"nothing to send", SubmitBuilder{Meta: meta}, CodeMalformedBody},
		{"operation_id 0", SubmitBuilder{Tiles: TileRange(0, 1), Sections: sec}, CodeMalformedBody},
		{"legacy with a reference", SubmitBuilder{Meta: meta, Tiles: TileRange(0, 1), Sections: sec, CameraRef: ref, LegacyRaw: true}, CodeMalformedBody},
		{"legacy with typed frames", SubmitBuilder{Meta: meta, Tiles: TileRange(0, 1), Sections: sec, LegacyRaw: true,
			Typed: []TypedPayload{TypedPayloadTokenChunk(nil)}}, CodeMalformedBody},
		{"typed payload of the tensor kind", SubmitBuilder{Meta: meta, Typed: []TypedPayload{{Kind: PayloadTensor}}}, CodeMalformedBody},
		{"bad header flags", SubmitBuilder{Header: Header{Flags: 0x80}, Meta: meta, Tiles: TileRange(0, 1), Sections: sec}, CodeMalformedHeader},
	} {
		dst := []byte("keep")
		out, err := tc.b.Append(dst)
		expectReject(t, tc.name, err, tc.code)
		if !bytes.Equal(out, []byte("keep")) {
			t.Fatalf("%s: dst changed to %q", tc.name, out)
		}
	}
	// A referenced section table keeps the caller's section_count.
	b := SubmitBuilder{Meta: FrameSubmit{OperationID: 1, SectionCount: 3}, Tiles: TileRange(0, 1), SectionTableRef: ref}
	pkt, err := b.Append(nil)
	expectOK(t, "referenced table", err)
	v, err := decodeSubmit(t, pkt, Limits{})
	expectOK(t, "decode", err)
	if v.Meta.SectionCount != 3 || v.Meta.SubmitMode != SubmitModeMixed || v.Pending() != FrameSubmitSlotSectionTable {
		t.Fatalf("metadata %+v pending 0x%x", v.Meta, v.Pending())
	}
}
