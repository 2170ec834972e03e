package nnrpffi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi/nnrpffitest"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// officialFor starts an official echo server for our client on c (a
// CA-issued development leaf for TLS and QUIC) and returns it with the
// endpoint and TLS settings our client dials it with. Our client's TLS
// configuration sets no NextProtos: the official QUIC server refuses a
// client offering ALPN.
func officialFor(t *testing.T, c ffiCarrier) (*nnrpffi.Lib, *nnrpffitest.EchoServer, string, *tls.Config) {
	t.Helper()
	lib := nnrpffitest.RequireLib(t, c.transport)
	dev := devCert(t, false)
	lo := nnrpffi.ListenOptions{Endpoint: c.transport.String() + "://127.0.0.1:0"}
	if c.tls {
		lo.TLS = &nnrpffi.ServerTLS{CertDER: dev.LeafDER, KeyPKCS8DER: dev.KeyPKCS8}
	}
	echo, err := nnrpffitest.StartEchoServer(lib, lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Close() }) // ErrClosed once the test closed it
	// The official endpoint is tcp:// for plain TCP and TLS alike; our
	// client names TLS by its scheme.
	ep := echo.Endpoint()
	if c.name == "tls" {
		ep = "tls://" + strings.TrimPrefix(ep, "tcp://")
	}
	return lib, echo, ep, &tls.Config{RootCAs: dev.RootPool(), ServerName: "localhost"}
}

// ourFrame is a frame our client sends with the body and metadata it puts
// on the wire (rebuilt with wire.SubmitBuilder, the algorithm our client
// uses), so the official server's echo can be compared byte for byte.
type ourFrame struct {
	frame *client.Frame
	body  []byte
	meta  wire.FrameSubmit // without the operation id
	tiles [][]byte         // tensor frames: the section's tiles
}

func opaqueFrame(rng *rand.Rand, size int, policy wire.BudgetPolicy) *ourFrame {
	body := randomBytes(rng, size)
	meta := nnrpffi.TokenSubmit(0, policy)
	return &ourFrame{frame: &client.Frame{Meta: meta, Opaque: body}, body: body, meta: meta}
}

func tensorFrame(t testing.TB, rng *rand.Rand, tiles, tileBytes int, policy wire.BudgetPolicy) *ourFrame {
	t.Helper()
	f := &ourFrame{frame: &client.Frame{Meta: nnrpffi.TensorSubmit(0, policy), Tiles: wire.TileRange(uint32(rng.IntN(8)), tiles)}}
	sec := wire.SectionData{RoleID: 1, DTypeID: wire.DTypeUint8, ElementCountPerTile: uint32(tileBytes)}
	for range tiles {
		f.tiles = append(f.tiles, randomBytes(rng, tileBytes))
	}
	sec.Tiles = f.tiles
	f.frame.Sections = []wire.SectionData{sec}
	b := wire.SubmitBuilder{Meta: f.frame.Meta, Tiles: f.frame.Tiles, Sections: f.frame.Sections}
	b.Meta.OperationID = 1
	pkt, err := b.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := wire.ParsePacket(pkt, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.meta, _, err = wire.ParseFrameSubmit(p.Meta); err != nil {
		t.Fatal(err)
	}
	f.meta.OperationID = 0
	f.body = p.Body
	return f
}

// ourKind is a kind of session our client opens on the official server.
type ourKind struct {
	name   string
	opts   client.SessionOptions
	tensor bool
}

func (k ourKind) frame(t testing.TB, rng *rand.Rand, size int, policy wire.BudgetPolicy) *ourFrame {
	if !k.tensor {
		return opaqueFrame(rng, size, policy)
	}
	tiles := 1 + rng.IntN(4)
	return tensorFrame(t, rng, tiles, max(1, size/tiles), policy)
}

var ourKinds = []ourKind{
	{name: "token-0x1001v3", opts: client.SessionOptions{Profile: wire.ProfileToken, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion}},
	{name: "tensor-0x1001v3", tensor: true, opts: client.SessionOptions{Profile: wire.ProfileTensor, SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion}},
}

// TestOurClientOfficialServer runs nnrp/client against the official server
// (nnrpffitest.EchoServer) over TCP, TLS and QUIC: the handshake (no ALPN
// offered: the official QUIC server refuses clients that offer one),
// session open and the official server's schema rejection, byte-exact echo
// of opaque token bodies and of wire.SubmitBuilder tensor bodies (window 1
// and 16, on two sessions at once), and the official server's complete /
// partial / stale_reuse / degraded results, drops, progress, partial results
// and cancel answers as our client decodes them.
func TestOurClientOfficialServer(t *testing.T) {
	for _, c := range carriers {
		t.Run(c.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			before := nnrpffitest.RequireLib(t, c.transport).OpenHandles()
			lib, echo, ep, tlsCfg := officialFor(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cc, err := client.Dial(ctx, ep, client.Options{TLS: tlsCfg})
			if err != nil {
				t.Fatalf("our client dial %s: %v", ep, err)
			}
			t.Cleanup(func() { _ = cc.Close() })
			if st := cc.Carrier().TLSState(); (st != nil) != c.tls || (st != nil && st.NegotiatedProtocol != "") {
				t.Errorf("TLS state %+v, want TLS=%v without ALPN", st, c.tls)
			}
			ack := cc.ServerHello()
			hello := client.DefaultHello()
			if ack.SelectedVersionMajor != 1 || ack.AcceptedProfileBitmap&^hello.SupportedProfileBitmap != 0 || ack.AcceptedProfileBitmap&0x3 != 0x3 {
				t.Errorf("SERVER_HELLO_ACK %+v", ack)
			}

			// The official stock registry refuses schema (0, 0).
			if _, err := cc.OpenSession(ctx, client.SessionOptions{Profile: wire.ProfileTensor}); !errors.Is(err, client.ErrRejected) ||
				!strings.Contains(err.Error(), wire.SessionSchemaUnsupported.String()) {
				t.Errorf("schema (0, 0): %v, want a schema_unsupported rejection", err)
			}

			sessions := make([]*client.Session, len(ourKinds))
			for i, k := range ourKinds {
				k.opts.MaxInFlight = 16
				if sessions[i], err = cc.OpenSession(ctx, k.opts); err != nil {
					t.Fatalf("%s: open session: %v", k.name, err)
				}
				if a := sessions[i].Ack(); a.SessionID == 0 || a.SessionID != sessions[i].ID() || !a.Status.Accepted() {
					t.Errorf("%s: SESSION_OPEN_ACK %+v", k.name, a)
				}
			}

			var wg sync.WaitGroup
			errs := make([]error, len(ourKinds))
			for i, k := range ourKinds {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(i), 3))
					n := 0
					next := func() *ourFrame {
						n++
						return k.frame(t, rng, echoSizes[n%len(echoSizes)]+rng.IntN(8), 0)
					}
					if err := ourEcho(ctx, sessions[i], next, 100, 1); err != nil {
						errs[i] = fmt.Errorf("%s window 1: %w", k.name, err)
					} else if err := ourEcho(ctx, sessions[i], next, 200, 16); err != nil {
						errs[i] = fmt.Errorf("%s window 16: %w", k.name, err)
					}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}

			for i, k := range ourKinds {
				t.Run(k.name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(i), 4))
					checkOfficialClasses(ctx, t, sessions[i], k, rng)
					checkOfficialStreamAndDrops(ctx, t, sessions[i], k, rng)
				})
			}
			for i, s := range sessions {
				if err := s.Close(ctx); err != nil {
					t.Errorf("%s: close: %v", ourKinds[i].name, err)
				}
			}
			if err := cc.Close(); err != nil {
				t.Fatal(err)
			}
			<-cc.Done()
			if err := echo.Close(); err != nil {
				t.Errorf("official server: %v", err)
			}
			if accepted, _ := echo.Counts(); accepted != len(ourKinds) {
				t.Errorf("official server accepted %d sessions, want %d", accepted, len(ourKinds))
			}
			if n := lib.OpenHandles(); n != before {
				t.Errorf("%d native handles open after shutdown, want %d", n, before)
			}
		})
	}
}

// next returns the session's next event within the test's bound.
func nextEvent(ctx context.Context, t *testing.T, s *client.Session) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, ourAwait)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next event: %v", err)
	}
	return ev
}

// checkOurResult checks a RESULT_PUSH our client received for f: the exact
// body, the official echo's metadata for cmd, and (tensor) the tiles as our
// client's ResultView decodes them.
func checkOurResult(ev *client.Event, f *ourFrame, cmd uint64) error {
	if ev.Kind != client.EventResult || ev.Result == nil {
		return fmt.Errorf("frame %d: event %v (drop %s %q), want a result", ev.FrameID, ev.Kind, ev.Drop, ev.Diagnostic)
	}
	if !bytes.Equal(ev.Packet.Body, f.body) {
		return fmt.Errorf("frame %d: echo of %d bytes differs from the %d bytes sent", ev.FrameID, len(ev.Packet.Body), len(f.body))
	}
	if want := nnrpffitest.EchoResultMetadata(cmd, &f.meta); ev.Result.Meta != want {
		return fmt.Errorf("frame %d: result metadata\n got %+v\nwant %+v", ev.FrameID, ev.Result.Meta, want)
	}
	v := ev.Result
	if f.tiles == nil {
		if v.Form() != wire.BodyFormOpaque {
			return fmt.Errorf("frame %d: opaque echo decoded as %s", ev.FrameID, v.Form())
		}
		return nil
	}
	if v.Form() != wire.BodyFormPrelude || v.SectionCount() != 1 || v.Tiles().Len() != len(f.tiles) {
		return fmt.Errorf("frame %d: tensor echo decoded as %s with %d sections, %d tiles", ev.FrameID, v.Form(), v.SectionCount(), v.Tiles().Len())
	}
	for j, tile := range f.tiles {
		if !bytes.Equal(v.Section(0).Tile(j), tile) || v.Tiles().At(j) != uint16(f.frame.Tiles.Base)+uint16(j) {
			return fmt.Errorf("frame %d: tile %d differs", ev.FrameID, j)
		}
	}
	return nil
}

// ourEcho submits n frames from next with up to window outstanding and
// checks every answer with checkOurResult.
func ourEcho(ctx context.Context, s *client.Session, next func() *ourFrame, n, window int) error {
	sent := map[uint32]*ourFrame{}
	done, submitted := 0, 0
	for done < n {
		for submitted < n && len(sent) < window {
			f := next()
			id, err := s.Submit(ctx, f.frame)
			if err != nil {
				return fmt.Errorf("submit %d: %w", submitted, err)
			}
			sent[id] = f
			submitted++
		}
		wctx, cancel := context.WithTimeout(ctx, ourAwait)
		ev, err := s.Next(wctx)
		cancel()
		if err != nil {
			return fmt.Errorf("after %d results: %w", done, err)
		}
		f, ok := sent[ev.FrameID]
		if !ok {
			ev.Release()
			return fmt.Errorf("event %v for unknown frame %d", ev.Kind, ev.FrameID)
		}
		delete(sent, ev.FrameID)
		err = checkOurResult(&ev, f, nnrpffitest.CmdComplete)
		if err == nil && ev.Header.SessionID != s.ID() {
			err = fmt.Errorf("frame %d: header session %d, want %d", ev.FrameID, ev.Header.SessionID, s.ID())
		}
		ev.Release()
		if err != nil {
			return err
		}
		done++
	}
	return nil
}

// checkOfficialClasses: the official server's complete, partial,
// stale_reuse and degraded results as our client decodes them: class, flag,
// applied policy, reused frame id, covered and dropped tiles.
func checkOfficialClasses(ctx context.Context, t *testing.T, s *client.Session, k ourKind, rng *rand.Rand) {
	t.Helper()
	var last uint32
	for _, cmd := range []uint64{nnrpffitest.CmdComplete, nnrpffitest.CmdPartial, nnrpffitest.CmdStaleReuse, nnrpffitest.CmdDegraded} {
		f := k.frame(t, rng, 3000, allPolicies)
		f.frame.Meta.DependencyFrameID, f.meta.DependencyFrameID = last, last
		f.frame.TraceID = cmd
		id, err := s.Submit(ctx, f.frame)
		if err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(ctx, t, s)
		if ev.FrameID != id {
			t.Fatalf("command %d: event for frame %d, want %d", cmd, ev.FrameID, id)
		}
		if err := checkOurResult(&ev, f, cmd); err != nil {
			t.Errorf("command %d: %v", cmd, err)
		} else {
			m := ev.Result.Meta
			want := map[uint64]struct {
				class  wire.ResultClass
				flags  wire.ResultFlags
				policy wire.BudgetPolicy
			}{
				nnrpffitest.CmdComplete:   {wire.ClassComplete, 0, 0},
				nnrpffitest.CmdPartial:    {wire.ClassPartial, wire.ResultFlagPartial, wire.AllowPartial},
				nnrpffitest.CmdStaleReuse: {wire.ClassStaleReuse, wire.ResultFlagStale, wire.AllowStaleReuse},
				nnrpffitest.CmdDegraded:   {wire.ClassDegraded, wire.ResultFlagFallback, wire.AllowDegraded},
			}[cmd]
			if m.Class != want.class || m.Flags != want.flags || m.AppliedBudgetPolicy != want.policy {
				t.Errorf("command %d: class %s flags 0x%x policy 0x%x", cmd, m.Class, m.Flags, m.AppliedBudgetPolicy)
			}
			if (cmd == nnrpffitest.CmdStaleReuse) != (m.ReusedFrameID != 0) || (cmd == nnrpffitest.CmdStaleReuse && m.ReusedFrameID != last) {
				t.Errorf("command %d: reused frame %d (previous frame %d)", cmd, m.ReusedFrameID, last)
			}
			if k.tensor && (m.CoveredTileCount+m.DroppedTileCount != m.TileCount || (cmd == nnrpffitest.CmdPartial) != (m.DroppedTileCount > 0)) {
				t.Errorf("command %d: covered %d + dropped %d of %d tiles", cmd, m.CoveredTileCount, m.DroppedTileCount, m.TileCount)
			}
		}
		ev.Release()
		last = id
	}
}

// checkOfficialStreamAndDrops: PROGRESS and PARTIAL_RESULT before the
// result, a drop with a reason, and the drop that answers our client's
// CANCEL (which the official server library passes on as a runtime frame)
// and a FRAME_CANCEL sent with Session.Send.
func checkOfficialStreamAndDrops(ctx context.Context, t *testing.T, s *client.Session, k ourKind, rng *rand.Rand) {
	t.Helper()
	f := k.frame(t, rng, 2000, 0)
	f.frame.TraceID = nnrpffitest.CmdStream
	id, err := s.Submit(ctx, f.frame)
	if err != nil {
		t.Fatal(err)
	}
	op, _ := s.OperationID(id)
	var kinds []client.EventKind
	for {
		ev := nextEvent(ctx, t, s)
		kinds = append(kinds, ev.Kind)
		switch ev.Kind {
		case client.EventProgress:
			m, err := wire.Decode(&ev.Packet, wire.ParseProgress)
			if err != nil || m != (wire.Progress{OperationID: op, ProgressSequence: 1, Stage: wire.StageExecuting, PercentX100: 5000}) {
				t.Errorf("progress %+v %v", m, err)
			}
		case client.EventPartial:
			m, err := wire.Decode(&ev.Packet, wire.ParsePartialResult)
			half := f.body[:len(f.body)/2]
			if err != nil || m.OperationID != op || m.ResultSequence != 1 || !bytes.Equal(ev.Packet.Body, half) {
				t.Errorf("partial result %+v %v", m, err)
			}
		case client.EventResult:
			if err := checkOurResult(&ev, f, nnrpffitest.CmdComplete); err != nil {
				t.Error(err)
			}
		}
		ev.Release()
		if ev.Terminal() || len(kinds) > 3 {
			break
		}
	}
	if !slices.Equal(kinds, []client.EventKind{client.EventProgress, client.EventPartial, client.EventResult}) {
		t.Errorf("stream events %v, want progress, partial, result", kinds)
	}

	f = k.frame(t, rng, 100, wire.AllowDrop)
	f.frame.TraceID = nnrpffitest.CmdDrop
	if id, err = s.Submit(ctx, f.frame); err != nil {
		t.Fatal(err)
	}
	op, _ = s.OperationID(id)
	checkOurDrop(t, nextEvent(ctx, t, s), id, op, wire.DropBudgetExceeded, 1, nnrpffitest.EchoDropDiagnostic)

	for _, frameCancel := range []bool{false, true} {
		f = k.frame(t, rng, 100, 0)
		f.frame.TraceID = nnrpffitest.CmdHold
		if id, err = s.Submit(ctx, f.frame); err != nil {
			t.Fatal(err)
		}
		op, _ = s.OperationID(id)
		if frameCancel {
			err = s.Send(ctx, wire.Header{Type: wire.TypeFrameCancel, FrameID: id}, nil)
		} else {
			err = s.Cancel(ctx, id)
		}
		if err != nil {
			t.Fatalf("cancel (FRAME_CANCEL %v): %v", frameCancel, err)
		}
		checkOurDrop(t, nextEvent(ctx, t, s), id, op, wire.DropPeerCancelled, 0, nnrpffitest.EchoCancelDiagnostic)
	}
}

func checkOurDrop(t *testing.T, ev client.Event, frame uint32, op uint64, reason wire.DropReason, seq uint64, diag string) {
	t.Helper()
	defer ev.Release()
	if ev.Kind != client.EventDrop || ev.FrameID != frame || ev.Drop != reason || string(ev.Diagnostic) != diag {
		t.Errorf("frame %d: event %v frame %d drop %s %q, want drop %s %q", frame, ev.Kind, ev.FrameID, ev.Drop, ev.Diagnostic, reason, diag)
		return
	}
	m, err := wire.Decode(&ev.Packet, wire.ParseResultDropReason)
	if err != nil || m.OperationID != op || m.SourceRole != wire.RoleServer || m.Flags != wire.ResultDropFinal || m.ResultSequence != seq {
		t.Errorf("frame %d: RESULT_DROP_REASON %+v %v", frame, m, err)
	}
}

// TestOurClientOffersNoALPN: with the TLS settings our client uses against
// the official server, its ClientHello lists no application protocol on TLS
// and QUIC (checked by a Go listener that records the hello); and the
// official QUIC server does refuse a client that offers one, which is why it
// matters.
func TestOurClientOffersNoALPN(t *testing.T) {
	dev := devCert(t, false)
	for _, kind := range []carrier.Kind{carrier.TLS, carrier.QUIC} {
		t.Run(kind.String(), func(t *testing.T) {
			var mu sync.Mutex
			var offered [][]string
			cfg := carrier.ServerTLSConfig(dev.TLS)
			inner := cfg.GetConfigForClient
			cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				mu.Lock()
				offered = append(offered, h.SupportedProtos)
				mu.Unlock()
				return inner(h)
			}
			l, err := carrier.Listen(kind, "127.0.0.1:0", cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			served := make(chan error, 1)
			go func() {
				c, err := l.Accept(context.Background())
				if err != nil {
					served <- err
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				err = c.Handshake(ctx)
				_ = c.Close() // no NNRP server behind: the client's hello goes unanswered
				served <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tlsCfg := &tls.Config{RootCAs: dev.RootPool(), ServerName: "localhost"}
			if _, err := client.Dial(ctx, kind.String()+"://"+l.Addr().String(), client.Options{TLS: tlsCfg}); err == nil {
				t.Error("the NNRP handshake succeeded without a server")
			}
			if err := <-served; err != nil {
				t.Fatalf("carrier handshake: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(offered) != 1 || len(offered[0]) != 0 {
				t.Errorf("our client offered ALPN %q, want none", offered)
			}
		})
	}

	t.Run("official-quic-refuses-alpn", func(t *testing.T) {
		_, echo, ep, tlsCfg := officialFor(t, carriers[2])
		tlsCfg.NextProtos = []string{carrier.ALPN}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if c, err := client.Dial(ctx, ep, client.Options{TLS: tlsCfg}); err == nil {
			c.Close()
			t.Fatal("the official QUIC server accepted a client offering ALPN")
		} else {
			t.Logf("client offering ALPN: %v", err)
		}
		// One failed handshake closes the official listener (INTEROP
		// defect 2); its accept loop reports that.
		t.Logf("official server after the refused handshake: %v", echo.Close())
	})
}
