package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	modelserve "github.com/nnrp-gpu/nnrp-gpu/runtime/serve"
)

// application answers the sessions of a server: the built-in echo app, or
// the model service when --models is given.
type application interface {
	RegisterMetrics(reg *prometheus.Registry)
	// Ready reports whether the server can take frames (/readyz).
	Ready() error
	OpenSession(*server.SessionRequest) server.SessionDecision
	PatchSession(*server.PatchRequest) server.PatchDecision
	// AcceptLoop serves every session until the server closes.
	AcceptLoop(ctx context.Context, srv *server.Server)
	// Close waits for the sessions' goroutines and releases the app's resources.
	Close()
}

func newApp(f *serveFlags, log *slog.Logger) (application, error) {
	if f.models != "" {
		return newModelApp(f, log)
	}
	return newEchoApp(f, log)
}

// app answers frames. It is the built-in echo: every frame's content comes
// back unchanged (the protocol and transport test backend). It serves when
// no --models repository is given; with one, the repository's echo model
// does the same.
type app struct {
	log     *slog.Logger
	latency *prometheus.HistogramVec
	wg      sync.WaitGroup
}

func newEchoApp(_ *serveFlags, log *slog.Logger) (*app, error) {
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
			_ = s.SendResultDrop(ctx, sub, wire.DropCapabilityMismatch, err.Error())
		}
		a.latency.WithLabelValues(outcome).Observe(time.Since(sub.Arrived).Seconds())
	}
}

func (a *app) Close() { a.wg.Wait() }

// modelApp serves sessions with the models of a repository (serve --models).
type modelApp struct {
	log     *slog.Logger
	staging *gpu.Staging
	mgr     *repo.Manager
	metrics *repo.Metrics
	svc     *modelserve.Service
}

// modelsCloseTimeout bounds how long Close waits for model versions to drain.
const modelsCloseTimeout = 10 * time.Second

func newModelApp(f *serveFlags, log *slog.Logger) (*modelApp, error) {
	if err := initORT(f.ortLib); err != nil {
		return nil, fmt.Errorf("--ort-lib / ORT_LIB: %w", err)
	}
	if !ortexec.Initialized() {
		log.Warn("ONNX Runtime is not loaded (set ORT_LIB or --ort-lib): models with backend onnxruntime cannot load")
	} else {
		log.Info("ONNX Runtime loaded", "version", ortexec.LibraryVersion(), "path", ortexec.LibraryPath())
	}
	alloc, why := gpu.DefaultAllocator()
	if why != "" {
		log.Warn("pinned staging memory unavailable; using ordinary host memory", "reason", why)
	}
	limit := int64(f.stagingMaxMiB) << 20
	st := gpu.NewStaging(gpu.StagingOptions{Allocator: alloc, MaxInputBytes: limit, MaxOutputBytes: limit})
	a := &modelApp{log: log, staging: st, metrics: repo.NewMetrics()}
	mgr, err := repo.Open(context.Background(), repo.Options{Dir: f.models, Logger: log, Metrics: a.metrics, Staging: st, Rescan: f.modelsRescan})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("--models: %w", err)
	}
	a.mgr = mgr
	a.svc, err = modelserve.New(modelserve.Options{Models: mgr, DefaultModel: f.defaultModel, Routes: f.routes, Staging: st, Logger: log})
	if err != nil {
		a.closeModels()
		return nil, fmt.Errorf("--default-model / --route: %w", err)
	}
	if err := mgr.Ready(); err != nil {
		log.Warn("not every model is serving; /readyz reports it", "err", err)
	}
	return a, nil
}

func (a *modelApp) RegisterMetrics(reg *prometheus.Registry) {
	reg.MustRegister(a.metrics.Collectors()...)
	reg.MustRegister(a.svc.Collectors()...)
}

func (a *modelApp) Ready() error { return a.svc.Ready() }

func (a *modelApp) OpenSession(req *server.SessionRequest) server.SessionDecision {
	return a.svc.OpenSession(req)
}

func (a *modelApp) PatchSession(req *server.PatchRequest) server.PatchDecision {
	return a.svc.PatchSession(req)
}

func (a *modelApp) AcceptLoop(_ context.Context, srv *server.Server) { a.svc.Serve(srv) }

// serveStatus answers GET /models with the repository's state as JSON (what `nnrp-gpu models
// list --json` prints, for the running server).
func (a *modelApp) serveStatus(w http.ResponseWriter, _ *http.Request) {
	status, strays := a.mgr.Status()
	problems := make([]string, len(strays))
	for i, p := range strays {
		problems[i] = p.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		Models   []repo.ModelStatus
		Problems []string
	}{status, problems})
}

func (a *modelApp) Close() {
	a.svc.Wait()
	a.closeModels()
}

func (a *modelApp) closeModels() {
	ctx, cancel := context.WithTimeout(context.Background(), modelsCloseTimeout)
	defer cancel()
	if err := a.mgr.Close(ctx); err != nil {
		a.log.Warn("closing the model repository", "err", err)
	}
	if err := a.staging.Close(); err != nil {
		a.log.Warn("staging memory not fully returned", "err", err)
	}
}
