package nnrpffi

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// payload is metadata m (encoded by wire) followed by body, as the library
// delivers an event payload.
func payload(t testing.TB, m wire.Message, body []byte) []byte {
	t.Helper()
	b, err := m.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, body...)
}

func TestDecodeEvent(t *testing.T) {
	body := []byte("echo")
	rp := wire.ResultPush{Class: wire.ClassDegraded, Flags: wire.ResultFlagFallback, AppliedBudgetPolicy: wire.AllowDegraded,
		PayloadKindBitmap: wire.PayloadTensor, TileCount: 2, CoveredTileCount: 2}
	ev, err := decodeEvent(rawEvent{kind: EventResultPushed, header: Header{Type: wire.TypeResultPush, FrameID: 4},
		op: opHandle{kind: opKind, id: 3, generation: 1}, relatedOpID: 4, payload: payload(t, &rp, body)}, false)
	if err != nil || ev.Result == nil || ev.Result.Meta != rp || string(ev.Result.Body) != "echo" || !ev.Terminal() || ev.FrameID() != 4 || ev.OperationID != 4 {
		t.Fatalf("result event %+v %v", ev, err)
	}
	if ev.Op.Valid() {
		t.Error("a client event carries an operation")
	}

	ev, err = decodeEvent(rawEvent{kind: EventResultDropped, header: Header{Type: wire.TypeResultDrop, FrameID: 5}}, false)
	if err != nil || ev.Drop == nil || ev.Drop.Reason != nil || !ev.Terminal() {
		t.Fatalf("plain drop event %+v %v", ev, err)
	}

	dr := wire.ResultDropReason{OperationID: 6, ResultSequence: 1, Reason: wire.DropDeadlineExpired, SourceRole: wire.RoleServer,
		Flags: wire.ResultDropFinal, DiagnosticBytes: 8}
	raw := payload(t, &dr, []byte("deadline"))
	ev, err = decodeEvent(rawEvent{kind: EventResultDropped, header: Header{Type: wire.TypeResultDropReason, FrameID: 6}, payload: raw}, false)
	if err != nil || ev.Drop == nil || ev.Drop.Reason == nil || *ev.Drop.Reason != dr || string(ev.Drop.Diagnostic) != "deadline" {
		t.Fatalf("drop reason event %+v %v", ev, err)
	}
	// The diagnostic length the metadata declares must match the payload.
	if _, err := decodeEvent(rawEvent{kind: EventResultDropped, header: Header{Type: wire.TypeResultDropReason}, payload: raw[:len(raw)-1]}, false); err == nil {
		t.Error("a diagnostic shorter than declared decoded")
	}

	pr := wire.PartialResult{OperationID: 9, ResultSequence: 2, ObjectID: 3, DeltaSequence: 4, BodyBytes: 4,
		Flags: wire.PartialFinal | wire.PartialObjectRefPresent}
	ev, err = decodeEvent(rawEvent{kind: EventRuntimeFrame, header: Header{Type: wire.TypePartialResult}, payload: payload(t, &pr, []byte("half"))}, false)
	if err != nil || ev.Partial == nil || ev.Partial.Meta != pr || string(ev.Partial.Body) != "half" || ev.Terminal() {
		t.Fatalf("partial event %+v %v", ev, err)
	}

	pg := wire.Progress{OperationID: 9, ProgressSequence: 1, Stage: wire.StageExecuting, PercentX100: wire.PercentUnknown, ObjectID: 7, BodyBytes: 2}
	ev, err = decodeEvent(rawEvent{kind: EventRuntimeFrame, header: Header{Type: wire.TypeProgress}, payload: payload(t, &pg, []byte{1, 2})}, false)
	if err != nil || ev.Progress == nil || ev.Progress.Meta != pg || !bytes.Equal(ev.Progress.Body, []byte{1, 2}) {
		t.Fatalf("progress event %+v %v", ev, err)
	}

	sub := TensorSubmit(10, wire.AllowDrop)
	sub.OperationID = 77
	ev, err = decodeEvent(rawEvent{kind: EventSubmitAccepted, header: Header{Type: wire.TypeFrameSubmit, FrameID: 6},
		op: opHandle{kind: opKind, id: 1, generation: 1}, payload: payload(t, &sub, nil)}, true)
	if err != nil || ev.Submit == nil || ev.Submit.Meta != sub || len(ev.Submit.Body) != 0 || !ev.Op.Valid() || ev.Op.ID != 77 || ev.Op.FrameID != 6 || ev.Terminal() {
		t.Fatalf("submit event %+v %v", ev, err)
	}

	sc := wire.SessionClose{Reason: wire.CloseReasonClientShutdown, InFlightPolicy: wire.InFlightAbort, DrainTimeoutMS: 16,
		LastOperationID: 42, SessionErrorCode: 0x10007, SessionCloseTag: 3}
	ev, err = decodeEvent(rawEvent{kind: EventSessionClosed, header: Header{Type: wire.TypeSessionClose, SessionID: 3}, payload: payload(t, &sc, nil)}, true)
	if err != nil || ev.Close == nil || *ev.Close != sc {
		t.Fatalf("session close event %+v %v", ev, err)
	}

	if _, err := decodeEvent(rawEvent{kind: EventResultPushed, header: Header{Type: wire.TypeResultPush}, payload: []byte{1, 2, 3}}, false); err == nil {
		t.Error("a truncated RESULT_PUSH decoded")
	}
	bad := payload(t, &rp, nil)
	bad[10] = 1 // a reserved field
	if _, err := decodeEvent(rawEvent{kind: EventResultPushed, header: Header{Type: wire.TypeResultPush}, payload: bad}, false); err == nil {
		t.Error("a RESULT_PUSH with a non-zero reserved field decoded")
	}
	ev, err = decodeEvent(rawEvent{kind: EventFlowUpdated, header: Header{Type: wire.TypeFlowUpdate}, payload: []byte{9}}, false)
	if err != nil || ev.Result != nil || ev.Drop != nil || !bytes.Equal(ev.Payload, []byte{9}) {
		t.Fatalf("flow update %+v %v", ev, err)
	}
	ev, err = decodeEvent(rawEvent{kind: EventRuntimeFrame, header: Header{Type: 0xEE}, payload: []byte{9}}, false)
	if err != nil || ev.Result != nil || !bytes.Equal(ev.Payload, []byte{9}) {
		t.Fatalf("unknown type %+v %v", ev, err)
	}
}

// TestSendSideRules: the binding sends only metadata wire accepts, so a
// result the library alone would carry is refused before any call.
func TestSendSideRules(t *testing.T) {
	var scratch [128]byte
	ok := wire.ResultPush{Class: wire.ClassStaleReuse, Flags: wire.ResultFlagStale, AppliedBudgetPolicy: wire.AllowStaleReuse, ReusedFrameID: 4}
	if b, err := appendMeta(scratch[:], &ok); err != nil || len(b) != ok.Len() {
		t.Fatalf("valid result: %d bytes, %v", len(b), err)
	}
	for name, m := range map[string]wire.ResultPush{
		"stale reuse without a reused frame (R2)":    {Class: wire.ClassStaleReuse},
		"tensor covered+dropped != tiles (R3)":       {PayloadKindBitmap: wire.PayloadTensor, TileCount: 3, CoveredTileCount: 1},
		"token chunks without typed frames (R7)":     {PayloadKindBitmap: wire.PayloadTokenChunk},
		"non-tensor result with tile fields (R1)":    {TileCount: 1, CoveredTileCount: 1},
		"unknown result flag":                        {Flags: 0x8},
		"tensor partial without a dropped tile (R4)": {PayloadKindBitmap: wire.PayloadTensor, Class: wire.ClassPartial, TileCount: 1, CoveredTileCount: 1},
	} {
		if _, err := appendMeta(scratch[:], &m); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	s := (&ServerSession{}) // never reaches the library: the metadata fails first
	op := Operation{ID: 1, FrameID: 1, h: opHandle{kind: opKind, id: 1, generation: 1}}
	if err := s.SendResult(op, &wire.ResultPush{Class: wire.ClassStaleReuse}, nil); err == nil {
		t.Error("SendResult sent a stale_reuse result without reused_frame_id")
	}
	if err := s.SendPartial(op, wire.PartialResult{}, nil); err == nil {
		t.Error("SendPartial sent a partial result with neither body nor object")
	}
	if err := s.SendDrop(op, wire.ResultDropReason{}, nil); err == nil {
		t.Error("SendDrop sent drop reason 0")
	}
	if err := s.SendResult(Operation{}, &ok, nil); err == nil {
		t.Error("SendResult without an operation")
	}
}

func TestTensorRequest(t *testing.T) {
	b := wire.SubmitBuilder{
		Header: wire.Header{Flags: wire.FlagKeyframe, SessionID: 9, FrameID: 9, ViewID: 2, RouteID: 3, TraceID: 4},
		Meta:   TensorSubmit(40, wire.AllowPartial),
		Tiles:  wire.TileRange(5, 2),
		Sections: []wire.SectionData{{RoleID: 1, DTypeID: wire.DTypeUint8, ElementCountPerTile: 3,
			Tiles: [][]byte{{1, 2, 3}, {4, 5, 6}}}},
	}
	req, err := TensorRequest(&b)
	if err != nil {
		t.Fatal(err)
	}
	if b.Meta.OperationID != 0 {
		t.Error("TensorRequest changed the builder")
	}
	// The request is exactly the builder's packet without its header.
	bb := b
	bb.Meta.OperationID = 1
	pkt, err := bb.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	var scratch [128]byte
	m := req.Metadata
	m.OperationID = 1
	meta, err := appendMeta(scratch[:], &m)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(meta, req.Body...); !bytes.Equal(got, pkt[wire.HeaderLen:]) {
		t.Errorf("request bytes differ from the builder's packet")
	}
	if req.Metadata.OperationID != 0 || req.Metadata.TileCount != 2 || req.Metadata.TileBaseID != 5 || req.Metadata.SectionCount != 1 ||
		req.HeaderFlags != wire.FlagKeyframe || req.ViewID != 2 || req.RouteID != 3 || req.TraceID != 4 || req.FrameID != 0 {
		t.Errorf("request %+v", req)
	}
	b.Sections[0].Tiles = b.Sections[0].Tiles[:1] // 1 tile payload for 2 tiles
	if _, err := TensorRequest(&b); err == nil {
		t.Error("an inconsistent builder produced a request")
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
	var err error = &Error{Op: "nnrp_client_open_session", Code: StatusProtocolError, Family: FamilySession, ProtocolCode: wire.SessionSchemaUnsupported}
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
	add := func(m wire.Message, body []byte) {
		b, err := m.Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		b = append(b, body...)
		f.Add(uint8(m.Type()), b)
	}
	add(&wire.ResultPush{PayloadKindBitmap: wire.PayloadTensor}, []byte("body"))
	add(&wire.ResultDropReason{OperationID: 1, Reason: wire.DropDeadlineExpired, DiagnosticBytes: 2}, []byte("hi"))
	add(&wire.PartialResult{OperationID: 1, BodyBytes: 1}, []byte{0})
	add(&wire.Progress{OperationID: 1}, nil)
	add(&wire.SessionClose{}, nil)
	sub := TokenSubmit(0, 0)
	sub.OperationID = 1
	add(&sub, []byte("prompt"))
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		ev, err := decodeEvent(rawEvent{kind: EventRuntimeFrame, header: Header{Type: wire.MessageType(typ)}, op: opHandle{kind: opKind}, payload: payload}, typ%2 == 0)
		if err != nil {
			return
		}
		n := wire.MessageType(typ).MetaLen()
		if ev.Result != nil && len(ev.Result.Body) != len(payload)-n {
			t.Fatalf("result body %d of payload %d", len(ev.Result.Body), len(payload))
		}
		if ev.Submit != nil && len(ev.Submit.Body) != len(payload)-n {
			t.Fatalf("submit body %d of payload %d", len(ev.Submit.Body), len(payload))
		}
		if ev.Drop != nil && ev.Drop.Reason != nil && len(ev.Drop.Diagnostic) != int(ev.Drop.Reason.DiagnosticBytes) {
			t.Fatalf("diagnostic %d, declared %d", len(ev.Drop.Diagnostic), ev.Drop.Reason.DiagnosticBytes)
		}
		if ev.Partial != nil && len(ev.Partial.Body) != int(ev.Partial.Meta.BodyBytes) {
			t.Fatalf("partial body %d, declared %d", len(ev.Partial.Body), ev.Partial.Meta.BodyBytes)
		}
	})
}
