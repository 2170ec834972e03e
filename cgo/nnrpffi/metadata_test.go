package nnrpffi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Golden bytes from the NNRP/1 preview-4 vectors (shared/nnrp/vectors/data.json):
// conformance.preview4.l0.frame_submit.metadata.golden,
// conformance.preview4.l0.result_push.metadata.golden and the metadata + body
// of worked.result_drop_reason.deadline_expired.
const (
	goldenFrameSubmit = "80026801200020005400020001020000640070170700000000000000c000000000000000000000000807060504030201000000000205ff0003000000290000001100000002000000"
	goldenResultPush  = "0000050001005400020000004b0302004e030000000000001000000000000000000000000000000000000000010100002900000035001f000300000003000000"
	goldenDropReason  = "0100000000000000010000000000000001000201080000000000000000000000646561646c696e65"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFrameSubmitMetadataGolden(t *testing.T) {
	want := FrameSubmitMetadata{
		SrcWidth: 640, SrcHeight: 360, TileWidth: 32, TileHeight: 32, TileCount: 84, SectionCount: 2,
		FrameClass: 1, InputProfile: 2, TileIndexMode: 0, LatencyBudgetMs: 100, TargetFPSx100: 6000,
		RetryOfFrame: 7, CameraBytes: 192, OperationID: 72623859790382856, SubmitMode: 2,
		BudgetPolicy: AllowPartial | AllowDegraded, LossTolerance: LossInheritSession, ObjectRefMask: 3,
		DependencyFrameID: 41, PayloadKinds: PayloadTensor | PayloadStructuredEvent, PayloadFrameCount: 2,
	}
	golden := unhex(t, goldenFrameSubmit)
	got, err := ParseFrameSubmitMetadata(golden)
	if err != nil || got != want {
		t.Fatalf("parse: %+v %v\nwant %+v", got, err, want)
	}
	buf := bytes.Repeat([]byte{0xAA}, FrameSubmitMetadataLen) // Put must clear reserved bytes
	want.Put(buf)
	if !bytes.Equal(buf, golden) {
		t.Fatalf("put:\n got %x\nwant %x", buf, golden)
	}
	if _, err := ParseFrameSubmitMetadata(golden[:71]); err == nil {
		t.Error("71 bytes parsed as FRAME_SUBMIT metadata")
	}
}

func TestResultPushMetadataGolden(t *testing.T) {
	want := ResultPushMetadata{
		Flags: ResultStale | ResultPartial, SectionCount: 1, TileCount: 84, ActiveProfileID: 2,
		InferenceMs: 843, QueueMs: 2, ServerTotalMs: 846, TileIndexBytes: 16, Class: ClassPartial,
		AppliedBudgetPolicy: AllowPartial, ReusedFrameID: 41, CoveredTileCount: 53, DroppedTileCount: 31,
		PayloadKinds: PayloadTensor | PayloadTokenChunk, PayloadFrameCount: 3,
	}
	golden := unhex(t, goldenResultPush)
	got, err := ParseResultPushMetadata(golden)
	if err != nil || got != want {
		t.Fatalf("parse: %+v %v\nwant %+v", got, err, want)
	}
	buf := bytes.Repeat([]byte{0xAA}, ResultPushMetadataLen)
	want.Put(buf)
	if !bytes.Equal(buf, golden) {
		t.Fatalf("put:\n got %x\nwant %x", buf, golden)
	}
	if _, err := ParseResultPushMetadata(golden[:63]); err == nil {
		t.Error("63 bytes parsed as RESULT_PUSH metadata")
	}
}

func TestDropReasonGolden(t *testing.T) {
	golden := unhex(t, goldenDropReason)
	d := DropReason{OperationID: 1, ResultSequence: 1, Code: DropDeadlineExpired, SourceRole: RoleServer, Flags: DropFlagFinal, Diagnostic: []byte("deadline")}
	if got := d.append(nil); !bytes.Equal(got, golden) {
		t.Fatalf("append:\n got %x\nwant %x", got, golden)
	}
	got, err := parseDropReason(golden)
	if err != nil || got.OperationID != 1 || got.ResultSequence != 1 || got.Code != 1 || got.SourceRole != 2 || got.Flags != 1 || string(got.Diagnostic) != "deadline" {
		t.Fatalf("parse: %+v %v", got, err)
	}
	if _, err := parseDropReason(golden[:len(golden)-1]); err == nil {
		t.Error("a diagnostic shorter than declared was accepted")
	}
}

func TestRuntimeFrameRoundTrip(t *testing.T) {
	p := PartialResult{OperationID: 9, ResultSequence: 2, ObjectID: 3, DeltaSequence: 4, Flags: PartialFlagFinal | PartialFlagObjectRef, Body: []byte("half")}
	b := p.append(nil)
	if len(b) != PartialResultMetadataLen+4 {
		t.Fatalf("partial result is %d bytes", len(b))
	}
	gotP, err := parsePartialResult(b)
	if err != nil || gotP.OperationID != 9 || gotP.ResultSequence != 2 || gotP.ObjectID != 3 || gotP.DeltaSequence != 4 || gotP.Flags != 3 || string(gotP.Body) != "half" {
		t.Fatalf("partial result %+v %v", gotP, err)
	}
	if _, err := parsePartialResult(b[:PartialResultMetadataLen]); err == nil {
		t.Error("partial result without its declared body was accepted")
	}

	g := Progress{OperationID: 9, ProgressSequence: 1, StageCode: 5, PercentX100: 0xFFFF, ObjectID: 7, Body: []byte{1, 2}}
	b = g.append(nil)
	gotG, err := parseProgress(b)
	if err != nil || gotG.OperationID != 9 || gotG.ProgressSequence != 1 || gotG.StageCode != 5 || gotG.PercentX100 != 0xFFFF || gotG.ObjectID != 7 || !bytes.Equal(gotG.Body, []byte{1, 2}) {
		t.Fatalf("progress %+v %v", gotG, err)
	}
	if _, err := parseProgress(b[:ProgressMetadataLen-1]); err == nil {
		t.Error("short progress metadata was accepted")
	}

	sc := []byte{1, 0, 1, 0, 0x10, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 3, 0, 0, 0}
	c, err := parseSessionClose(sc)
	if err != nil || c != (SessionClose{Reason: 1, InFlightPolicy: 1, DrainTimeoutMs: 16, LastOperationID: 42, SessionErrorCode: 0x10007, CloseTag: 3}) {
		t.Fatalf("session close %+v %v", c, err)
	}
}

func TestDecodeEvent(t *testing.T) {
	body := []byte("echo")
	rp := ResultPushMetadata{Class: ClassDegraded, Flags: ResultFallback, PayloadKinds: PayloadTensor}
	payload := make([]byte, ResultPushMetadataLen, ResultPushMetadataLen+len(body))
	rp.Put(payload)
	payload = append(payload, body...)
	ev, err := decodeEvent(rawEvent{kind: EventResultPushed, header: Header{Type: MsgResultPush, FrameID: 4}, op: opHandle{kind: opKind, id: 3, generation: 1}, relatedOpID: 4, payload: payload}, false)
	if err != nil || ev.Result == nil || ev.Result.Metadata != rp || string(ev.Result.Body) != "echo" || !ev.Terminal() || ev.FrameID() != 4 || ev.OperationID != 4 {
		t.Fatalf("result event %+v %v", ev, err)
	}
	if ev.Op.Valid() {
		t.Error("a client event carries an operation")
	}

	ev, err = decodeEvent(rawEvent{kind: EventResultDropped, header: Header{Type: MsgResultDrop, FrameID: 5}}, false)
	if err != nil || ev.Drop == nil || ev.Drop.Reason != nil || !ev.Terminal() {
		t.Fatalf("plain drop event %+v %v", ev, err)
	}

	sub := TensorSubmit(10, AllowDrop)
	sub.OperationID = 77
	payload = make([]byte, FrameSubmitMetadataLen)
	sub.Put(payload)
	ev, err = decodeEvent(rawEvent{kind: EventSubmitAccepted, header: Header{Type: MsgFrameSubmit, FrameID: 6}, op: opHandle{kind: opKind, id: 1, generation: 1}, payload: payload}, true)
	if err != nil || ev.Submit == nil || ev.Submit.Metadata != sub || len(ev.Submit.Body) != 0 || !ev.Op.Valid() || ev.Op.ID != 77 || ev.Op.FrameID != 6 || ev.Terminal() {
		t.Fatalf("submit event %+v %v", ev, err)
	}

	if _, err := decodeEvent(rawEvent{kind: EventResultPushed, header: Header{Type: MsgResultPush}, payload: []byte{1, 2, 3}}, false); err == nil {
		t.Error("a truncated RESULT_PUSH decoded")
	}
	ev, err = decodeEvent(rawEvent{kind: EventFlowUpdated, header: Header{Type: MsgFlowUpdate}, payload: []byte{9}}, false)
	if err != nil || ev.Result != nil || ev.Drop != nil || !bytes.Equal(ev.Payload, []byte{9}) {
		t.Fatalf("flow update %+v %v", ev, err)
	}
}

func TestTimeoutMs(t *testing.T) {
	for _, tc := range []struct {
		in   int64 // nanoseconds
		want uint32
	}{{0, 1}, {-5, 1}, {1, 1}, {1e6, 1}, {1e6 + 1, 2}, {2500e6, 2500}, {1 << 62, 1<<32 - 1}} {
		if got := uint32(timeoutMs(time.Duration(tc.in))); got != tc.want {
			t.Errorf("timeoutMs(%dns) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	var err error = &Error{Op: "nnrp_client_open_session", Code: StatusProtocolError, Family: FamilySession, ProtocolCode: SessionErrSchemaUnsupported}
	wrapped := fmt.Errorf("open: %w", err)
	if !errors.Is(wrapped, StatusProtocolError) || errors.Is(wrapped, StatusInvalidState) || !isStatus(wrapped, StatusProtocolError) {
		t.Error("status matching through a wrapped error")
	}
	if want := "nnrp_client_open_session: protocol error (family session, protocol error 0x00010003, detail 0)"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if s := StatusCode(77).String(); s != "status 0x4d" {
		t.Errorf("unknown status prints %q", s)
	}
	if s := ErrorFamily(0xFFFF).String(); s != "internal" {
		t.Errorf("family prints %q", s)
	}
}

// FuzzDecodeEvent: decoding never panics, and a decoded view always aliases
// the payload it came from.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{goldenFrameSubmit, goldenResultPush, goldenDropReason} {
		b, _ := hex.DecodeString(s)
		f.Add(uint8(MsgResultPush), b)
		f.Add(uint8(MsgFrameSubmit), b)
		f.Add(uint8(MsgResultDropReason), b)
	}
	f.Add(uint8(MsgPartialResult), make([]byte, PartialResultMetadataLen))
	f.Add(uint8(MsgProgress), make([]byte, ProgressMetadataLen))
	f.Add(uint8(MsgSessionClose), make([]byte, SessionCloseMetadataLen))
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		ev, err := decodeEvent(rawEvent{kind: EventRuntimeFrame, header: Header{Type: MessageType(typ)}, op: opHandle{kind: opKind}, payload: payload}, typ%2 == 0)
		if err != nil {
			return
		}
		if ev.Result != nil && len(ev.Result.Body) != len(payload)-ResultPushMetadataLen {
			t.Fatalf("result body %d of payload %d", len(ev.Result.Body), len(payload))
		}
		if ev.Submit != nil && len(ev.Submit.Body) != len(payload)-FrameSubmitMetadataLen {
			t.Fatalf("submit body %d of payload %d", len(ev.Submit.Body), len(payload))
		}
		if ev.Drop != nil && ev.Drop.Reason != nil && len(ev.Drop.Reason.Diagnostic) != len(payload)-ResultDropReasonMetadataLen {
			t.Fatalf("diagnostic %d of payload %d", len(ev.Drop.Reason.Diagnostic), len(payload))
		}
	})
}
