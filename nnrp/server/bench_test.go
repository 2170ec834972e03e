package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
)

// BenchmarkEcho measures the protocol engine end to end: the Go client
// submits frames with a window of W in flight to the Go server's echo over
// loopback, per carrier and frame size (issue 3's table). Metrics:
// frames/s, MB/s (one direction) and latency percentiles.
func BenchmarkEcho(b *testing.B) {
	for _, k := range []carrier.Kind{carrier.TCP, carrier.TLS, carrier.QUIC, carrier.Unix} {
		for _, size := range []int{1 << 10, 1 << 20} {
			for _, window := range []int{1, 16} {
				b.Run(fmt.Sprintf("%s/%dKiB/w%d", k, size>>10, window), func(b *testing.B) {
					benchEcho(b, k, size, window)
				})
			}
		}
	}
}

// echoFrame is one tile of size bytes (float32 values).
func echoFrame(b testing.TB, size int) *client.Frame {
	n := size / 4
	side := 1
	for side*side < n {
		side++
	}
	img := client.Image{Channels: 1, Height: n / side, Width: side, Data: make([]float32, (n/side)*side)}
	f, err := client.TensorFrame(img, side, n/side, 1)
	if err != nil {
		b.Fatal(err)
	}
	f.Meta.LatencyBudgetMS = 60000
	return f
}

func benchEcho(b *testing.B, k carrier.Kind, size, window int) {
	h := newHarness(b, server.Profile{MaxConcurrentFrames: 64, MaxBodyBytes: 8 << 20}, server.Options{}, nil)
	c, err := client.Dial(context.Background(), h.eps[k], client.Options{TLS: h.clientTLS()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := c.OpenSession(context.Background(), client.SessionOptions{MaxInFlight: uint16(window)})
	if err != nil {
		b.Fatal(err)
	}
	f := echoFrame(b, size)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	sent := map[uint32]time.Time{}
	tokens := make(chan struct{}, window)
	for range window {
		tokens <- struct{}{}
	}
	done := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			ev, err := s.Next(ctx)
			if err != nil {
				done <- err
				return
			}
			if ev.Kind != client.EventResult {
				done <- fmt.Errorf("event %v drop %v %s", ev.Kind, ev.Drop, ev.Diagnostic)
				return
			}
			mu.Lock()
			lat = append(lat, time.Since(sent[ev.FrameID]))
			delete(sent, ev.FrameID)
			mu.Unlock()
			ev.Release()
			tokens <- struct{}{}
		}
		done <- nil
	}()
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		<-tokens
		mu.Lock()
		id := uint32(i + 1) // the client numbers frames 1, 2, 3, …
		sent[id] = time.Now()
		mu.Unlock()
		if got, err := s.Submit(ctx, f); err != nil || got != id {
			b.Fatalf("submit %d: %v (frame %d)", i, err, got)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), "frames/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
