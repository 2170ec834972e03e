package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/link"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ModelExtension is the vendor control-extension type nnrp-gpu reads from
// the SESSION_OPEN session extension block to bind the session to a model
// (payload: the model name, UTF-8).
const ModelExtension uint16 = 0x8001

// SessionOptions configure OpenSession.
type SessionOptions struct {
	// Profile is tensor (default) or token.
	Profile wire.ProfileID
	// SchemaID/SchemaVersion: 0/0 (default) or the token schema 0x1001 v3.
	SchemaID, SchemaVersion uint32
	Priority                wire.PriorityClass
	// MaxInFlight is the window of frames in flight (default 16).
	MaxInFlight uint16
	// DefaultDeadline is the session's default latency budget.
	DefaultDeadline time.Duration
	// Model names the model to bind (sent as the ModelExtension entry).
	Model string
	// RouteID is the SESSION_OPEN header route_id (servers may map routes to
	// models).
	RouteID     uint16
	AllowResume bool
	// EventQueue bounds events received but not yet read with Next (default
	// 4 × MaxInFlight + 16). When it is full the connection stops reading.
	EventQueue int
}

// Session is one open session.
type Session struct {
	c      *Conn
	id     uint32
	ack    wire.SessionOpenAck
	events chan link.Packet

	mu        sync.Mutex
	nextFrame uint32
	nextOp    uint64
	ops       map[uint32]uint64 // frames in flight → operation id
	closing   bool
	closed    chan struct{}
	token     []byte
	builder   wire.SubmitBuilder
}

// OpenSession opens a session (C§4.2).
func (c *Conn) OpenSession(ctx context.Context, o SessionOptions) (*Session, error) {
	if o.Profile == 0 {
		o.Profile = wire.ProfileTensor
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 16
	}
	if o.EventQueue <= 0 {
		o.EventQueue = 4*int(o.MaxInFlight) + 16
	}
	var ext []byte
	if o.Model != "" {
		var err error
		if ext, err = wire.AppendControlExtension(nil, ModelExtension, 0, []byte(o.Model)); err != nil {
			return nil, err
		}
	}
	open := wire.SessionOpen{
		ProfileID: o.Profile, PriorityClass: o.Priority, SchemaID: o.SchemaID, SchemaVersion: o.SchemaVersion,
		DefaultDeadlineMS: uint32(o.DefaultDeadline / time.Millisecond), MaxInFlightOperations: o.MaxInFlight,
		SessionExtensionBytes: uint32(len(ext)),
	}
	if o.AllowResume {
		open.Flags |= wire.SessionAllowResume
	}
	pkt, err := wire.AppendPacket(nil, wire.Header{RouteID: o.RouteID}, &open, ext)
	if err != nil {
		return nil, err
	}
	c.openMu.Lock()
	defer c.openMu.Unlock()
	if err := c.write(ctx, [][]byte{pkt}); err != nil {
		return nil, err
	}
	for {
		p, err := c.nextControl(ctx)
		if err != nil {
			return nil, err
		}
		if p.P.Header.Type != wire.TypeSessionOpenAck {
			err := fmt.Errorf("client: SESSION_OPEN answered by %s", describe(&p.P))
			p.Buf.Release()
			if p.P.Header.Type == wire.TypeError || p.P.Header.Type == wire.TypeTransportProbeAck {
				return nil, err
			}
			continue
		}
		s, err := c.sessionFromAck(&p.P, &open, o)
		p.Buf.Release()
		return s, err
	}
}

func (c *Conn) sessionFromAck(p *wire.Packet, open *wire.SessionOpen, o SessionOptions) (*Session, error) {
	ack, err := wire.Decode(p, wire.ParseSessionOpenAck)
	if err != nil {
		return nil, fmt.Errorf("client: SESSION_OPEN_ACK: %w", err)
	}
	token, ext, err := ack.SplitBody(p.Body)
	if err != nil {
		return nil, err
	}
	if !ack.Status.Accepted() {
		return nil, fmt.Errorf("%w: %s (%s): %s", ErrRejected, ack.Status, ack.SessionErrorCode, string(ext))
	}
	if err := ack.CheckForRequest(open); err != nil {
		return nil, fmt.Errorf("client: SESSION_OPEN_ACK: %w", err)
	}
	s := &Session{
		c: c, id: ack.SessionID, ack: ack, events: make(chan link.Packet, o.EventQueue),
		ops: map[uint32]uint64{}, closed: make(chan struct{}), token: append([]byte(nil), token...),
	}
	c.mu.Lock()
	c.sessions[s.id] = s
	c.mu.Unlock()
	return s, nil
}

// ID returns the session id.
func (s *Session) ID() uint32 { return s.id }

// Ack returns the server's SESSION_OPEN_ACK.
func (s *Session) Ack() wire.SessionOpenAck { return s.ack }

// ResumeToken returns the resume token, if the server granted one.
func (s *Session) ResumeToken() []byte { return s.token }

// deliver queues an inbound packet for Next (or Close, which consumes the
// SESSION_CLOSE_ACK). It blocks while the queue is full, which stops the
// connection's reader: the server then sees backpressure.
func (s *Session) deliver(p link.Packet, done <-chan struct{}) bool {
	select {
	case s.events <- p:
		return true
	case <-done:
		p.Buf.Release()
		return false
	}
}

// Frame is one FRAME_SUBMIT to send.
type Frame struct {
	// Meta carries the caller's fields (dimensions, latency budget, budget
	// policy, loss tolerance, frame class, ...). OperationID is assigned
	// when 0; the rest is derived from the payload.
	Meta     wire.FrameSubmit
	Tiles    wire.TileSpec
	Sections []wire.SectionData
	Camera   []byte
	Typed    []wire.TypedPayload
	// Opaque, when non-nil, is sent as the raw body (non-tensor frames).
	Opaque []byte
	// Header correlation fields copied into the submit's header.
	Flags   wire.Flags
	ViewID  uint16
	RouteID uint16
	TraceID uint64
}

// Submit queues a frame for sending and returns its frame id (it waits only
// while the connection's outbound queue is full). Results and drops arrive
// through Next.
func (s *Session) Submit(ctx context.Context, f *Frame) (uint32, error) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return 0, errors.New("client: session is closing")
	}
	s.nextFrame++
	frame := s.nextFrame
	opID := f.Meta.OperationID
	if opID == 0 {
		s.nextOp++
		opID = s.nextOp
	}
	h := wire.Header{Type: wire.TypeFrameSubmit, Flags: f.Flags, SessionID: s.id, FrameID: frame,
		ViewID: f.ViewID, RouteID: f.RouteID, TraceID: f.TraceID}
	var pkt []byte
	var err error
	if f.Opaque != nil {
		m := f.Meta
		m.OperationID = opID
		pkt, err = wire.AppendPacket(nil, h, &m, f.Opaque)
	} else {
		b := &s.builder
		b.Header, b.Meta = h, f.Meta
		b.Meta.OperationID = opID
		b.Tiles, b.Sections, b.Camera, b.Typed = f.Tiles, f.Sections, f.Camera, f.Typed
		pkt, err = b.Append(nil)
		b.Sections, b.Typed, b.Camera = nil, nil, nil
	}
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	s.ops[frame] = opID
	s.mu.Unlock()
	if err := s.c.send(ctx, [][]byte{pkt}); err != nil {
		return 0, err
	}
	return frame, nil
}

// OperationID returns the operation id of a frame still in flight.
func (s *Session) OperationID(frame uint32) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[frame]
	return op, ok
}

// Cancel sends CANCEL for a frame in flight; its terminal answer (normally
// RESULT_DROP_REASON peer_cancelled) still arrives through Next.
func (s *Session) Cancel(ctx context.Context, frame uint32) error {
	op, ok := s.OperationID(frame)
	if !ok {
		return fmt.Errorf("client: frame %d is not in flight", frame)
	}
	m := wire.Cancel{OperationID: op, ControlSequence: op, Reason: wire.ReasonUserCancelled,
		SourceRole: wire.RoleClient, Flags: wire.CooperativeAllowed}
	pkt, err := wire.AppendPacket(nil, wire.Header{SessionID: s.id, FrameID: frame}, &m)
	if err != nil {
		return err
	}
	return s.c.write(ctx, [][]byte{pkt})
}

// CancelFrame sends FRAME_CANCEL for a frame (the header-only cancel the
// official client uses); like Cancel, the answer arrives through Next.
func (s *Session) CancelFrame(ctx context.Context, frame uint32) error {
	if _, ok := s.OperationID(frame); !ok {
		return fmt.Errorf("client: frame %d is not in flight", frame)
	}
	return s.Send(ctx, wire.Header{Type: wire.TypeFrameCancel, FrameID: frame}, nil)
}

// Send writes an arbitrary session packet built by the caller (control
// messages such as DEADLINE, EXPIRE_AT, SESSION_PATCH, PING).
func (s *Session) Send(ctx context.Context, h wire.Header, m wire.Message, body ...[]byte) error {
	h.SessionID = s.id
	pkt, err := wire.AppendPacket(nil, h, m, body...)
	if err != nil {
		return err
	}
	return s.c.write(ctx, [][]byte{pkt})
}

// Close sends SESSION_CLOSE and waits for its ack. Events still queued are
// released.
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return errors.New("client: session already closing")
	}
	s.closing = true
	var last uint64
	for _, op := range s.ops {
		last = max(last, op)
	}
	s.mu.Unlock()
	m := wire.SessionClose{Reason: wire.CloseReasonClientShutdown, LastOperationID: last, SessionCloseTag: s.id}
	pkt, err := wire.AppendPacket(nil, wire.Header{SessionID: s.id}, &m)
	if err != nil {
		return err
	}
	if err := s.c.write(ctx, [][]byte{pkt}); err != nil {
		return err
	}
	defer func() {
		s.c.mu.Lock()
		delete(s.c.sessions, s.id)
		s.c.mu.Unlock()
	}()
	for {
		select {
		case p := <-s.events:
			t := p.P.Header.Type
			if t == wire.TypeSessionCloseAck {
				_, err := wire.Decode(&p.P, wire.ParseSessionCloseAck)
				p.Buf.Release()
				return err
			}
			p.Buf.Release()
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-s.c.done:
			return s.c.err
		}
	}
}
