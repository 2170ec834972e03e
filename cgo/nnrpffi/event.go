package nnrpffi

import (
	"fmt"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

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
	Type         wire.MessageType
	Flags        wire.Flags
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
	Meta wire.ResultPush
	Body []byte
}

// Drop is a received terminal drop: RESULT_DROP (Reason nil) or
// RESULT_DROP_REASON with its diagnostic.
type Drop struct {
	Reason     *wire.ResultDropReason
	Diagnostic []byte
}

// Partial is a received PARTIAL_RESULT.
type Partial struct {
	Meta wire.PartialResult
	Body []byte
}

// Progress is a received PROGRESS.
type Progress struct {
	Meta wire.Progress
	Body []byte
}

// Submitted is a FRAME_SUBMIT received by a server.
type Submitted struct {
	Meta wire.FrameSubmit
	Body []byte
}

// Event is one polled event. Payload is what the library delivered (the
// message's metadata followed by its body / diagnostics), copied into Go
// memory; the decoded fields alias it. At most one decoded field is set.
type Event struct {
	Kind        EventKind
	Header      Header
	OperationID uint64 // the related operation id, 0 when the library names none
	Payload     []byte

	Result   *Result            // RESULT_PUSH
	Drop     *Drop              // RESULT_DROP, RESULT_DROP_REASON
	Partial  *Partial           // PARTIAL_RESULT
	Progress *Progress          // PROGRESS
	Submit   *Submitted         // FRAME_SUBMIT (server)
	Close    *wire.SessionClose // SESSION_CLOSE (server)

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
	return fmt.Sprintf("%s %s session=%d frame=%d op=%d payload=%dB",
		e.Kind, e.Header.Type, e.Header.SessionID, e.Header.FrameID, e.OperationID, len(e.Payload))
}

// decodeEvent turns a raw event into an Event, decoding the payload of the
// message types this package knows with package wire (metadata length,
// metadata rules and the body length the metadata implies). Only server
// events carry an Operation.
func decodeEvent(r rawEvent, server bool) (Event, error) {
	ev := Event{Kind: r.kind, Header: r.header, OperationID: r.relatedOpID, Payload: r.payload}
	if server && r.op.kind == opKind {
		ev.Op = Operation{ID: r.relatedOpID, FrameID: r.header.FrameID, h: r.op}
	}
	t := r.header.Type
	if !t.Known() {
		return ev, nil
	}
	n := min(t.MetaLen(), len(r.payload))
	p := wire.Packet{
		Header: wire.Header{Type: t, SessionID: r.header.SessionID, FrameID: r.header.FrameID},
		Meta:   r.payload[:n:n],
		Body:   r.payload[n:],
	}
	var err error
	switch t {
	case wire.TypeResultPush:
		var m wire.ResultPush
		if m, err = wire.Decode(&p, wire.ParseResultPush); err == nil {
			ev.Result = &Result{Meta: m, Body: p.Body}
		}
	case wire.TypeResultDrop:
		ev.Drop = &Drop{} // header-only on the wire; the library's payload, if any, is not part of it
	case wire.TypeResultDropReason:
		var m wire.ResultDropReason
		if m, err = wire.Decode(&p, wire.ParseResultDropReason); err == nil {
			ev.Drop = &Drop{Reason: &m, Diagnostic: p.Body}
		}
	case wire.TypePartialResult:
		var m wire.PartialResult
		if m, err = wire.Decode(&p, wire.ParsePartialResult); err == nil {
			ev.Partial = &Partial{Meta: m, Body: p.Body}
		}
	case wire.TypeProgress:
		var m wire.Progress
		if m, err = wire.Decode(&p, wire.ParseProgress); err == nil {
			ev.Progress = &Progress{Meta: m, Body: p.Body}
		}
	case wire.TypeFrameSubmit:
		var m wire.FrameSubmit
		if m, err = wire.Decode(&p, wire.ParseFrameSubmit); err == nil {
			ev.Submit = &Submitted{Meta: m, Body: p.Body}
			ev.OperationID = m.OperationID
			if ev.Op.Valid() {
				ev.Op.ID = m.OperationID
			}
		}
	case wire.TypeSessionClose:
		var m wire.SessionClose
		if m, err = wire.Decode(&p, wire.ParseSessionClose); err == nil {
			ev.Close = &m
		}
	}
	if err != nil {
		return ev, fmt.Errorf("nnrp ffi: %s event for frame %d: %w", r.kind, r.header.FrameID, err)
	}
	return ev, nil
}
