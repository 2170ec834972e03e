package nnrpffi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi/nnrpffitest"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ourAwait bounds every poll in the tests against our server (1 MiB frames
// over QUIC on a busy 2-core machine are slow, but never this slow).
const ourAwait = 30 * time.Second

// allPolicies allows every reduced result class and drops.
const allPolicies = wire.AllowPartial | wire.AllowStaleReuse | wire.AllowDegraded | wire.AllowDrop

// ourSession is an official-client session against our server and the
// kind of frames it sends.
type ourSession struct {
	name   string
	opts   nnrpffi.SessionOptions
	tensor bool // profile-1 frames built by wire.SubmitBuilder; else opaque token frames
	sess   *nnrpffi.ClientSession
}

// request returns a submit of about size body bytes with the given metadata
// budget and policy: an opaque token-chunk body, or a tensor body of 1–4
// tiles in one section.
func (s *ourSession) request(t testing.TB, rng *rand.Rand, size int, budgetMs uint16, policy wire.BudgetPolicy) *nnrpffi.SubmitRequest {
	if !s.tensor {
		return &nnrpffi.SubmitRequest{Metadata: nnrpffi.TokenSubmit(budgetMs, policy), Body: randomBytes(rng, size)}
	}
	tiles := 1 + rng.IntN(4)
	return tensorRequest(t, rng, nnrpffi.TensorSubmit(budgetMs, policy), tiles, max(1, size/tiles))
}

// echoSizes are the body sizes the echo runs cycle through: empty (token)
// or one-byte tiles (tensor) up to 1 MiB.
var echoSizes = []int{0, 1, 7, 64, 1000, 4096, 65536, 1 << 20}

// TestOfficialClientOurServer runs the official client against nnrp/server
// in this process over TCP and TLS (the tcp artifact) and QUIC (the quic
// artifact): the handshake without ALPN, sessions with profile 2 + schema
// 0x1001 v3, profile 1 + 0x1001 v3 and profile 1 + (0, 0), hundreds of echoes
// (window 1 and 16, empty to 1 MiB bodies, byte-exact), on several sessions
// and two connections at once, every result class, the budget-policy
// refusals, scripted and engine drops, cancel, progress and partial results,
// session close, and finally that nothing leaks (goroutines, native handles,
// receive buffers) and that our server never answered with ERROR.
func TestOfficialClientOurServer(t *testing.T) {
	for _, c := range ourCarriers {
		t.Run(c.name, func(t *testing.T) {
			lib := nnrpffitest.RequireLib(t, c.transport)
			before := lib.OpenHandles()
			t.Cleanup(func() { goleak.VerifyNone(t) })
			o := startOurServer(t, server.Profile{MaxConcurrentFrames: 16, DeadlineGrace: 20 * time.Millisecond}, false)

			conn, err := lib.Dial(o.dial(c.kind))
			if err != nil {
				t.Fatalf("official client dial: %v", err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			if conn.Transport() != c.transport {
				t.Errorf("connection transport %s, want %s", conn.Transport(), c.transport)
			}
			sessions := []*ourSession{
				{name: "token-0x1001v3", opts: nnrpffi.SessionOptions{Profile: wire.ProfileToken,
					SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion}},
				{name: "tensor-0x1001v3", tensor: true, opts: nnrpffi.SessionOptions{Profile: wire.ProfileTensor,
					SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion}},
				{name: "tensor-none", tensor: true, opts: nnrpffi.SessionOptions{Profile: wire.ProfileTensor}},
			}
			// All sessions are opened before any closes: our server reuses a
			// closed session's id, which the official client refuses (see
			// TestOfficialClientSessionAfterClose).
			for _, s := range sessions {
				s.opts.MaxInFlight, s.opts.Priority = 16, 1
				if s.sess, err = conn.OpenSession(s.opts); err != nil {
					t.Fatalf("%s: open session: %v", s.name, err)
				}
			}
			checkAccepted(t, o, c.kind, sessions)
			checkOurRejections(t, conn)
			if c.kind != carrier.TCP {
				checkGoClientALPN(t, o, c.kind)
			}

			// A second connection, echoing at the same time as the three
			// sessions of the first.
			conn2, err := lib.Dial(o.dial(c.kind))
			if err != nil {
				t.Fatalf("second connection: %v", err)
			}
			t.Cleanup(func() { _ = conn2.Close() })
			other := &ourSession{name: "second-connection-token", opts: nnrpffi.SessionOptions{Profile: wire.ProfileToken,
				SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion, MaxInFlight: 16}}
			if other.sess, err = conn2.OpenSession(other.opts); err != nil {
				t.Fatalf("second connection: open session: %v", err)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(sessions)+1)
			for i, s := range append(append([]*ourSession(nil), sessions...), other) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(i), 1))
					n := 0
					next := func(int) *nnrpffi.SubmitRequest {
						n++
						return s.request(t, rng, echoSizes[n%len(echoSizes)]+rng.IntN(8), 0, 0)
					}
					if err := echoMany(s.sess, next, 100, 1); err != nil {
						errs[i] = fmt.Errorf("%s window 1: %w", s.name, err)
						return
					}
					if err := echoMany(s.sess, next, 200, 16); err != nil {
						errs[i] = fmt.Errorf("%s window 16: %w", s.name, err)
					}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}

			for i, s := range sessions {
				t.Run(s.name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(i), 2))
					checkResultClasses(t, o, s, rng)
					checkStream(t, s, rng)
					checkOurDrops(t, o, s, rng)
					checkOurCancel(t, o, s, rng)
				})
			}
			checkBackpressure(t, conn2)

			// Close: the ack must be the next packet of the session, also
			// with a frame still in flight (which then ends unanswered).
			held := len(o.heldCauses())
			hold := sessions[0].request(t, rand.New(rand.NewPCG(9, 9)), 10, 0, 0)
			hold.TraceID = nnrpffitest.CmdHold
			if _, err := sessions[0].sess.Submit(hold); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the held frame to reach the handler", func() bool { return o.holding() > 0 })
			for _, s := range append(sessions, other) {
				start := time.Now()
				if err := s.sess.Close(); err != nil {
					t.Errorf("%s: close: %v", s.name, err)
				} else if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s: close took %v: the ack was not the next packet", s.name, d)
				}
				checkClosedClientSession(t, s.sess)
			}
			waitFor(t, "the held frame to end", func() bool { return len(o.heldCauses()) == held+1 })
			if cause := o.heldCauses()[held]; !errors.Is(cause, server.ErrSessionClosed) {
				t.Errorf("a frame in flight at SESSION_CLOSE ended with %v, want ErrSessionClosed", cause)
			}
			if err := errors.Join(conn.Close(), conn2.Close()); err != nil {
				t.Fatalf("connection close: %v", err)
			}

			waitFor(t, "our server's receive buffers to return", func() bool {
				n, _ := o.srv.ReceiveBuffers()
				return n == 0
			})
			st := o.srv.Stats()
			var protocolErrors int64
			for i := range st.ProtocolErrors {
				protocolErrors += st.ProtocolErrors[i].Load()
			}
			if protocolErrors != 0 || st.LateAnswers.Load() != 0 || st.HandshakeFailures.Load() != 0 || st.FramesRejected.Load() != 0 {
				t.Errorf("our server sent %d ERRORs, discarded %d late answers, had %d handshake failures, rejected %d frames",
					protocolErrors, st.LateAnswers.Load(), st.HandshakeFailures.Load(), st.FramesRejected.Load())
			}
			if err := o.shutdown(); err != nil {
				t.Errorf("our server: %v", err)
			}
			if n := lib.OpenHandles(); n != before {
				t.Errorf("%d native handles open after shutdown, want %d", n, before)
			}
		})
	}
}

// TestOfficialClientOurServerSelfSigned: our server presenting a
// self-signed development leaf (carrier.DevCertificateOptions.SelfSigned:
// CA:FALSE with SAN, no CA) is accepted over TLS and QUIC by the official
// client when it trusts that leaf.
func TestOfficialClientOurServerSelfSigned(t *testing.T) {
	for _, c := range ourCarriers[1:] {
		t.Run(c.name, func(t *testing.T) {
			lib := nnrpffitest.RequireLib(t, c.transport)
			before := lib.OpenHandles()
			t.Cleanup(func() { goleak.VerifyNone(t) })
			o := startOurServerWith(t, server.Profile{}, false, devCert(t, true))
			if !o.dev.SelfSigned || len(o.dev.TLS.Certificate) != 1 {
				t.Fatal("the development certificate is not a self-signed leaf")
			}
			conn, err := lib.Dial(o.dial(c.kind)) // trusts o.dev.CADER, the leaf itself
			if err != nil {
				t.Fatalf("official client trusting the self-signed leaf: %v", err)
			}
			s := &ourSession{name: "self-signed", tensor: true}
			if s.sess, err = conn.OpenSession(nnrpffi.SessionOptions{Profile: wire.ProfileTensor,
				SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion}); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 5))
			if err := echoMany(s.sess, func(i int) *nnrpffi.SubmitRequest { return s.request(t, rng, 100*i, 0, 0) }, 5, 1); err != nil {
				t.Fatal(err)
			}
			if err := errors.Join(s.sess.Close(), conn.Close(), o.shutdown()); err != nil {
				t.Fatal(err)
			}
			if n := lib.OpenHandles(); n != before {
				t.Errorf("%d native handles open, want %d", n, before)
			}
		})
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkAccepted checks what our server learnt from the official client's
// handshake and SESSION_OPENs: no ALPN on TLS and QUIC, the carrier, and
// each session's id, profile, schema and window.
func checkAccepted(t *testing.T, o *ourServer, kind carrier.Kind, sessions []*ourSession) {
	t.Helper()
	waitFor(t, "our server to accept the sessions", func() bool { return len(o.accepted()) >= len(sessions) })
	for i, srv := range o.accepted()[:len(sessions)] {
		s := sessions[i]
		info := srv.Info()
		if info.ID != s.sess.ID() || info.ID == 0 || info.Profile != s.opts.Profile || info.SchemaID != s.opts.SchemaID ||
			info.SchemaVersion != s.opts.SchemaVersion || info.MaxInFlight != s.opts.MaxInFlight || int(info.Priority) != int(s.opts.Priority) {
			t.Errorf("%s: our server opened %+v for client session %d", s.name, info, s.sess.ID())
		}
		if h := info.Hello; h == nil || h.ALPN != "" || h.Carrier != kind {
			t.Errorf("%s: hello context %+v, want carrier %s without ALPN", s.name, h, kind)
		}
	}
}

// checkOurRejections opens sessions our server must refuse and checks how
// the official client reports them; the connection stays usable.
func checkOurRejections(t *testing.T, conn *nnrpffi.ClientConn) {
	t.Helper()
	for _, tc := range []struct {
		name string
		opts nnrpffi.SessionOptions
		code wire.ErrorCode
	}{
		{"schema 0x1001 v2", nnrpffi.SessionOptions{Profile: wire.ProfileToken, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: 2}, wire.SessionSchemaUnsupported},
		{"in flight above the server limit", nnrpffi.SessionOptions{Profile: wire.ProfileTensor, MaxInFlight: 17}, wire.SessionLimitReached},
	} {
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

// checkGoClientALPN: on the listener the official client reached without
// ALPN, a Go client offering nnrp/1 gets it selected (ALPN is chosen per
// connection, nnrp/INTEROP.md) and is served.
func checkGoClientALPN(t *testing.T, o *ourServer, kind carrier.Kind) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := &tls.Config{RootCAs: o.dev.RootPool(), ServerName: "localhost", NextProtos: []string{carrier.ALPN}}
	c, err := client.Dial(ctx, kind.String()+"://"+o.addrs[kind], client.Options{TLS: cfg})
	if err != nil {
		t.Fatalf("Go client with ALPN: %v", err)
	}
	defer c.Close()
	if got := c.Carrier().TLSState().NegotiatedProtocol; got != carrier.ALPN {
		t.Errorf("Go client offering %q negotiated %q", carrier.ALPN, got)
	}
	s, err := c.OpenSession(ctx, client.SessionOptions{Profile: wire.ProfileToken, MaxInFlight: 1})
	if err != nil {
		t.Fatalf("Go client with ALPN: open session: %v", err)
	}
	if _, err := s.Submit(ctx, &client.Frame{Meta: nnrpffi.TokenSubmit(0, 0), Opaque: []byte("alpn")}); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Next(ctx)
	if err != nil || ev.Kind != client.EventResult || string(ev.Packet.Body) != "alpn" {
		t.Fatalf("Go client with ALPN: %v %v", ev.Kind, err)
	}
	ev.Release()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Go client with ALPN: close: %v", err)
	}
}

// echoMany submits n frames from next with up to window outstanding and
// checks every answer: a RESULT_PUSH for that frame and operation on this
// session, its body equal to the submitted body, its metadata the echo's
// (nnrpffitest.EchoResultMetadata of a complete result).
func echoMany(sess *nnrpffi.ClientSession, next func(i int) *nnrpffi.SubmitRequest, n, window int) error {
	type pending struct {
		req *nnrpffi.SubmitRequest
		f   nnrpffi.Frame
	}
	sent := map[uint32]pending{}
	done, submitted := 0, 0
	for done < n {
		for submitted < n && len(sent) < window {
			req := next(submitted)
			f, err := sess.Submit(req)
			if err != nil {
				return fmt.Errorf("submit %d: %w", submitted, err)
			}
			sent[f.FrameID] = pending{req, f}
			submitted++
		}
		events, err := sess.Await(ourAwait, 1)
		if err != nil {
			return fmt.Errorf("await after %d results: %w", done, err)
		}
		if len(events) == 0 {
			return fmt.Errorf("no answer within %v after %d results (%d outstanding)", ourAwait, done, len(sent))
		}
		for _, ev := range events {
			p, ok := sent[ev.FrameID()]
			if !ok || ev.Result == nil {
				return fmt.Errorf("unexpected event %s (drop %+v %q)", ev.String(), ev.Drop, dropDiagnostic(ev))
			}
			delete(sent, ev.FrameID())
			if ev.Kind != nnrpffi.EventResultPushed || ev.Header.SessionID != sess.ID() || ev.OperationID != p.f.OperationID {
				return fmt.Errorf("frame %d: %s, want result_pushed for session %d operation %d", ev.FrameID(), ev.String(), sess.ID(), p.f.OperationID)
			}
			if !bytes.Equal(ev.Result.Body, p.req.Body) {
				return fmt.Errorf("frame %d: echo of %d bytes differs from the %d bytes sent", ev.FrameID(), len(ev.Result.Body), len(p.req.Body))
			}
			if want := nnrpffitest.EchoResultMetadata(nnrpffitest.CmdComplete, &p.req.Metadata); ev.Result.Meta != want {
				return fmt.Errorf("frame %d: result metadata\n got %+v\nwant %+v", ev.FrameID(), ev.Result.Meta, want)
			}
			done++
		}
	}
	return nil
}

func dropDiagnostic(ev nnrpffi.Event) string {
	if ev.Drop == nil {
		return ""
	}
	return string(ev.Drop.Diagnostic)
}

// submitOne submits req with trace id cmd and returns the frame.
func submitOne(t *testing.T, s *ourSession, req *nnrpffi.SubmitRequest, cmd uint64) nnrpffi.Frame {
	t.Helper()
	req.TraceID = cmd
	f, err := s.sess.Submit(req)
	if err != nil {
		t.Fatalf("submit (command %d): %v", cmd, err)
	}
	return f
}

// checkResultClasses: every class our server can send, with its flag,
// applied policy, reused frame id and covered / dropped tiles, decoded by
// the official client; then the classes a submit's budget_policy forbids,
// which our server refuses to send.
func checkResultClasses(t *testing.T, o *ourServer, s *ourSession, rng *rand.Rand) {
	t.Helper()
	var last uint32
	for _, cmd := range []uint64{nnrpffitest.CmdComplete, nnrpffitest.CmdPartial, nnrpffitest.CmdStaleReuse, nnrpffitest.CmdDegraded} {
		req := s.request(t, rng, 3000, 0, allPolicies)
		req.Metadata.DependencyFrameID = last
		f := submitOne(t, s, req, cmd)
		ev, extra := awaitTerminalWithin(t, s.sess, f.FrameID, ourAwait)
		if len(extra) != 0 || ev.Result == nil {
			t.Fatalf("command %d: got %v then %s, want one RESULT_PUSH", cmd, extra, ev.String())
		}
		want := nnrpffitest.EchoResultMetadata(cmd, &req.Metadata)
		if ev.Result.Meta != want {
			t.Errorf("command %d: result metadata\n got %+v\nwant %+v", cmd, ev.Result.Meta, want)
		}
		if !bytes.Equal(ev.Result.Body, req.Body) {
			t.Errorf("command %d: body differs", cmd)
		}
		m := ev.Result.Meta
		switch cmd {
		case nnrpffitest.CmdPartial:
			if m.Class != wire.ClassPartial || m.Flags != wire.ResultFlagPartial || m.AppliedBudgetPolicy != wire.AllowPartial ||
				(s.tensor && (m.DroppedTileCount == 0 || m.CoveredTileCount+m.DroppedTileCount != m.TileCount)) {
				t.Errorf("partial result %+v", m)
			}
		case nnrpffitest.CmdStaleReuse:
			if m.Class != wire.ClassStaleReuse || m.Flags != wire.ResultFlagStale || m.AppliedBudgetPolicy != wire.AllowStaleReuse ||
				m.ReusedFrameID != last || last == 0 {
				t.Errorf("stale reuse %+v, want reused frame %d", m, last)
			}
		case nnrpffitest.CmdDegraded:
			if m.Class != wire.ClassDegraded || m.Flags != wire.ResultFlagFallback || m.AppliedBudgetPolicy != wire.AllowDegraded {
				t.Errorf("degraded result %+v", m)
			}
		}
		last = f.FrameID
	}

	// Classes the submit's budget_policy does not allow: our server refuses
	// the result (wire CheckPolicy, CodeInvalidState) and the handler drops
	// the frame instead. A complete result needs no permission.
	refused := len(o.refusals())
	for _, tc := range []struct {
		cmd    uint64
		policy wire.BudgetPolicy
	}{
		{nnrpffitest.CmdPartial, wire.AllowDrop},
		{nnrpffitest.CmdStaleReuse, wire.AllowPartial | wire.AllowDegraded},
		{nnrpffitest.CmdDegraded, 0},
		{nnrpffitest.CmdComplete, 0},
	} {
		req := s.request(t, rng, 100, 0, tc.policy)
		req.Metadata.DependencyFrameID = last
		f := submitOne(t, s, req, tc.cmd)
		ev, _ := awaitTerminalWithin(t, s.sess, f.FrameID, ourAwait)
		if tc.cmd == nnrpffitest.CmdComplete {
			if ev.Result == nil || ev.Result.Meta.Class != wire.ClassComplete {
				t.Errorf("complete result under policy 0: %s", ev.String())
			}
			continue
		}
		checkDrop(t, ev, f, wire.DropBudgetExceeded, ourRefusalDiagnostic)
	}
	got := o.refusals()[refused:]
	if len(got) != 3 {
		t.Fatalf("our server refused %d results, want 3: %v", len(got), got)
	}
	for _, err := range got {
		if code, ok := wire.CodeOf(err); !ok || code != wire.CodeInvalidState {
			t.Errorf("refusal %v: want CodeInvalidState", err)
		}
	}
}

// checkStream: PROGRESS and PARTIAL_RESULT precede the result and carry the
// frame's operation.
func checkStream(t *testing.T, s *ourSession, rng *rand.Rand) {
	t.Helper()
	req := s.request(t, rng, 2000, 0, 0)
	f := submitOne(t, s, req, nnrpffitest.CmdStream)
	ev, extra := awaitTerminalWithin(t, s.sess, f.FrameID, ourAwait)
	if len(extra) != 2 || extra[0].Progress == nil || extra[1].Partial == nil {
		t.Fatalf("stream: got %v before the result, want PROGRESS then PARTIAL_RESULT", extra)
	}
	want := wire.Progress{OperationID: f.OperationID, ProgressSequence: 1, Stage: wire.StageExecuting, PercentX100: 5000}
	if p := extra[0].Progress; p.Meta != want || len(p.Body) != 0 || extra[0].Kind != nnrpffi.EventRuntimeFrame {
		t.Errorf("progress %+v (%s)", *p, extra[0].String())
	}
	half := req.Body[:len(req.Body)/2]
	if p := extra[1].Partial; p.Meta.OperationID != f.OperationID || p.Meta.ResultSequence != 1 || p.Meta.Flags != 0 || !bytes.Equal(p.Body, half) {
		t.Errorf("partial result %+v", p.Meta)
	}
	if ev.Result == nil || !bytes.Equal(ev.Result.Body, req.Body) || ev.Result.Meta != nnrpffitest.EchoResultMetadata(nnrpffitest.CmdComplete, &req.Metadata) {
		t.Errorf("stream: final event %s", ev.String())
	}
}

// checkOurDrops: the handler's RESULT_DROP_REASON, and the engine's own drop
// of a frame nobody answered within its latency budget.
func checkOurDrops(t *testing.T, o *ourServer, s *ourSession, rng *rand.Rand) {
	t.Helper()
	f := submitOne(t, s, s.request(t, rng, 500, 0, wire.AllowDrop), nnrpffitest.CmdDrop)
	ev, _ := awaitTerminalWithin(t, s.sess, f.FrameID, ourAwait)
	checkDrop(t, ev, f, wire.DropBudgetExceeded, ourDropDiagnostic)

	held := len(o.heldCauses())
	start := time.Now()
	f = submitOne(t, s, s.request(t, rng, 500, 30, wire.AllowDrop), nnrpffitest.CmdHold)
	ev, _ = awaitTerminalWithin(t, s.sess, f.FrameID, ourAwait)
	if ev.Drop == nil || ev.Drop.Reason == nil || ev.Drop.Reason.Reason != wire.DropDeadlineExpired || ev.Drop.Reason.OperationID != f.OperationID ||
		ev.Drop.Reason.SourceRole != wire.RoleServer || ev.Drop.Reason.Flags != wire.ResultDropFinal {
		t.Errorf("frame with a 30 ms budget: %s %+v, want deadline_expired", ev.String(), ev.Drop)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("deadline drop after %v, before the 30 ms budget", d)
	}
	waitFor(t, "the expired frame's cause", func() bool { return len(o.heldCauses()) > held })
	if cause := o.heldCauses()[held]; !errors.Is(cause, server.ErrExpired) {
		t.Errorf("expired frame ended with %v, want ErrExpired", cause)
	}
}

// checkOurCancel: the official client's FRAME_CANCEL makes our server
// answer a session-scoped TRACE_CONTEXT (frame 0), which the official client
// passes on as a runtime frame, then RESULT_DROP_REASON peer_cancelled.
func checkOurCancel(t *testing.T, o *ourServer, s *ourSession, rng *rand.Rand) {
	t.Helper()
	held := len(o.heldCauses())
	f := submitOne(t, s, s.request(t, rng, 500, 0, 0), nnrpffitest.CmdHold)
	if events, err := s.sess.Await(50*time.Millisecond, 1); err != nil || len(events) != 0 {
		t.Fatalf("held frame answered before the cancel: %v %v", events, err)
	}
	if err := s.sess.Cancel(f.FrameID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	var got []nnrpffi.Event
	for len(got) == 0 || !got[len(got)-1].Terminal() {
		events, err := s.sess.Await(ourAwait, 1)
		if err != nil || len(events) == 0 {
			t.Fatalf("await after cancel (got %d events): %v", len(got), err)
		}
		got = append(got, events...)
	}
	if len(got) != 2 {
		t.Fatalf("after FRAME_CANCEL: %v, want TRACE_CONTEXT then RESULT_DROP_REASON", got)
	}
	tc := got[0]
	if tc.Kind != nnrpffi.EventRuntimeFrame || tc.Header.Type != wire.TypeTraceContext || tc.Header.SessionID != s.sess.ID() || tc.Header.FrameID != 0 {
		t.Errorf("first event after cancel: %s", tc.String())
	} else {
		m, _, err := wire.ParseTraceContext(tc.Payload)
		if err != nil || m.TraceID != nnrpffitest.CmdHold || m.SpanID != f.OperationID || m.Stage != wire.StageDropped {
			t.Errorf("TRACE_CONTEXT %+v %v", m, err)
		}
	}
	checkDrop(t, got[1], f, wire.DropPeerCancelled, "cancelled by the client (FRAME_CANCEL)")
	waitFor(t, "the cancelled frame's cause", func() bool { return len(o.heldCauses()) > held })
	if cause := o.heldCauses()[held]; !errors.Is(cause, server.ErrCancelled) {
		t.Errorf("cancelled frame ended with %v, want ErrCancelled", cause)
	}
}

// checkBackpressure: the official client keeps its whole window
// outstanding; a submit beyond the session's granted in-flight limit is
// dropped by our server with backpressure (final, retryable).
func checkBackpressure(t *testing.T, conn *nnrpffi.ClientConn) {
	t.Helper()
	sess, err := conn.OpenSession(nnrpffi.SessionOptions{Profile: wire.ProfileToken,
		SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion, MaxInFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	var frames []nnrpffi.Frame
	for range 3 {
		f, err := sess.Submit(&nnrpffi.SubmitRequest{Metadata: nnrpffi.TokenSubmit(0, 0), Body: []byte("over"), TraceID: nnrpffitest.CmdHold})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	ev, _ := awaitTerminalWithin(t, sess, frames[2].FrameID, ourAwait)
	if ev.Drop == nil || ev.Drop.Reason == nil || ev.Drop.Reason.Reason != wire.DropBackpressure ||
		ev.Drop.Reason.Flags != wire.ResultDropFinal|wire.ResultDropRetryable || ev.Drop.Reason.OperationID != frames[2].OperationID {
		t.Errorf("third frame of a window of 2: %s %+v, want backpressure (final, retryable)", ev.String(), ev.Drop)
	}
	for _, f := range frames[:2] {
		if err := sess.Cancel(f.FrameID); err != nil {
			t.Fatal(err)
		}
	}
	drops := 0
	for drops < 2 {
		events, err := sess.Await(ourAwait, 1)
		if err != nil || len(events) == 0 {
			t.Fatalf("await cancelled frames: %v", err)
		}
		for _, ev := range events {
			if ev.Drop != nil {
				drops++
			}
		}
	}
	if err := sess.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestOfficialClientSessionAfterClose(t *testing.T) {
	lib := nnrpffitest.RequireLib(t, nnrpffi.TransportTCP)
	o := startOurServer(t, server.Profile{}, false)
	conn, err := lib.Dial(o.dial(carrier.TCP))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	opts := nnrpffi.SessionOptions{Profile: wire.ProfileToken, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion}
	first, err := conn.OpenSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := conn.OpenSession(opts)
	if err != nil {
		t.Fatalf("session after a closed one: %v", err)
	}
	if second.ID() == first.ID() {
		t.Errorf("the new session reuses id %d", first.ID())
	}
	s := &ourSession{name: "after-close", sess: second}
	if err := echoMany(second, func(int) *nnrpffi.SubmitRequest {
		return s.request(t, rand.New(rand.NewPCG(1, 1)), 100, 0, 0)
	}, 5, 1); err != nil {
		t.Fatal(err)
	}
}
