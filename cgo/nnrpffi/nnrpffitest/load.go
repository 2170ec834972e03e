package nnrpffitest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// EchoStats is the outcome of RunEcho.
type EchoStats struct {
	Frames    int
	Elapsed   time.Duration
	Latencies []time.Duration // submit call to result, sorted ascending
}

// FramesPerSecond is the completed frames per second of wall time.
func (s EchoStats) FramesPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Frames) / s.Elapsed.Seconds()
}

// Percentile returns the p-th percentile latency (0 < p <= 100, nearest rank).
func (s EchoStats) Percentile(p float64) time.Duration {
	n := len(s.Latencies)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n)+0.999999) - 1
	return s.Latencies[min(max(rank, 0), n-1)]
}

// RunEcho drives frames echo submits of req through sess, keeping up to
// window of them outstanding, and checks that every result is a RESULT_PUSH
// whose body equals req.Body byte for byte. Every frame is a copy of req
// with a fresh frame and operation id (req.FrameID and
// req.Metadata.OperationID are ignored); each Await waits at most timeout.
// Submitting and polling run on the calling goroutine, one event per poll:
// the library serialises calls on a session anyway.
func RunEcho(sess *nnrpffi.ClientSession, frames, window int, req *nnrpffi.SubmitRequest, timeout time.Duration) (EchoStats, error) {
	if window < 1 {
		return EchoStats{}, errors.New("nnrpffitest: window must be at least 1")
	}
	r := *req
	r.FrameID, r.Metadata.OperationID = 0, 0
	sentAt := make(map[uint32]time.Time, window)
	lat := make([]time.Duration, 0, frames)
	start := time.Now()
	sent := 0
	for len(lat) < frames {
		for sent < frames && len(sentAt) < window {
			t0 := time.Now()
			f, err := sess.Submit(&r)
			if err != nil {
				return EchoStats{}, fmt.Errorf("submit %d: %w", sent, err)
			}
			sentAt[f.FrameID] = t0
			sent++
		}
		events, err := sess.Await(timeout, 1)
		if err != nil {
			return EchoStats{}, fmt.Errorf("await after %d results: %w", len(lat), err)
		}
		if len(events) == 0 {
			return EchoStats{}, fmt.Errorf("no result within %v after %d results (%d outstanding)", timeout, len(lat), len(sentAt))
		}
		now := time.Now()
		for i := range events {
			ev := &events[i]
			if !ev.Terminal() {
				continue
			}
			t0, ok := sentAt[ev.FrameID()]
			if !ok {
				return EchoStats{}, fmt.Errorf("terminal for unknown frame %d", ev.FrameID())
			}
			delete(sentAt, ev.FrameID())
			if ev.Result == nil {
				return EchoStats{}, fmt.Errorf("frame %d dropped: %+v %q", ev.FrameID(), ev.Drop.Reason, ev.Drop.Diagnostic)
			}
			if !bytes.Equal(ev.Result.Body, r.Body) {
				return EchoStats{}, fmt.Errorf("frame %d: echo of %d bytes differs from the %d bytes sent", ev.FrameID(), len(ev.Result.Body), len(r.Body))
			}
			lat = append(lat, now.Sub(t0))
		}
	}
	st := EchoStats{Frames: len(lat), Elapsed: time.Since(start), Latencies: lat}
	slices.Sort(st.Latencies)
	return st, nil
}

// TensorEchoRequest returns an inline tensor submit whose body, as written
// by wire.SubmitBuilder, is exactly bodySize bytes (at least 64, a multiple
// of 8): one tile of random uint8 elements in one section. Both the
// official echo server (which echoes bytes) and a spec-conformant server
// (which echoes the tiles) answer it with the same body.
func TensorEchoRequest(bodySize int, seed uint64) (*nnrpffi.SubmitRequest, error) {
	build := func(tileBytes int) (*nnrpffi.SubmitRequest, error) {
		tile := make([]byte, tileBytes)
		rng := rand.New(rand.NewPCG(seed, uint64(tileBytes)))
		for i := range tile {
			tile[i] = byte(rng.Uint32())
		}
		b := wire.SubmitBuilder{
			Meta:  nnrpffi.TensorSubmit(0, 0),
			Tiles: wire.TileRange(0, 1),
			Sections: []wire.SectionData{{
				RoleID: 1, DTypeID: wire.DTypeUint8, LayoutID: wire.LayoutNCHW,
				ElementCountPerTile: uint32(tileBytes), Tiles: [][]byte{tile},
			}},
		}
		return nnrpffi.TensorRequest(&b)
	}
	probe, err := build(8)
	if err != nil {
		return nil, err
	}
	overhead := len(probe.Body) - 8
	if bodySize%8 != 0 || bodySize-overhead < 8 {
		return nil, fmt.Errorf("nnrpffitest: a tensor body of %d bytes cannot be built (multiple of 8, at least %d)", bodySize, overhead+8)
	}
	req, err := build(bodySize - overhead)
	if err == nil && len(req.Body) != bodySize {
		err = fmt.Errorf("nnrpffitest: tensor body of %d bytes, want %d", len(req.Body), bodySize)
	}
	return req, err
}

// BenchEcho measures the official client against the echo server at dial
// (the official EchoServer, or any server that echoes the body in a
// RESULT_PUSH): one connection, one tensor session (profile 1, schema
// 0x1001 v3, the official default, max in flight = window), b.N frames of a
// TensorEchoRequest of bodySize bytes with window outstanding. It reports
// frames/s, p50-ms and p99-ms (and MB/s of one direction via SetBytes).
// When serverCPU is not nil it reports the CPU time the server spent per
// frame as server-cpu-ms: serverCPU returns the server's cumulative CPU time
// and is read before and after the measured frames.
func BenchEcho(b *testing.B, lib *nnrpffi.Lib, dial nnrpffi.DialOptions, bodySize, window int, serverCPU func() (time.Duration, error)) {
	b.Helper()
	req, err := TensorEchoRequest(bodySize, uint64(window))
	if err != nil {
		b.Fatal(err)
	}
	conn, err := lib.Dial(dial)
	if err != nil {
		b.Fatalf("dial %s: %v", dial.Endpoint, err)
	}
	defer func() {
		if err := conn.Close(); err != nil {
			b.Errorf("connection close: %v", err)
		}
	}()
	sess, err := conn.OpenSession(nnrpffi.SessionOptions{
		Profile:       wire.ProfileTensor,
		SchemaID:      nnrpffi.SchemaTokenDelta,
		SchemaVersion: nnrpffi.SchemaTokenDeltaVersion,
		MaxInFlight:   uint16(window),
		Priority:      1,
	})
	if err != nil {
		b.Fatalf("open session: %v", err)
	}
	const awaitTimeout = 60 * time.Second
	if _, err := RunEcho(sess, max(2*window, 8), window, req, awaitTimeout); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	var cpu0 time.Duration
	if serverCPU != nil {
		if cpu0, err = serverCPU(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(bodySize))
	b.ResetTimer()
	st, err := RunEcho(sess, b.N, window, req, awaitTimeout)
	b.StopTimer()
	if err != nil {
		b.Fatalf("echo: %v", err)
	}
	if serverCPU != nil {
		cpu1, err := serverCPU()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(cpu1-cpu0)/float64(time.Millisecond)/float64(b.N), "server-cpu-ms")
	}
	b.ReportMetric(st.FramesPerSecond(), "frames/s")
	b.ReportMetric(float64(st.Percentile(50))/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(st.Percentile(99))/float64(time.Millisecond), "p99-ms")
	if err := sess.Close(); err != nil {
		b.Errorf("session close: %v", err)
	}
}
