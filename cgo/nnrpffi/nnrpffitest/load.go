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

// RunEcho drives frames echo submits through sess, keeping up to window of
// them outstanding, and checks that every result is a RESULT_PUSH whose body
// equals the submitted body. meta is the FRAME_SUBMIT metadata of every frame
// (its operation id is replaced per frame); each Await waits at most timeout.
// Submitting and polling run on the calling goroutine, one event per poll:
// the library serialises calls on a session anyway.
func RunEcho(sess *nnrpffi.ClientSession, frames, window int, body []byte, meta nnrpffi.FrameSubmitMetadata, timeout time.Duration) (EchoStats, error) {
	if window < 1 {
		return EchoStats{}, errors.New("nnrpffitest: window must be at least 1")
	}
	sentAt := make(map[uint32]time.Time, window)
	lat := make([]time.Duration, 0, frames)
	start := time.Now()
	sent := 0
	for len(lat) < frames {
		for sent < frames && len(sentAt) < window {
			t0 := time.Now()
			m := meta
			m.OperationID = 0
			f, err := sess.Submit(&nnrpffi.SubmitRequest{Metadata: m, Body: body})
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
				return EchoStats{}, fmt.Errorf("frame %d dropped: %+v", ev.FrameID(), ev.Drop.Reason)
			}
			if !bytes.Equal(ev.Result.Body, body) {
				return EchoStats{}, fmt.Errorf("frame %d: echo of %d bytes differs from the %d bytes sent", ev.FrameID(), len(ev.Result.Body), len(body))
			}
			lat = append(lat, now.Sub(t0))
		}
	}
	st := EchoStats{Frames: len(lat), Elapsed: time.Since(start), Latencies: lat}
	slices.Sort(st.Latencies)
	return st, nil
}

// BenchEcho measures the official client against the echo server at dial
// (the official EchoServer, or any server that echoes the body in a
// RESULT_PUSH): one connection, one tensor session (profile 1, schema
// 0x1001 v3, max in flight = window), b.N frames of bodySize random bytes
// with window outstanding. It reports frames/s, p50_ms and p99_ms (and
// MB/s of one direction via SetBytes).
func BenchEcho(b *testing.B, lib *nnrpffi.Lib, dial nnrpffi.DialOptions, bodySize, window int) {
	b.Helper()
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
		Profile:       nnrpffi.ProfileTensor,
		SchemaID:      nnrpffi.SchemaTokenDelta,
		SchemaVersion: nnrpffi.SchemaTokenDeltaVersion,
		MaxInFlight:   uint16(window),
		Priority:      1,
	})
	if err != nil {
		b.Fatalf("open session: %v", err)
	}
	body := make([]byte, bodySize)
	rng := rand.New(rand.NewPCG(uint64(bodySize), uint64(window)))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	meta := nnrpffi.TensorSubmit(0, 0)
	const awaitTimeout = 60 * time.Second
	if _, err := RunEcho(sess, max(2*window, 8), window, body, meta, awaitTimeout); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	b.SetBytes(int64(bodySize))
	b.ResetTimer()
	st, err := RunEcho(sess, b.N, window, body, meta, awaitTimeout)
	b.StopTimer()
	if err != nil {
		b.Fatalf("echo: %v", err)
	}
	b.ReportMetric(st.FramesPerSecond(), "frames/s")
	b.ReportMetric(float64(st.Percentile(50))/float64(time.Millisecond), "p50_ms")
	b.ReportMetric(float64(st.Percentile(99))/float64(time.Millisecond), "p99_ms")
	if err := sess.Close(); err != nil {
		b.Errorf("session close: %v", err)
	}
}
