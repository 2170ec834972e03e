// Package serve binds NNRP sessions to the models of a repository and executes their frames: the
// session policy (which model a SESSION_OPEN gets, SESSION_PATCH switching), the capability
// checks of each frame against its model, the halo gather into staging memory, batches run on the
// model's backend, and results whose sections alias the output staging (scatter-gather writes).
//
// # Session binding
//
// A session is bound to one model, by name: the UTF-8 name in the SESSION_OPEN session extension
// block entry of type 0x8001 (ModelExtension, client.ModelExtension), else the route table entry
// of the header route_id, else the default model. An unknown or unavailable model rejects the
// SESSION_OPEN with session error profile_unsupported and a diagnostic listing the models
// available. SESSION_PATCH with patch_mask bit 0x40 (profile_patch) and a body that is a
// control-extension block holding a 0x8001 entry switches the session's model for the frames taken
// from then on; it is acknowledged with applied_mask 0x40. An unknown or unavailable name, or a
// body without the entry, is rejected with invalid_range; every other patch field is rejected with
// unsupported_field.
//
// Each frame runs on the version of its session's model that serves when the frame is taken from
// the session, and holds that version until its answer is written, so a hot swap never moves a
// frame between versions. Frames of an echo model without a tensor contract are answered with
// server.EchoResult.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

// ModelExtension is the control-extension type carrying a model name (UTF-8) in the SESSION_OPEN
// session extension block and in a SESSION_PATCH profile patch. It equals client.ModelExtension.
const ModelExtension uint16 = 0x8001

// maxModelName bounds the model name read from an extension.
const maxModelName = 256

// Options configure New.
type Options struct {
	// Models is the repository (required).
	Models *repo.Manager
	// DefaultModel binds sessions that name no model; "" means such sessions are rejected.
	DefaultModel string
	// Routes binds sessions by SESSION_OPEN header route_id when they name no model.
	Routes map[uint16]string
	// Staging holds batches (required).
	Staging *gpu.Staging
	// Dispatcher executes frames; nil means Direct on Staging.
	Dispatcher Dispatcher
	Logger     *slog.Logger
}

// Service serves NNRP sessions with the models of a repository.
type Service struct {
	models   *repo.Manager
	def      string
	routes   map[uint16]string
	staging  *gpu.Staging
	dispatch Dispatcher
	log      *slog.Logger
	metrics  *metrics
	wg       sync.WaitGroup
}

// New creates the service. The default model and every routed model must exist in the repository
// (serving or not yet).
func New(o Options) (*Service, error) {
	if o.Models == nil || o.Staging == nil {
		return nil, errors.New("serve: Options.Models and Options.Staging are required")
	}
	s := &Service{models: o.Models, def: o.DefaultModel, routes: o.Routes, staging: o.Staging, dispatch: o.Dispatcher,
		log: o.Logger, metrics: newMetrics(o.Staging)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.dispatch == nil {
		s.dispatch = &Direct{Staging: o.Staging}
	}
	names := map[string]bool{}
	status, _ := o.Models.Status()
	for _, st := range status {
		if st.State != repo.StateRemoved {
			names[st.Name] = true
		}
	}
	check := func(what, name string) error {
		if !names[name] {
			known := make([]string, 0, len(names))
			for n := range names {
				known = append(known, n)
			}
			sort.Strings(known)
			return fmt.Errorf("serve: %s %q is not a model of %s; models: %s", what, name, o.Models.Dir(), strings.Join(known, ", "))
		}
		return nil
	}
	if s.def != "" {
		if err := check("default model", s.def); err != nil {
			return nil, err
		}
	}
	for r, name := range s.routes {
		if err := check(fmt.Sprintf("route %d model", r), name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Collectors returns the service's metrics (frames by model and outcome, frame latency, staging
// memory), for registration.
func (s *Service) Collectors() []prometheus.Collector { return s.metrics.collectors() }

// Ready returns nil when every model of the repository has a warm version serving.
func (s *Service) Ready() error { return s.models.Ready() }

// ModelFromExtensions returns the model name of a control-extension block's ModelExtension entry;
// found is false when there is none. A malformed block, an unknown critical entry, or a name that
// is empty, too long or not UTF-8 is an error.
func ModelFromExtensions(block wire.ControlExtensions) (name string, found bool, err error) {
	if err := wire.CheckControlExtensions(block, func(t uint16) bool { return t == ModelExtension }); err != nil {
		return "", false, err
	}
	for e, err := range block.All() {
		if err != nil {
			return "", false, err
		}
		if e.Type != ModelExtension {
			continue
		}
		n := string(e.Payload)
		switch {
		case n == "" || len(n) > maxModelName:
			return "", false, fmt.Errorf("model name of %d bytes (want 1..%d)", len(n), maxModelName)
		case !utf8.ValidString(n):
			return "", false, errors.New("model name is not UTF-8")
		}
		return n, true, nil
	}
	return "", false, nil
}

// OpenSession is the server.SessionPolicy: it binds the session to its model or rejects it.
func (s *Service) OpenSession(req *server.SessionRequest) server.SessionDecision {
	reject := func(diag string) server.SessionDecision {
		s.metrics.sessions.WithLabelValues("rejected").Inc()
		return server.SessionDecision{Reject: wire.SessionProfileUnsupported, Diagnostic: diag}
	}
	name, found, err := ModelFromExtensions(req.Info.Extensions)
	if err != nil {
		return reject(fmt.Sprintf("session extension block: %v; name the model in an entry of type 0x%04x", err, ModelExtension))
	}
	if !found {
		name = s.routes[req.Info.RouteID]
		if name == "" {
			name = s.def
		}
	}
	if name == "" {
		return reject(fmt.Sprintf("no model named and this server has no default model; name one in session extension 0x%04x; available: %s",
			ModelExtension, available(s.models)))
	}
	if diag := s.admissible(name, req.Info.Profile); diag != "" {
		return reject(diag)
	}
	s.metrics.sessions.WithLabelValues("opened").Inc()
	return server.SessionDecision{Model: name}
}

// admissible says why a session of the profile cannot be bound to the model now ("" if it can).
func (s *Service) admissible(name string, profile wire.ProfileID) string {
	m, err := s.models.Acquire(name)
	if err != nil {
		return err.Error()
	}
	defer m.Release()
	if !m.ProtocolEcho() && profile != wire.ProfileTensor {
		return fmt.Sprintf("model %q takes tensor frames: open the session with the tensor profile (1), not %d", name, profile)
	}
	return ""
}

func available(m *repo.Manager) string {
	names := m.Serving()
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// PatchSession is the server.PatchPolicy: profile_patch (0x40) with a 0x8001 entry switches the
// model; every other field is rejected.
func (s *Service) PatchSession(req *server.PatchRequest) server.PatchDecision {
	mask := req.Patch.Mask
	other := mask &^ wire.PatchProfilePatch
	if mask&wire.PatchProfilePatch == 0 {
		return server.PatchDecision{Rejected: mask, Reason: wire.PatchRejectUnsupportedField}
	}
	invalid := func(why string) server.PatchDecision {
		s.log.Debug("nnrp session patch rejected", "session", req.Session.ID(), "reason", why)
		return server.PatchDecision{Rejected: mask, Reason: wire.PatchRejectInvalidRange}
	}
	name, found, err := ModelFromExtensions(wire.ControlExtensions(req.Body))
	switch {
	case err != nil:
		return invalid(err.Error())
	case !found:
		return invalid(fmt.Sprintf("the profile patch holds no 0x%04x entry", ModelExtension))
	}
	if diag := s.admissible(name, req.Session.Info().Profile); diag != "" {
		return invalid(diag)
	}
	d := server.PatchDecision{Applied: wire.PatchProfilePatch, Rejected: other, Model: name}
	if other != 0 {
		d.Reason = wire.PatchRejectUnsupportedField
	}
	s.log.Debug("nnrp session switched model", "session", req.Session.ID(), "from", req.Session.Model(), "to", name)
	return d
}

// Serve accepts the server's sessions and serves their frames until the server is closed, then
// waits for the session goroutines to end.
func (s *Service) Serve(srv *server.Server) {
	defer s.wg.Wait()
	for {
		sess, err := srv.AcceptSession(context.Background())
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveSession(sess)
		}()
	}
}

// Wait waits for the session goroutines started by Serve.
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) serveSession(sess *server.Session) {
	ctx := sess.Context()
	for {
		sub, err := sess.ReceiveSubmit(ctx)
		if err != nil {
			return
		}
		s.Handle(ctx, sess, sub)
	}
}

// Handle takes one frame of the session: it acquires the serving version of the session's model
// and answers the frame (echo, capability-mismatch drop), or plans it and hands it to the
// dispatcher.
func (s *Service) Handle(ctx context.Context, sess *server.Session, sub *server.Submit) {
	name := sub.Model()
	m, err := s.models.Acquire(name)
	if err != nil {
		s.drop(ctx, sess, sub, name, "unavailable", err.Error())
		return
	}
	if m.ProtocolEcho() {
		s.echo(ctx, sess, sub, m)
		return
	}
	// The engine may answer the frame (cancel, deadline) while its tiles are
	// being read: hold the receive buffer until they are copied.
	hold, ok := sub.Hold()
	if !ok {
		m.Release() // already answered by the engine
		s.metrics.observe(name, "late", sub.Arrived)
		return
	}
	p, err := PlanFrame(m, sub)
	if err != nil {
		hold()
		m.Release()
		s.drop(ctx, sess, sub, name, "mismatch", err.Error())
		return
	}
	f := newFrame(sess, sub, m, p, s.answered)
	f.hold = hold
	s.dispatch.Dispatch(f)
}

func (s *Service) answered(f *Frame, outcome string) {
	s.metrics.observe(f.Model.Name(), outcome, f.Submit.Arrived)
}

func (s *Service) echo(ctx context.Context, sess *server.Session, sub *server.Submit, m *repo.Model) {
	defer m.Release()
	r, err := server.EchoResult(sub)
	outcome := "complete"
	if err == nil {
		err = sess.SendResult(ctx, sub, r)
	}
	switch {
	case err == nil:
	case errors.Is(err, server.ErrNotInFlight):
		outcome = "late"
	default:
		outcome = "failed"
		_ = sess.SendResultDrop(ctx, sub, wire.DropCapabilityMismatch, "echo: "+err.Error())
	}
	sub.Release()
	s.metrics.observe(m.Name(), outcome, sub.Arrived)
}

func (s *Service) drop(ctx context.Context, sess *server.Session, sub *server.Submit, model, outcome, diag string) {
	if err := sess.SendResultDrop(ctx, sub, wire.DropCapabilityMismatch, diag); errors.Is(err, server.ErrNotInFlight) {
		outcome = "late"
	}
	sub.Release()
	s.metrics.observe(model, outcome, sub.Arrived)
}

// ---- metrics ----

type metrics struct {
	frames   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	sessions *prometheus.CounterVec
	staging  *stagingCollector
}

func newMetrics(st *gpu.Staging) *metrics {
	return &metrics{
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nnrp_model_frames_total",
			Help: "Frames answered by the model service, by model and outcome (complete, mismatch, unavailable, failed, backpressure, late, session_closed).",
		}, []string{"model", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nnrp_frame_latency_seconds",
			Help:    "Time from a frame's arrival to its answer being written, by outcome.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
		}, []string{"outcome"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nnrp_model_sessions_total",
			Help: "SESSION_OPEN decisions of the model service (opened, rejected).",
		}, []string{"decision"}),
		staging: &stagingCollector{st: st,
			bytes: prometheus.NewDesc("nnrp_staging_bytes", "Staging memory by purpose, allocator and state (reserved = in_use + idle).", []string{"purpose", "allocator", "state"}, nil),
			gets:  prometheus.NewDesc("nnrp_staging_gets_total", "Staging buffers handed out, by purpose and source (reused, allocated).", []string{"purpose", "source"}, nil),
			fails: prometheus.NewDesc("nnrp_staging_failures_total", "Staging requests refused (limit or allocator), by purpose.", []string{"purpose"}, nil),
		},
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.frames, m.latency, m.sessions, m.staging}
}

func (m *metrics) observe(model, outcome string, arrived time.Time) {
	m.frames.WithLabelValues(model, outcome).Inc()
	m.latency.WithLabelValues(outcome).Observe(time.Since(arrived).Seconds())
}

type stagingCollector struct {
	st                 *gpu.Staging
	bytes, gets, fails *prometheus.Desc
}

func (c *stagingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bytes
	ch <- c.gets
	ch <- c.fails
}

func (c *stagingCollector) Collect(ch chan<- prometheus.Metric) {
	for _, u := range c.st.Usage() {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(u.ReservedBytes), u.Purpose, u.Allocator, "reserved")
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(u.InUseBytes), u.Purpose, u.Allocator, "in_use")
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(u.IdleBytes), u.Purpose, u.Allocator, "idle")
		ch <- prometheus.MustNewConstMetric(c.gets, prometheus.CounterValue, float64(u.Gets-u.Misses), u.Purpose, "reused")
		ch <- prometheus.MustNewConstMetric(c.gets, prometheus.CounterValue, float64(u.Misses), u.Purpose, "allocated")
		ch <- prometheus.MustNewConstMetric(c.fails, prometheus.CounterValue, float64(u.Failures), u.Purpose)
	}
}
