package nnrpffi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi/nnrpffitest"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ffiCarrier is one way of reaching an official server.
type ffiCarrier struct {
	name       string
	transport  nnrpffi.Transport
	tls        bool
	selfSigned bool
}

var carriers = []ffiCarrier{
	{name: "tcp", transport: nnrpffi.TransportTCP},
	{name: "tls", transport: nnrpffi.TransportTCP, tls: true},
	{name: "quic", transport: nnrpffi.TransportQUIC, tls: true},
}

// setup loads the library of c and returns listen and dial options for a
// loopback server on it (with fresh TLS material when c needs it).
func (c ffiCarrier) setup(t testing.TB) (*nnrpffi.Lib, nnrpffi.ListenOptions, func(endpoint string) nnrpffi.DialOptions) {
	t.Helper()
	lib := nnrpffitest.RequireLib(t, c.transport)
	lo := nnrpffi.ListenOptions{Endpoint: c.transport.String() + "://127.0.0.1:0"}
	var ctls *nnrpffi.ClientTLS
	if c.tls {
		m := devCert(t, c.selfSigned)
		lo.TLS = &nnrpffi.ServerTLS{CertDER: m.LeafDER, KeyPKCS8DER: m.KeyPKCS8}
		ctls = &nnrpffi.ClientTLS{ServerName: "localhost", RootCertDER: m.CADER}
	}
	return lib, lo, func(endpoint string) nnrpffi.DialOptions {
		return nnrpffi.DialOptions{Endpoint: endpoint, TLS: ctls, ConnectTimeout: 10 * time.Second}
	}
}

// devCert makes development TLS material the official client accepts: an
// end-entity leaf with SAN localhost / 127.0.0.1, issued by a CA or
// self-signed.
func devCert(t testing.TB, selfSigned bool) *carrier.DevCertificate {
	t.Helper()
	d, err := carrier.NewDevCertificateWith(carrier.DevCertificateOptions{Hosts: []string{"localhost", "127.0.0.1"}, SelfSigned: selfSigned})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const awaitTimeout = 10 * time.Second

// awaitTerminal polls s until the terminal event of frame arrives and returns
// it together with the non-terminal events of that frame that came first.
func awaitTerminal(t *testing.T, s *nnrpffi.ClientSession, frame uint32) (nnrpffi.Event, []nnrpffi.Event) {
	t.Helper()
	return awaitTerminalWithin(t, s, frame, awaitTimeout)
}

// awaitTerminalWithin is awaitTerminal with its own bound.
func awaitTerminalWithin(t *testing.T, s *nnrpffi.ClientSession, frame uint32, d time.Duration) (nnrpffi.Event, []nnrpffi.Event) {
	t.Helper()
	var before []nnrpffi.Event
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		events, err := s.Await(time.Until(deadline), 1)
		if err != nil {
			t.Fatalf("await frame %d: %v", frame, err)
		}
		for _, ev := range events {
			if ev.FrameID() != frame {
				t.Fatalf("event for frame %d while waiting for frame %d: %s", ev.FrameID(), frame, ev.String())
			}
			if ev.Terminal() {
				return ev, before
			}
			before = append(before, ev)
		}
	}
	t.Fatalf("no terminal event for frame %d within %v", frame, d)
	return nnrpffi.Event{}, nil
}

// startEcho starts an official echo server and a connection of the official
// client to it; both are closed at the end of the test if the test has not
// closed them.
func startEcho(t *testing.T, lib *nnrpffi.Lib, lo nnrpffi.ListenOptions, dialOpts func(string) nnrpffi.DialOptions) (*nnrpffitest.EchoServer, *nnrpffi.ClientConn) {
	t.Helper()
	echo, err := nnrpffitest.StartEchoServer(lib, lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Close() }) // ErrClosed once the test closed it
	conn, err := lib.Dial(dialOpts(echo.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return echo, conn
}

func TestOfficialClientOfficialServer(t *testing.T) {
	for _, c := range carriers {
		t.Run(c.name, func(t *testing.T) {
			lib, lo, dialOpts := c.setup(t)
			before := lib.OpenHandles()
			t.Cleanup(func() { goleak.VerifyNone(t) })
			echo, conn := startEcho(t, lib, lo, dialOpts)
			if conn.Transport() != c.transport {
				t.Errorf("connection transport %s, want %s", conn.Transport(), c.transport)
			}

			// Three sessions on one connection: tensor, token, and one left
			// open for the connection close. (They are all opened before any
			// closes: the official server hands a closed session's id to the
			// next session, and the official client refuses an id it has
			// seen on the connection before.)
			ids := map[uint32]bool{}
			var sessions []*nnrpffi.ClientSession
			for _, profile := range []wire.ProfileID{wire.ProfileTensor, wire.ProfileToken, wire.ProfileTensor} {
				sess, err := conn.OpenSession(nnrpffi.SessionOptions{
					Profile: profile, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion,
					MaxInFlight: 16, DefaultDeadline: 500 * time.Millisecond, Priority: 1,
				})
				if err != nil {
					t.Fatalf("profile %d: open session: %v", profile, err)
				}
				if sess.ID() == 0 || ids[sess.ID()] {
					t.Fatalf("profile %d: session id %d is zero or reused (%v)", profile, sess.ID(), ids)
				}
				ids[sess.ID()] = true
				sessions = append(sessions, sess)
			}
			for i, profile := range []wire.ProfileID{wire.ProfileTensor, wire.ProfileToken} {
				exerciseSession(t, sessions[i], profile)
			}
			checkRejections(t, conn)
			for i := range 2 {
				if err := sessions[i].Close(); err != nil {
					t.Fatalf("session %d close: %v", sessions[i].ID(), err)
				}
				checkClosedClientSession(t, sessions[i])
			}

			// The session left open still works, and is dropped with the
			// connection.
			open := sessions[2]
			echoFrames(t, open, nnrpffi.TensorSubmit(0, 0), 3, 1, 100)
			if err := conn.Close(); err != nil {
				t.Fatalf("connection close: %v", err)
			}
			if _, err := open.Submit(&nnrpffi.SubmitRequest{Metadata: nnrpffi.TensorSubmit(0, 0)}); !errors.Is(err, nnrpffi.ErrClosed) {
				t.Errorf("submit on a session of a closed connection: %v, want ErrClosed", err)
			}
			if _, err := open.NativeSessionID(); !errors.Is(err, nnrpffi.StatusInvalidHandle) {
				t.Errorf("session handle after connection close: %v, want invalid handle", err)
			}
			if err := conn.Close(); !errors.Is(err, nnrpffi.ErrClosed) {
				t.Errorf("second connection close: %v, want ErrClosed", err)
			}

			if err := echo.Close(); err != nil {
				t.Errorf("echo server: %v", err)
			}
			sessionsAccepted, frames := echo.Counts()
			if sessionsAccepted != 3 {
				t.Errorf("server accepted %d sessions, want 3", sessionsAccepted)
			}
			if want := 2*(200+6) + 3; frames != want {
				t.Errorf("server answered %d frames, want %d", frames, want)
			}
			if n := lib.OpenHandles(); n != before {
				t.Errorf("%d native handles open after shutdown, want %d", n, before)
			}
		})
	}
}

// exerciseSession runs the per-session scenarios: 200 echoes, every result
// class, progress + partial result, a drop with reason and a cancel.
func exerciseSession(t *testing.T, sess *nnrpffi.ClientSession, profile wire.ProfileID) {
	t.Helper()
	meta := nnrpffi.TensorSubmit(250, wire.AllowPartial|wire.AllowStaleReuse|wire.AllowDegraded|wire.AllowDrop)
	if profile == wire.ProfileToken {
		meta = nnrpffi.TokenSubmit(250, wire.AllowPartial|wire.AllowStaleReuse|wire.AllowDegraded|wire.AllowDrop)
	}
	last := echoFrames(t, sess, meta, 200, 8, 16<<10)

	rng := rand.New(rand.NewPCG(uint64(profile), 7))
	body := randomBytes(rng, 777)
	for _, cmd := range []uint64{nnrpffitest.CmdComplete, nnrpffitest.CmdPartial, nnrpffitest.CmdStaleReuse, nnrpffitest.CmdDegraded} {
		m := meta
		m.DependencyFrameID = last
		f, err := sess.Submit(&nnrpffi.SubmitRequest{Metadata: m, Body: body, TraceID: cmd, ViewID: 3, RouteID: 4})
		if err != nil {
			t.Fatalf("cmd %d: submit: %v", cmd, err)
		}
		ev, extra := awaitTerminal(t, sess, f.FrameID)
		if len(extra) != 0 || ev.Result == nil {
			t.Fatalf("cmd %d: got %v then %s, want one RESULT_PUSH", cmd, extra, ev.String())
		}
		want := nnrpffitest.EchoResultMetadata(cmd, &m)
		if ev.Result.Meta != want {
			t.Errorf("cmd %d: result metadata\n got %+v\nwant %+v", cmd, ev.Result.Meta, want)
		}
		if !bytes.Equal(ev.Result.Body, body) {
			t.Errorf("cmd %d: body differs", cmd)
		}
		if ev.Kind != nnrpffi.EventResultPushed || ev.Header.SessionID != sess.ID() || ev.OperationID != f.OperationID {
			t.Errorf("cmd %d: event %s, want result_pushed for session %d operation %d", cmd, ev.String(), sess.ID(), f.OperationID)
		}
		switch cmd {
		case nnrpffitest.CmdPartial:
			if profile == wire.ProfileTensor && (want.CoveredTileCount != 5 || want.DroppedTileCount != 3) {
				t.Errorf("partial tensor result covers %d/%d tiles", want.CoveredTileCount, want.DroppedTileCount)
			}
		case nnrpffitest.CmdStaleReuse:
			if ev.Result.Meta.ReusedFrameID != last || last == 0 {
				t.Errorf("stale reuse names frame %d, want %d", ev.Result.Meta.ReusedFrameID, last)
			}
		}
		last = f.FrameID
	}

	// Progress and a partial result precede the final result.
	f, err := sess.Submit(&nnrpffi.SubmitRequest{Metadata: meta, Body: body, TraceID: nnrpffitest.CmdStream})
	if err != nil {
		t.Fatal(err)
	}
	ev, extra := awaitTerminal(t, sess, f.FrameID)
	if len(extra) != 2 || extra[0].Progress == nil || extra[1].Partial == nil {
		t.Fatalf("stream: got %v before the result, want PROGRESS then PARTIAL_RESULT", extra)
	}
	if p := extra[0].Progress; p.Meta.OperationID != f.OperationID || p.Meta.ProgressSequence != 1 || p.Meta.Stage != wire.StageExecuting || p.Meta.PercentX100 != 5000 || len(p.Body) != 0 {
		t.Errorf("progress %+v", *p)
	}
	if p := extra[1].Partial; p.Meta.OperationID != f.OperationID || p.Meta.ResultSequence != 1 || !bytes.Equal(p.Body, body[:len(body)/2]) {
		t.Errorf("partial result %+v", *p)
	}
	if ev.Result == nil || !bytes.Equal(ev.Result.Body, body) || ev.Result.Meta.Class != wire.ClassComplete {
		t.Errorf("stream: final event %s", ev.String())
	}

	// A drop with a reason.
	f, err = sess.Submit(&nnrpffi.SubmitRequest{Metadata: meta, Body: body, TraceID: nnrpffitest.CmdDrop})
	if err != nil {
		t.Fatal(err)
	}
	ev, _ = awaitTerminal(t, sess, f.FrameID)
	checkDrop(t, ev, f, wire.DropBudgetExceeded, nnrpffitest.EchoDropDiagnostic)

	// Cancel: the server holds the frame until FRAME_CANCEL, then drops it.
	f, err = sess.Submit(&nnrpffi.SubmitRequest{Metadata: meta, Body: body, TraceID: nnrpffitest.CmdHold})
	if err != nil {
		t.Fatal(err)
	}
	if events, err := sess.Await(50*time.Millisecond, 1); err != nil || len(events) != 0 {
		t.Fatalf("held frame answered before the cancel: %v %v", events, err)
	}
	if err := sess.Cancel(f.FrameID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	ev, _ = awaitTerminal(t, sess, f.FrameID)
	checkDrop(t, ev, f, wire.DropPeerCancelled, nnrpffitest.EchoCancelDiagnostic)
}

func checkDrop(t *testing.T, ev nnrpffi.Event, f nnrpffi.Frame, code wire.DropReason, diag string) {
	t.Helper()
	if ev.Kind != nnrpffi.EventResultDropped || ev.Drop == nil || ev.Drop.Reason == nil {
		t.Fatalf("frame %d: %s, want RESULT_DROP_REASON", f.FrameID, ev.String())
	}
	r := ev.Drop.Reason
	if r.OperationID != f.OperationID || r.Reason != code || r.SourceRole != wire.RoleServer ||
		r.Flags != wire.ResultDropFinal || string(ev.Drop.Diagnostic) != diag || ev.Header.Type != wire.TypeResultDropReason {
		t.Errorf("frame %d: drop %+v (diagnostic %q), want %s from the server, final, %q", f.FrameID, *r, ev.Drop.Diagnostic, code, diag)
	}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n:n]
}

// echoFrames submits n frames of random bodies (0..maxBody bytes) with up to
// window outstanding and checks every RESULT_PUSH echoes its body exactly. It
// returns the last frame id.
func echoFrames(t *testing.T, sess *nnrpffi.ClientSession, meta wire.FrameSubmit, n, window, maxBody int) uint32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(maxBody)))
	sent := map[uint32][]byte{}
	var last uint32
	done, submitted := 0, 0
	for done < n {
		for submitted < n && len(sent) < window {
			body := randomBytes(rng, rng.IntN(maxBody+1))
			f, err := sess.Submit(&nnrpffi.SubmitRequest{Metadata: meta, Body: body})
			if err != nil {
				t.Fatalf("submit %d: %v", submitted, err)
			}
			if f.FrameID <= last || f.OperationID != uint64(f.FrameID) {
				t.Fatalf("frame %+v after frame %d", f, last)
			}
			last = f.FrameID
			sent[f.FrameID] = body
			submitted++
		}
		events, err := sess.Await(awaitTimeout, 1)
		if err != nil || len(events) == 0 {
			t.Fatalf("await after %d results: %v (no event: %v)", done, err, len(events) == 0)
		}
		for _, ev := range events {
			body, ok := sent[ev.FrameID()]
			if !ok || ev.Result == nil {
				t.Fatalf("unexpected event %s", ev.String())
			}
			delete(sent, ev.FrameID())
			if !bytes.Equal(ev.Result.Body, body) {
				t.Fatalf("frame %d: echo of %d bytes differs from the %d bytes sent", ev.FrameID(), len(ev.Result.Body), len(body))
			}
			if want := nnrpffitest.EchoResultMetadata(nnrpffitest.CmdComplete, &meta); ev.Result.Meta != want {
				t.Fatalf("frame %d: metadata %+v, want %+v", ev.FrameID(), ev.Result.Meta, want)
			}
			done++
		}
	}
	return last
}

func checkClosedClientSession(t *testing.T, sess *nnrpffi.ClientSession) {
	t.Helper()
	if _, err := sess.NativeSessionID(); !errors.Is(err, nnrpffi.StatusInvalidHandle) {
		t.Errorf("session handle after close: %v, want invalid handle", err)
	}
	if err := sess.Close(); !errors.Is(err, nnrpffi.ErrClosed) {
		t.Errorf("second close: %v, want ErrClosed", err)
	}
	if _, err := sess.Submit(&nnrpffi.SubmitRequest{}); !errors.Is(err, nnrpffi.ErrClosed) {
		t.Errorf("submit after close: %v, want ErrClosed", err)
	}
	if _, err := sess.Await(time.Millisecond, 1); !errors.Is(err, nnrpffi.ErrClosed) {
		t.Errorf("await after close: %v, want ErrClosed", err)
	}
	if err := sess.Cancel(1); !errors.Is(err, nnrpffi.ErrClosed) {
		t.Errorf("cancel after close: %v, want ErrClosed", err)
	}
}

// checkRejections opens sessions the official server must refuse and checks
// the typed errors; the connection stays usable.
func checkRejections(t *testing.T, conn *nnrpffi.ClientConn) {
	t.Helper()
	cases := []struct {
		name string
		opts nnrpffi.SessionOptions
		code wire.ErrorCode
	}{
		{"schema (0,0)", nnrpffi.SessionOptions{Profile: wire.ProfileTensor}, wire.SessionSchemaUnsupported},
		{"in flight above the server limit", nnrpffi.SessionOptions{
			Profile: wire.ProfileTensor, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion, MaxInFlight: 65,
		}, wire.SessionLimitReached},
	}
	for _, tc := range cases {
		sess, err := conn.OpenSession(tc.opts)
		if err == nil {
			t.Errorf("%s: session %d opened, want a rejection", tc.name, sess.ID())
			continue
		}
		var e *nnrpffi.Error
		if !errors.As(err, &e) || !errors.Is(err, nnrpffi.StatusProtocolError) || e.Family != nnrpffi.FamilySession || e.ProtocolCode != tc.code {
			t.Errorf("%s: %v, want protocol error, family session, code 0x%08x", tc.name, err, tc.code)
		}
	}
}

// TestSessionLifecycle drives a bare official server (no echo helper) to check
// both sides' handles: accept, the client's SESSION_CLOSE seen by the server,
// close ack, handle invalidation, accept cancellation and server close.
func TestSessionLifecycle(t *testing.T) {
	lib, lo, dialOpts := carriers[0].setup(t)
	before := lib.OpenHandles()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv, err := lib.Listen(lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() }) // ErrClosed once the test closed it

	// An Accept with nothing to accept ends with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	if _, err := srv.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("accept without a client: %v, want deadline exceeded", err)
	}
	cancel()
	if n := lib.OpenHandles(); n != before+1 {
		t.Fatalf("%d native handles after a cancelled accept, want %d", n, before+1)
	}

	type accepted struct {
		sess *nnrpffi.ServerSession
		err  error
	}
	acc := make(chan accepted, 1)
	go func() {
		s, err := srv.Accept(context.Background())
		acc <- accepted{s, err}
	}()
	conn, err := lib.Dial(dialOpts(srv.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	cs, err := conn.OpenSession(nnrpffi.SessionOptions{Profile: wire.ProfileToken, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion})
	if err != nil {
		t.Fatal(err)
	}
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	ss := a.sess
	if ss.ID() != cs.ID() || ss.Transport() != nnrpffi.TransportTCP {
		t.Fatalf("server session %d over %s, client session %d", ss.ID(), ss.Transport(), cs.ID())
	}

	// One frame, answered with an explicit metadata, to see the server side
	// of a submit: header fields and metadata as sent.
	meta := nnrpffi.TokenSubmit(42, wire.AllowDrop)
	meta.TargetFPSx100 = 3000
	meta.FrameClass = 1
	f, err := cs.Submit(&nnrpffi.SubmitRequest{FrameID: 10, Metadata: meta, Body: []byte("prompt"), HeaderFlags: 0x20, ViewID: 2, RouteID: 9, TraceID: 0xABCDEF})
	if err != nil {
		t.Fatal(err)
	}
	if f.FrameID != 10 || f.OperationID != 10 {
		t.Fatalf("frame %+v", f)
	}
	events, err := ss.Await(awaitTimeout, 1)
	if err != nil || len(events) != 1 || events[0].Submit == nil {
		t.Fatalf("server await: %v %v", events, err)
	}
	ev := events[0]
	meta.OperationID = 10
	if ev.Submit.Meta != meta || string(ev.Submit.Body) != "prompt" || ev.Kind != nnrpffi.EventSubmitAccepted {
		t.Errorf("server got %+v %q", ev.Submit.Meta, ev.Submit.Body)
	}
	if h := ev.Header; h.Type != wire.TypeFrameSubmit || h.SessionID != ss.ID() || h.FrameID != 10 || h.Flags != 0x20 || h.ViewID != 2 || h.RouteID != 9 || h.TraceID != 0xABCDEF {
		t.Errorf("server header %+v", h)
	}
	if !ev.Op.Valid() || ev.Op.ID != 10 || ev.Op.FrameID != 10 || ss.Pending() != 1 {
		t.Errorf("operation %+v, %d pending", ev.Op, ss.Pending())
	}
	// An opaque result body (no typed frames, so no payload kind, R7).
	res := wire.ResultPush{StatusCode: 200, ActiveProfileID: wire.ProfileToken, InferenceMS: 1}
	if err := ss.SendResult(ev.Op, &res, []byte("delta")); err != nil {
		t.Fatal(err)
	}
	if ss.Pending() != 0 {
		t.Errorf("%d pending after the result", ss.Pending())
	}
	// A second terminal for the same operation is refused by the library.
	if err := ss.SendResult(ev.Op, &res, nil); err == nil {
		t.Error("second RESULT_PUSH for one operation was accepted")
	}
	cev, _ := awaitTerminal(t, cs, 10)
	if cev.Result == nil || cev.Result.Meta != res || string(cev.Result.Body) != "delta" {
		t.Errorf("client got %s", cev.String())
	}
	// Frame ids must grow: the library refuses an old one.
	if _, err := cs.Submit(&nnrpffi.SubmitRequest{FrameID: 5, Metadata: meta}); !errors.Is(err, nnrpffi.StatusInvalidState) && !errors.Is(err, nnrpffi.StatusInvalidArgument) {
		t.Errorf("submit with an old frame id: %v", err)
	}

	// The client's close blocks until the server acks it.
	closed := make(chan error, 1)
	go func() { closed <- cs.Close() }()
	events, err = ss.Await(awaitTimeout, 1)
	if err != nil || len(events) != 1 || events[0].Kind != nnrpffi.EventSessionClosed || events[0].Close == nil {
		t.Fatalf("server await for close: %v %v", events, err)
	}
	if c := events[0].Close; c.Reason != wire.CloseReasonClientShutdown || c.LastOperationID != 10 || c.SessionCloseTag != cs.ID() {
		t.Errorf("session close %+v", *c)
	}
	if err := ss.Close(); err != nil {
		t.Fatalf("server session close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("client session close: %v", err)
	}
	if _, err := ss.NativeSessionID(); !errors.Is(err, nnrpffi.StatusInvalidHandle) {
		t.Errorf("server session handle after close: %v", err)
	}
	checkClosedClientSession(t, cs)
	if err := ss.Close(); !errors.Is(err, nnrpffi.ErrClosed) {
		t.Errorf("second server session close: %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}

	// Close ends a pending Accept.
	go func() {
		s, err := srv.Accept(context.Background())
		acc <- accepted{s, err}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := srv.Close(); err != nil {
		t.Fatalf("server close: %v", err)
	}
	if a := <-acc; !errors.Is(a.err, nnrpffi.ErrClosed) {
		t.Errorf("accept across close: %v, want ErrClosed", a.err)
	}
	if err := srv.Close(); !errors.Is(err, nnrpffi.ErrClosed) {
		t.Errorf("second server close: %v", err)
	}
	if n := lib.OpenHandles(); n != before {
		t.Errorf("%d native handles open after shutdown, want %d", n, before)
	}
}

// TestTLSMaterial checks that both kinds of devcert material pass the
// official client's certificate checks over TLS and QUIC, and that an
// untrusted certificate fails the handshake with INTERNAL_ERROR.
func TestTLSMaterial(t *testing.T) {
	for _, c := range []ffiCarrier{
		{name: "tls-ca-issued", transport: nnrpffi.TransportTCP, tls: true},
		{name: "tls-self-signed-leaf", transport: nnrpffi.TransportTCP, tls: true, selfSigned: true},
		{name: "quic-ca-issued", transport: nnrpffi.TransportQUIC, tls: true},
		{name: "quic-self-signed-leaf", transport: nnrpffi.TransportQUIC, tls: true, selfSigned: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lib, lo, dialOpts := c.setup(t)
			before := lib.OpenHandles()
			t.Cleanup(func() { goleak.VerifyNone(t) })
			echo, conn := startEcho(t, lib, lo, dialOpts)
			sess, err := conn.OpenSession(nnrpffi.SessionOptions{Profile: wire.ProfileTensor, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion})
			if err != nil {
				t.Fatal(err)
			}
			echoFrames(t, sess, nnrpffi.TensorSubmit(0, 0), 5, 1, 1000)
			if err := errors.Join(sess.Close(), conn.Close(), echo.Close()); err != nil {
				t.Fatal(err)
			}
			if n := lib.OpenHandles(); n != before {
				t.Errorf("%d native handles open after shutdown, want %d", n, before)
			}
		})
	}

	t.Run("untrusted", func(t *testing.T) {
		lib, lo, _ := ffiCarrier{transport: nnrpffi.TransportTCP, tls: true}.setup(t)
		before := lib.OpenHandles()
		t.Cleanup(func() { goleak.VerifyNone(t) })
		echo, err := nnrpffitest.StartEchoServer(lib, lo)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = echo.Close() })
		other := devCert(t, false)
		_, err = lib.Dial(nnrpffi.DialOptions{Endpoint: echo.Endpoint(), TLS: &nnrpffi.ClientTLS{ServerName: "localhost", RootCertDER: other.CADER}, ConnectTimeout: 5 * time.Second})
		var e *nnrpffi.Error
		if !errors.As(err, &e) || e.Code != nnrpffi.StatusInternal || e.Op != "nnrp_transport_connect" {
			t.Errorf("dial with an untrusted certificate: %v, want internal error from nnrp_transport_connect", err)
		}
		t.Logf("echo server after a failed handshake: %v", echo.Close())
		if n := lib.OpenHandles(); n != before {
			t.Errorf("%d native handles open, want %d", n, before)
		}
	})
}

func TestLoad(t *testing.T) {
	lib := nnrpffitest.RequireLib(t, nnrpffi.TransportTCP)
	before := lib.OpenHandles()
	again, err := nnrpffi.Load(lib.Path())
	if err != nil || again != lib {
		t.Errorf("second Load: %p %v, want the same *Lib %p", again, err, lib)
	}
	c := lib.Capabilities()
	if c.ABIMajor != 4 || c.ABIMinor < 4 || c.ProtocolMajor != 1 || c.WireFormat != 0 {
		t.Errorf("capabilities %+v", c)
	}
	if got := c.SDKVersion(); got != "1.0.0-preview.4.22" {
		t.Errorf("SDK version %s", got)
	}
	if !c.Supports(nnrpffi.TransportTCP) || c.Supports(nnrpffi.TransportQUIC) {
		t.Errorf("tcp artifact transport slots 0x%x", c.TransportSlots)
	}
	if _, err := nnrpffi.Load(""); err == nil {
		t.Error("Load of an empty path succeeded")
	}
	if _, err := nnrpffi.Load(t.TempDir() + "/missing.so"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
	if _, err := lib.Dial(nnrpffi.DialOptions{Endpoint: "quic://127.0.0.1:1", TLS: &nnrpffi.ClientTLS{ServerName: "x", RootCertDER: []byte{1}}}); err == nil {
		t.Error("the tcp artifact dialled QUIC")
	}
	if _, err := lib.Dial(nnrpffi.DialOptions{Endpoint: "http://127.0.0.1:1"}); err == nil {
		t.Error("dial with a foreign scheme succeeded")
	}
	if n := lib.OpenHandles(); n != before {
		t.Errorf("%d handles open after failed dials, want %d", n, before)
	}
}
