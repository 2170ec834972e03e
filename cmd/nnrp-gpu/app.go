package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// app answers frames. It is the built-in echo: every frame's content comes
// back unchanged (the protocol and transport test backend).
type app struct {
	log     *slog.Logger
	latency *prometheus.HistogramVec
	wg      sync.WaitGroup
}

func newApp(_ *serveFlags, log *slog.Logger) (*app, error) {
	return &app{
		log: log,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nnrp_frame_latency_seconds",
			Help:    "Time from a frame's arrival to its answer being written, by outcome.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
		}, []string{"outcome"}),
	}, nil
}

func (a *app) RegisterMetrics(reg *prometheus.Registry) { reg.MustRegister(a.latency) }

// Ready reports whether the server can take frames.
func (a *app) Ready() error { return nil }

// OpenSession admits every session (the echo needs no model).
func (a *app) OpenSession(*server.SessionRequest) server.SessionDecision {
	return server.SessionDecision{Model: "echo"}
}

// PatchSession rejects every patch field: the echo has nothing to tune.
func (a *app) PatchSession(req *server.PatchRequest) server.PatchDecision {
	return server.PatchDecision{Rejected: req.Patch.Mask, Reason: wire.PatchRejectUnsupportedField}
}

// AcceptLoop serves every session until ctx ends or the server closes.
func (a *app) AcceptLoop(ctx context.Context, srv *server.Server) {
	for {
		s, err := srv.AcceptSession(context.Background())
		if err != nil {
			a.wg.Wait()
			return
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.serveSession(s)
		}()
	}
}

func (a *app) serveSession(s *server.Session) {
	ctx := s.Context()
	for {
		sub, err := s.ReceiveSubmit(ctx)
		if err != nil {
			return
		}
		r, err := server.EchoResult(sub)
		outcome := "complete"
		if err == nil {
			err = s.SendResult(ctx, sub, r)
		}
		if err != nil && !errors.Is(err, server.ErrNotInFlight) {
			outcome = "drop"
			_ = s.SendDrop(ctx, sub, wire.DropCapabilityMismatch, err.Error())
		}
		a.latency.WithLabelValues(outcome).Observe(time.Since(sub.Arrived).Seconds())
	}
}

func (a *app) Close() { a.wg.Wait() }
