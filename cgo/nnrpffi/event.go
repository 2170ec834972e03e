package nnrpffi

import "fmt"

// EventKind is the kind of a polled event.
type EventKind uint32

// Event kinds of C ABI 4.4. The live client reports RESULT_PUSH as
// EventResultPushed, RESULT_DROP and RESULT_DROP_REASON as EventResultDropped,
// FLOW_UPDATE and RESULT_HINT as their own kinds and every other frame
// (PARTIAL_RESULT, PROGRESS, ...) as EventRuntimeFrame. The live server reports
// FRAME_SUBMIT as EventSubmitAccepted, FRAME_CANCEL as EventControl,
// SESSION_CLOSE as EventSessionClosed, RESULT_DROP_REASON as EventResultDropped
// and other frames as EventRuntimeFrame. Use Event.Header.Type to tell frames apart.
const (
	EventNone           EventKind = 0
	EventConnectionOpen EventKind = 1
	EventSessionOpened  EventKind = 2
	EventSessionPatched EventKind = 3
	EventSessionClosed  EventKind = 4
	EventSubmitAccepted EventKind = 5
	EventResultPushed   EventKind = 6
	EventResultDropped  EventKind = 7
	EventFlowUpdated    EventKind = 8
	EventControl        EventKind = 9
	EventError          EventKind = 10
	EventResultHint     EventKind = 11
	EventPartialResult  EventKind = 12
	EventRuntimeFrame   EventKind = 13
)

var eventKindNames = [...]string{
	"none", "connection_opened", "session_opened", "session_patched", "session_closed",
	"submit_accepted", "result_pushed", "result_dropped", "flow_updated", "control", "error",
	"result_hint", "partial_result", "runtime_frame",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("event_kind(%d)", uint32(k))
}

// Header is the common header of the packet behind an event, as the library
// reports it.
type Header struct {
	Present      bool
	VersionMajor uint8
	WireFormat   uint8
	Type         MessageType
	Flags        uint32
	SessionID    uint32
	FrameID      uint32
	ViewID       uint16
	RouteID      uint16
	TraceID      uint64
}

// Operation identifies an operation on the server side: the frame a client
// submitted and the native handle the library created for it. The zero value
// names no operation.
type Operation struct {
	ID      uint64 // operation_id of the FRAME_SUBMIT
	FrameID uint32 // frame_id of the FRAME_SUBMIT
	h       opHandle
}

// Valid reports whether o carries a native operation handle.
func (o Operation) Valid() bool { return o.h.kind == opKind }

const opKind = 3 // NF_KIND_OPERATION

// Result is a received RESULT_PUSH.
type Result struct {
	Metadata ResultPushMetadata
	Body     []byte
}

// Drop is a received terminal drop: RESULT_DROP (Reason nil) or
// RESULT_DROP_REASON.
type Drop struct {
	Reason *DropReason
}

// Submitted is a FRAME_SUBMIT received by a server.
type Submitted struct {
	Metadata FrameSubmitMetadata
	Body     []byte
}

// Event is one polled event. Payload is what the library delivered (the
// message's metadata followed by its body / diagnostics), copied into Go
// memory; the decoded fields alias it. At most one decoded field is set.
type Event struct {
	Kind        EventKind
	Header      Header
	OperationID uint64 // the related operation id, 0 when the library names none
	Payload     []byte

	Result   *Result        // RESULT_PUSH
	Drop     *Drop          // RESULT_DROP, RESULT_DROP_REASON
	Partial  *PartialResult // PARTIAL_RESULT
	Progress *Progress      // PROGRESS
	Submit   *Submitted     // FRAME_SUBMIT (server)
	Close    *SessionClose  // SESSION_CLOSE (server)

	// Op is the operation a server event belongs to (FRAME_SUBMIT,
	// FRAME_CANCEL, client-sent drops and partials); pass it to the
	// ServerSession send methods.
	Op Operation
}

// Terminal reports whether the event ends its frame (RESULT_PUSH, RESULT_DROP,
// RESULT_DROP_REASON).
func (e *Event) Terminal() bool { return e.Result != nil || e.Drop != nil }

// FrameID is the frame the event belongs to (from the wire header).
func (e *Event) FrameID() uint32 { return e.Header.FrameID }

func (e *Event) String() string {
	return fmt.Sprintf("%s type=0x%02x session=%d frame=%d op=%d payload=%dB",
		e.Kind, uint8(e.Header.Type), e.Header.SessionID, e.Header.FrameID, e.OperationID, len(e.Payload))
}

// decodeEvent turns a raw event into an Event, decoding the payload of the
// message types this package knows. Only server events carry an Operation.
func decodeEvent(r rawEvent, server bool) (Event, error) {
	ev := Event{Kind: r.kind, Header: r.header, OperationID: r.relatedOpID, Payload: r.payload}
	if server && r.op.kind == opKind {
		ev.Op = Operation{ID: r.relatedOpID, FrameID: r.header.FrameID, h: r.op}
	}
	var err error
	switch r.header.Type {
	case MsgResultPush:
		var m ResultPushMetadata
		if m, err = ParseResultPushMetadata(r.payload); err == nil {
			ev.Result = &Result{Metadata: m, Body: r.payload[ResultPushMetadataLen:]}
		}
	case MsgResultDrop:
		ev.Drop = &Drop{}
	case MsgResultDropReason:
		var d DropReason
		if d, err = parseDropReason(r.payload); err == nil {
			ev.Drop = &Drop{Reason: &d}
		}
	case MsgPartialResult:
		var p PartialResult
		if p, err = parsePartialResult(r.payload); err == nil {
			ev.Partial = &p
		}
	case MsgProgress:
		var p Progress
		if p, err = parseProgress(r.payload); err == nil {
			ev.Progress = &p
		}
	case MsgFrameSubmit:
		var m FrameSubmitMetadata
		if m, err = ParseFrameSubmitMetadata(r.payload); err == nil {
			ev.Submit = &Submitted{Metadata: m, Body: r.payload[FrameSubmitMetadataLen:]}
			ev.OperationID = m.OperationID
			if ev.Op.Valid() {
				ev.Op.ID = m.OperationID
			}
		}
	case MsgSessionClose:
		var c SessionClose
		if c, err = parseSessionClose(r.payload); err == nil {
			ev.Close = &c
		}
	}
	if err != nil {
		return ev, fmt.Errorf("nnrp ffi: %s event for frame %d: %w", r.kind, r.header.FrameID, err)
	}
	return ev, nil
}
