package nnrpffi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi/nnrpffitest"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ourServer is nnrp/server running in the test process with a TCP, a TLS
// and a QUIC listener from package carrier (a CA-issued development
// certificate, carrier.ServerTLSConfig), answering every submit with the
// scripted rule of answerScripted or, for benchmarks, the plain echo.
type ourServer struct {
	t     testing.TB
	srv   *server.Server
	dev   *carrier.DevCertificate
	addrs map[carrier.Kind]string // host:port of each listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	echo   bool // benchmarks: plain server.EchoResult, nothing else

	mu       sync.Mutex
	sessions []*server.Session // every session accepted, in order
	errs     []error           // unexpected handler failures
	refused  []error           // results our server refused to send (budget policy)
	held     []error           // the causes that ended held frames
	holdingN int               // held frames not ended yet
}

// ourCarriers are the carriers the official libraries can reach our server
// on: TCP and TLS with the tcp artifact, QUIC with the quic artifact.
var ourCarriers = []struct {
	name      string
	kind      carrier.Kind
	transport nnrpffi.Transport
}{
	{"tcp", carrier.TCP, nnrpffi.TransportTCP},
	{"tls", carrier.TLS, nnrpffi.TransportTCP},
	{"quic", carrier.QUIC, nnrpffi.TransportQUIC},
}

// startOurServer starts our server with profile p (zero fields: defaults)
// and a CA-issued development certificate; it is shut down gracefully when
// the test ends, if the test did not call shutdown itself.
func startOurServer(t testing.TB, p server.Profile, echo bool) *ourServer {
	t.Helper()
	return startOurServerWith(t, p, echo, devCert(t, false))
}

// startOurServerWith is startOurServer with the given certificate.
func startOurServerWith(t testing.TB, p server.Profile, echo bool, dev *carrier.DevCertificate) *ourServer {
	t.Helper()
	srv, err := server.New(p, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := &ourServer{t: t, srv: srv, dev: dev, addrs: map[carrier.Kind]string{}, echo: echo}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	for _, c := range ourCarriers {
		l, err := carrier.Listen(c.kind, "127.0.0.1:0", carrier.ServerTLSConfig(o.dev.TLS), nil)
		if err != nil {
			t.Fatal(err)
		}
		o.addrs[c.kind] = l.Addr().String()
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, server.ErrServerClosed) {
				o.fail(fmt.Errorf("serve %s: %w", c.name, err))
			}
		}()
	}
	o.wg.Add(1)
	go o.acceptLoop()
	t.Cleanup(func() {
		if err := o.shutdown(); err != nil {
			t.Errorf("our server: %v", err)
		}
	})
	return o
}

// dial returns the official client's dial options for carrier kind k.
func (o *ourServer) dial(k carrier.Kind) nnrpffi.DialOptions {
	d := nnrpffi.DialOptions{ConnectTimeout: 10 * time.Second}
	switch k {
	case carrier.QUIC:
		d.Endpoint = "quic://" + o.addrs[k]
	default:
		d.Endpoint = "tcp://" + o.addrs[k]
	}
	if k != carrier.TCP {
		d.TLS = &nnrpffi.ClientTLS{ServerName: "localhost", RootCertDER: o.dev.CADER}
	}
	return d
}

func (o *ourServer) fail(err error) {
	o.mu.Lock()
	o.errs = append(o.errs, err)
	o.mu.Unlock()
}

// shutdown stops the server gracefully and waits for every goroutine; it
// returns the handler failures. Later calls return nil.
func (o *ourServer) shutdown() error {
	if o.ctx.Err() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := o.srv.Shutdown(ctx)
	o.cancel()
	o.wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	return errors.Join(append([]error{err}, o.errs...)...)
}

func (o *ourServer) acceptLoop() {
	defer o.wg.Done()
	for {
		s, err := o.srv.AcceptSession(o.ctx)
		if err != nil {
			return
		}
		o.mu.Lock()
		o.sessions = append(o.sessions, s)
		o.mu.Unlock()
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			for {
				sub, err := s.ReceiveSubmit(o.ctx)
				if err != nil {
					return
				}
				if o.echo {
					o.answerEcho(s, sub)
				} else {
					o.answerScripted(s, sub)
				}
			}
		}()
	}
}

// accepted returns the sessions accepted so far.
func (o *ourServer) accepted() []*server.Session {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*server.Session(nil), o.sessions...)
}

// refusals returns the results our server refused so far.
func (o *ourServer) refusals() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.refused...)
}

// heldCauses returns the causes that ended held frames, in order.
func (o *ourServer) heldCauses() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.held...)
}

// holding is the number of held frames still in flight.
func (o *ourServer) holding() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.holdingN
}

func (o *ourServer) answerEcho(s *server.Session, sub *server.Submit) {
	r, err := server.EchoResult(sub)
	if err == nil {
		err = s.SendResult(o.ctx, sub, r)
	}
	if err != nil && !errors.Is(err, server.ErrNotInFlight) {
		o.fail(fmt.Errorf("echo of frame %d: %w", sub.FrameID(), err))
		_ = s.SendResultDrop(o.ctx, sub, wire.DropCapabilityMismatch, err.Error())
	}
}

// Diagnostics of our server's scripted drops.
const (
	ourDropDiagnostic    = "our server drop"
	ourRefusalDiagnostic = "result refused by the budget policy"
)

// answerScripted answers sub by the command in its trace id, the same rule
// as the official nnrpffitest.EchoServer (so both servers' answers can be
// checked against nnrpffitest.EchoResultMetadata):
//
//   - CmdComplete / CmdPartial / CmdStaleReuse / CmdDegraded: the echo
//     (server.EchoResult) with that class, its flag and its policy bit
//     applied. When the submit's budget_policy does not allow the class,
//     SendResult refuses it (recorded in refused) and the frame is dropped
//     with budget_exceeded and ourRefusalDiagnostic.
//   - CmdDrop: RESULT_DROP_REASON budget_exceeded, ourDropDiagnostic.
//   - CmdStream: PROGRESS, PARTIAL_RESULT (first half of the body), then the
//     complete echo.
//   - CmdHold: no answer; the engine answers the client's cancel itself and
//     the cause that ended the frame is recorded in held.
func (o *ourServer) answerScripted(s *server.Session, sub *server.Submit) {
	ctx := o.ctx
	cmd := sub.Header.TraceID
	switch cmd {
	case nnrpffitest.CmdHold:
		o.mu.Lock()
		o.holdingN++
		o.mu.Unlock()
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			var cause error
			select {
			case <-sub.Context().Done():
				cause = context.Cause(sub.Context())
			case <-ctx.Done():
			}
			o.mu.Lock()
			o.holdingN--
			if cause != nil {
				o.held = append(o.held, cause)
			}
			o.mu.Unlock()
		}()
		return
	case nnrpffitest.CmdDrop:
		if err := s.SendResultDrop(ctx, sub, wire.DropBudgetExceeded, ourDropDiagnostic); err != nil {
			o.fail(fmt.Errorf("drop of frame %d: %w", sub.FrameID(), err))
		}
		return
	case nnrpffitest.CmdStream:
		if err := s.SendProgress(ctx, sub, wire.Progress{ProgressSequence: 1, Stage: wire.StageExecuting, PercentX100: 5000}, nil); err != nil {
			o.fail(fmt.Errorf("progress of frame %d: %w", sub.FrameID(), err))
		}
		half := sub.Body[:len(sub.Body)/2]
		if len(half) == 0 {
			half = []byte{0} // a partial result needs a body or an object
		}
		if err := s.SendPartialResult(ctx, sub, wire.PartialResult{ResultSequence: 1}, half); err != nil {
			o.fail(fmt.Errorf("partial result of frame %d: %w", sub.FrameID(), err))
		}
		cmd = nnrpffitest.CmdComplete
	}
	r, err := server.EchoResult(sub)
	if err != nil {
		o.fail(fmt.Errorf("echo of frame %d: %w", sub.FrameID(), err))
		_ = s.SendResultDrop(ctx, sub, wire.DropCapabilityMismatch, err.Error())
		return
	}
	m := &r.Meta
	m.InferenceMS, m.QueueMS, m.ServerTotalMS = nnrpffitest.EchoInferenceMS, nnrpffitest.EchoQueueMS, nnrpffitest.EchoServerTotalMS
	switch cmd {
	case nnrpffitest.CmdPartial:
		m.Class, m.Flags, m.AppliedBudgetPolicy = wire.ClassPartial, wire.ResultFlagPartial, wire.AllowPartial
		if sub.HasView {
			if n := sub.View.Tiles().Len(); n > 0 {
				m.DroppedTileCount = uint16((n + 1) / 2)
			}
		}
	case nnrpffitest.CmdStaleReuse:
		m.Class, m.Flags, m.AppliedBudgetPolicy = wire.ClassStaleReuse, wire.ResultFlagStale, wire.AllowStaleReuse
		m.ReusedFrameID = sub.Meta.DependencyFrameID
	case nnrpffitest.CmdDegraded:
		m.Class, m.Flags, m.AppliedBudgetPolicy = wire.ClassDegraded, wire.ResultFlagFallback, wire.AllowDegraded
	}
	err = s.SendResult(ctx, sub, r)
	if code, ok := wire.CodeOf(err); ok && code == wire.CodeInvalidState && m.CheckPolicy(sub.Meta.BudgetPolicy) != nil {
		o.mu.Lock()
		o.refused = append(o.refused, err)
		o.mu.Unlock()
		err = s.SendResultDrop(ctx, sub, wire.DropBudgetExceeded, ourRefusalDiagnostic)
	}
	if err != nil && !errors.Is(err, server.ErrNotInFlight) {
		o.fail(fmt.Errorf("result of frame %d (command %d): %w", sub.FrameID(), cmd, err))
		_ = s.SendResultDrop(ctx, sub, wire.DropCapabilityMismatch, err.Error()) // the frame still gets an answer
	}
}

// tensorRequest builds a profile-1 FRAME_SUBMIT with wire.SubmitBuilder:
// tiles tiles of tileBytes random uint8 elements in one section, metadata
// fields from meta.
func tensorRequest(t testing.TB, rng *rand.Rand, meta wire.FrameSubmit, tiles, tileBytes int) *nnrpffi.SubmitRequest {
	t.Helper()
	b := wire.SubmitBuilder{Meta: meta, Tiles: wire.TileRange(uint32(rng.IntN(16)), tiles)}
	sec := wire.SectionData{RoleID: 1, DTypeID: wire.DTypeUint8, LayoutID: wire.LayoutNHWC, ElementCountPerTile: uint32(tileBytes)}
	for range tiles {
		sec.Tiles = append(sec.Tiles, randomBytes(rng, tileBytes))
	}
	b.Sections = []wire.SectionData{sec}
	req, err := nnrpffi.TensorRequest(&b)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
