package repo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
)

// Timing defaults of the manager.
const (
	// DefaultRescan is the period of the safety-net rescan (missed or coalesced file events,
	// network file systems without inotify).
	DefaultRescan = 10 * time.Second
	// DefaultSettle is how long a model directory must stay unchanged before a change is loaded:
	// a copy in progress is not loaded half-written.
	DefaultSettle = 500 * time.Millisecond
	// maxFailures is how many failed attempts are remembered per model.
	maxFailures = 8
)

// Options configure Open.
type Options struct {
	// Dir is the repository directory.
	Dir string
	// Logger receives load, swap, drain and failure reports; nil means slog.Default().
	Logger *slog.Logger
	// Metrics, when set, are updated (register them once with Metrics.Collectors).
	Metrics *Metrics
	// Staging provides the warm-up buffers; nil means private pools.
	Staging *gpu.Staging
	// NoWatch disables the file watcher (fsnotify); the periodic rescan still runs.
	NoWatch bool
	// Rescan is the period of the safety-net rescan; 0 means DefaultRescan, negative disables it.
	Rescan time.Duration
	// Settle is how long a changed model directory must stay unchanged before it is loaded; 0
	// means DefaultSettle.
	Settle time.Duration
}

// State is a model's state in Status.
type State string

// Model states.
const (
	StateServing     State = "serving"     // a version is serving
	StateLoading     State = "loading"     // no version serving yet, one is being loaded
	StateUnavailable State = "unavailable" // present, but no version could be loaded
	StateRemoved     State = "removed"     // the directory is gone; versions drain
)

// Manager serves a model repository: it loads the newest loadable version of every model, watches
// the directory, and swaps versions in atomically (see the package documentation). Its methods are
// safe for concurrent use; Acquire and Check take a read lock only.
type Manager struct {
	dir      string
	log      *slog.Logger
	metrics  *Metrics
	ld       loader
	ownPools bool
	settle   time.Duration
	rescan   time.Duration

	mu      sync.RWMutex
	models  map[string]*entry
	strays  Problems      // entries of the repository directory that are not models
	changed chan struct{} // closed and replaced on every change
	closed  bool

	kick    chan struct{}
	stop    chan struct{} // closed by Close when draining takes too long
	cancel  context.CancelFunc
	loopWG  sync.WaitGroup // the watch loop
	drainWG sync.WaitGroup // goroutines closing retired versions
	watcher *fsnotify.Watcher
	watched map[string]bool // owned by the loop
}

// entry is the manager's record of one model directory. Guarded by Manager.mu, except the fields
// marked loop-owned.
type entry struct {
	name     string
	path     string
	serving  *Model
	draining []*Model
	present  bool
	loading  int   // version being loaded, 0 none
	versions []int // version folders on disk
	failures []Failure
	problem  error    // why the newest version is not serving (nil when it is)
	dirProbs Problems // stray folders inside the model directory
	warnings []string

	stableFP, pendingFP string // loop-owned: last fingerprint acted on / seen once
}

// Failure is one failed load attempt.
type Failure struct {
	Version int
	Err     error
	At      time.Time
	id      string
}

// Open scans dir, loads the newest loadable version of every model, and starts watching the
// directory. It returns an error only when dir cannot be read; models that fail to load are
// reported by Status, Ready, the log and the metrics. ctx bounds the initial loads.
func Open(ctx context.Context, o Options) (*Manager, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{dir: o.Dir, log: log, metrics: o.Metrics, settle: o.Settle, rescan: o.Rescan,
		models: map[string]*entry{}, changed: make(chan struct{}), kick: make(chan struct{}, 1), stop: make(chan struct{}), watched: map[string]bool{}}
	if m.settle <= 0 {
		m.settle = DefaultSettle
	}
	if m.rescan == 0 {
		m.rescan = DefaultRescan
	}
	st := o.Staging
	if st == nil {
		st = gpu.NewStaging(gpu.StagingOptions{MaxIdleBytes: -1})
		m.ownPools = true
	}
	m.ld = loader{log: log, staging: st, metrics: o.Metrics}
	scan, err := ScanDir(o.Dir)
	if err != nil {
		m.closePools()
		return nil, err
	}
	m.apply(ctx, scan, true)
	if !o.NoWatch {
		if w, err := fsnotify.NewWatcher(); err != nil {
			log.Warn("model repository: file watcher unavailable; relying on the periodic rescan", "dir", o.Dir, "err", err)
		} else {
			m.watcher = w
			m.updateWatches(scan)
		}
	}
	lctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.loopWG.Add(1)
	go m.loop(lctx)
	return m, nil
}

func (m *Manager) closePools() {
	if m.ownPools {
		_ = m.ld.staging.Close()
	}
}

// Dir returns the repository directory.
func (m *Manager) Dir() string { return m.dir }

// Acquire returns the serving version of the named model with a reference the caller must
// Release. Errors: ErrUnknownModel (with the available names), ErrUnavailable (with the reason),
// ErrClosed.
func (m *Manager) Acquire(name string) (*Model, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, err := m.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	e.serving.retain()
	return e.serving, nil
}

// Check reports whether Acquire(name) would succeed now, with the same errors.
func (m *Manager) Check(name string) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, err := m.lookupLocked(name)
	return err
}

func (m *Manager) lookupLocked(name string) (*entry, error) {
	if m.closed {
		return nil, &LookupError{Kind: ErrClosed, Model: name}
	}
	e := m.models[name]
	switch {
	case e == nil:
		return nil, &LookupError{Kind: ErrUnknownModel, Model: name, Available: m.servingLocked()}
	case !e.present:
		return nil, &LookupError{Kind: ErrUnavailable, Model: name, Reason: "it was removed from the repository", Available: m.servingLocked()}
	case e.serving == nil:
		why := "no version is loaded yet"
		if e.problem != nil {
			why = "no version serves: " + firstLine(e.problem.Error())
		}
		return nil, &LookupError{Kind: ErrUnavailable, Model: name, Reason: why, Available: m.servingLocked()}
	}
	return e, nil
}

// LookupError is the error of Acquire and Check. Its text is a diagnostic for clients:
// `unknown model "x"; available: a, b`.
type LookupError struct {
	Kind      error // ErrUnknownModel, ErrUnavailable or ErrClosed
	Model     string
	Reason    string
	Available []string
}

func (e *LookupError) Error() string {
	avail := "none"
	if len(e.Available) > 0 {
		avail = strings.Join(e.Available, ", ")
	}
	switch {
	case errors.Is(e.Kind, ErrUnknownModel):
		return fmt.Sprintf("unknown model %q; available: %s", e.Model, avail)
	case errors.Is(e.Kind, ErrUnavailable):
		return fmt.Sprintf("model %q is unavailable: %s; available: %s", e.Model, e.Reason, avail)
	}
	return fmt.Sprintf("model %q: the model repository is closed", e.Model)
}

// Unwrap returns the kind.
func (e *LookupError) Unwrap() error { return e.Kind }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (…)"
	}
	return s
}

func (m *Manager) servingLocked() []string {
	var names []string
	for n, e := range m.models {
		if e.present && e.serving != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Serving returns the names of the models with a version serving, sorted.
func (m *Manager) Serving() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.servingLocked()
}

// Ready returns nil when every model of the repository has a warm version serving, else an error
// naming those that do not.
func (m *Manager) Ready() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	var not []string
	for _, n := range m.sortedLocked() {
		e := m.models[n]
		if !e.present || e.serving != nil {
			continue
		}
		why := "loading"
		if e.problem != nil {
			why = firstLine(e.problem.Error())
		}
		not = append(not, fmt.Sprintf("%s (%s)", n, why))
	}
	if len(not) > 0 {
		return fmt.Errorf("%w: models not serving: %s", ErrUnavailable, strings.Join(not, "; "))
	}
	return nil
}

func (m *Manager) sortedLocked() []string {
	names := make([]string, 0, len(m.models))
	for n := range m.models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Changed returns a channel that is closed at the next change of any model's state.
func (m *Manager) Changed() <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.changed
}

func (m *Manager) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Rescan asks the watch loop to rescan the directory now (changes still wait for Settle).
func (m *Manager) Rescan() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Close stops watching, retires every version and waits until they are drained and closed or ctx
// ends; versions still referenced then are closed anyway (their runs are cancelled). Close the
// users of the models (the service) first.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.closed = true
	m.notifyLocked()
	m.mu.Unlock()
	m.cancel()
	m.loopWG.Wait()
	if m.watcher != nil {
		_ = m.watcher.Close()
	}
	m.mu.Lock()
	var serving []*entry
	for _, e := range m.models {
		if e.serving != nil {
			serving = append(serving, e)
		}
	}
	m.mu.Unlock()
	for _, e := range serving {
		m.unserve(e, "the server is shutting down")
	}
	done := make(chan struct{})
	go func() {
		m.drainWG.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("repo: closing with model versions still in use: %w", context.Cause(ctx))
		close(m.stop) // close them anyway
		<-done
	}
	m.closePools()
	return err
}

// ---- the watch loop ----

func (m *Manager) loop(ctx context.Context) {
	defer m.loopWG.Done()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if m.watcher != nil {
		events, errs = m.watcher.Events, m.watcher.Errors
	}
	var tick <-chan time.Time
	if m.rescan > 0 {
		t := time.NewTicker(m.rescan)
		defer t.Stop()
		tick = t.C
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	pending := false
	schedule := func() {
		if !pending {
			pending = true
			settle.Reset(m.settle)
		}
	}
	run := func() {
		pending = false
		scan, err := ScanDir(m.dir)
		if err != nil {
			m.log.Error("model repository: cannot read the directory; models keep serving", "dir", m.dir, "err", err)
			return
		}
		if m.apply(ctx, scan, false) {
			schedule()
		}
		m.updateWatches(scan)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			schedule()
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			m.log.Warn("model repository: file watcher error; rescanning", "err", err)
			schedule()
		case <-settle.C:
			run()
		case <-tick:
			run()
		case <-m.kick:
			run()
		}
	}
}

// updateWatches watches the repository, every model directory and every version folder.
func (m *Manager) updateWatches(scan *Scan) {
	if m.watcher == nil {
		return
	}
	want := map[string]bool{scan.Dir: true}
	for _, md := range scan.Models {
		want[md.Path] = true
		for _, v := range md.Versions {
			want[v.Path] = true
		}
	}
	for p := range m.watched {
		if !want[p] {
			_ = m.watcher.Remove(p) // gone directories drop their watch themselves
			delete(m.watched, p)
		}
	}
	for p := range want {
		if m.watched[p] {
			continue
		}
		if err := m.watcher.Add(p); err != nil {
			m.log.Warn("model repository: cannot watch a directory; the periodic rescan covers it", "dir", p, "err", err)
			continue
		}
		m.watched[p] = true
	}
}

// apply brings the served models in line with a scan. Outside the initial load, a model directory
// that changed is acted on only once two scans at least Settle apart agree (a copy in progress is
// not loaded half-written); apply reports whether such a follow-up scan is needed.
func (m *Manager) apply(ctx context.Context, scan *Scan, initial bool) (again bool) {
	m.mu.Lock()
	m.strays = scan.Problems
	m.mu.Unlock()
	seen := map[string]bool{}
	for i := range scan.Models {
		md := &scan.Models[i]
		seen[md.Name] = true
		e := m.entryFor(md)
		fp := md.Fingerprint()
		if fp == e.stableFP {
			continue
		}
		if !initial && fp != e.pendingFP {
			e.pendingFP = fp
			again = true
			continue
		}
		e.stableFP, e.pendingFP = fp, ""
		m.reconcile(ctx, e, md)
	}
	m.mu.Lock()
	var gone []*entry
	for name, e := range m.models {
		if !seen[name] && e.present {
			gone = append(gone, e)
		}
	}
	m.mu.Unlock()
	for _, e := range gone {
		m.remove(e, "the directory was removed")
	}
	m.checkDegraded()
	return again
}

func (m *Manager) entryFor(md *ModelDir) *entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.models[md.Name]
	if e == nil {
		e = &entry{name: md.Name, loading: -1}
		m.models[md.Name] = e
		m.notifyLocked()
	}
	e.path, e.present, e.dirProbs = md.Path, true, md.Problems
	e.versions = e.versions[:0]
	for _, v := range md.Versions {
		e.versions = append(e.versions, v.Version)
	}
	if e.stableFP == "" && e.serving == nil && m.metrics != nil {
		m.metrics.Ready.WithLabelValues(md.Name).Set(0)
	}
	return e
}

// reconcile loads what the model directory now asks for: the newest version whose (config, model)
// content has not already failed, never going below the serving version while that one's folder is
// still present. A failure leaves the serving version in place.
func (m *Manager) reconcile(ctx context.Context, e *entry, md *ModelDir) {
	cfg, cfgData, err := readConfig(md)
	if err != nil {
		id := ""
		if cfgData != nil {
			id = hashOf(cfgData)
		}
		m.fail(e, newestVersion(md), id, err)
		return
	}
	versions := slices.Clone(md.Versions)
	if cfg.Backend == backend.KindEcho && len(versions) == 0 {
		versions = []VersionDir{{Version: 0, Path: md.Path}} // an echo needs no model file
	}
	if len(versions) == 0 {
		m.fail(e, 0, "", &Problem{File: md.Path, Msg: "has no version folder",
			Fix: fmt.Sprintf("add a folder named 1 holding %s", cfg.File)})
		m.unserve(e, "it has no version folder left")
		return
	}
	m.mu.RLock()
	serving := e.serving
	m.mu.RUnlock()
	var lastErr error
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if serving != nil && v.Version < serving.version {
			if _, still := md.Version(serving.version); still || serving.version == 0 {
				break // never downgrade while the serving version is there
			}
		}
		c, err := readCandidate(md.Name, cfg, md.ConfigPath, cfgData, v)
		if err != nil {
			lastErr = err
			m.fail(e, v.Version, "", err)
			continue
		}
		if serving != nil && serving.id == c.id {
			break // already serving exactly this
		}
		if f, failed := e.failedBefore(c.id); failed {
			lastErr = f.Err
			continue
		}
		m.setLoading(e, v.Version)
		mod, err := m.ld.load(ctx, c)
		m.setLoading(e, -1)
		if err != nil {
			lastErr = err
			m.fail(e, v.Version, c.id, err)
			continue
		}
		m.install(e, mod)
		return
	}
	m.mu.Lock()
	e.problem = lastErr
	m.notifyLocked()
	m.mu.Unlock()
}

func newestVersion(md *ModelDir) int {
	if n := len(md.Versions); n > 0 {
		return md.Versions[n-1].Version
	}
	return 0
}

func (e *entry) failedBefore(id string) (Failure, bool) {
	for _, f := range e.failures {
		if f.id != "" && f.id == id {
			return f, true
		}
	}
	return Failure{}, false
}

func (m *Manager) setLoading(e *entry, v int) {
	m.mu.Lock()
	e.loading = v
	m.notifyLocked()
	m.mu.Unlock()
}

// fail records a failed attempt; the serving version (if any) stays.
func (m *Manager) fail(e *entry, version int, id string, err error) {
	m.mu.Lock()
	e.failures = append(e.failures, Failure{Version: version, Err: err, At: time.Now(), id: id})
	if len(e.failures) > maxFailures {
		e.failures = e.failures[len(e.failures)-maxFailures:]
	}
	if m.metrics != nil {
		m.metrics.LoadFailures.WithLabelValues(e.name, strconv.Itoa(version)).Inc()
	}
	e.problem = err
	serving := e.serving
	m.notifyLocked()
	m.mu.Unlock()
	args := []any{"model", e.name, "version", version, "err", err}
	if serving != nil {
		args = append(args, "serving_version", serving.version)
		m.log.Error("model repository: version not loaded; the serving version stays", args...)
	} else {
		m.log.Error("model repository: version not loaded; the model is not serving", args...)
	}
}

// install puts mod into service and retires the version it replaces.
func (m *Manager) install(e *entry, mod *Model) {
	if m.metrics != nil { // before the swap is visible, so that observers of Changed see them
		m.metrics.LoadSeconds.WithLabelValues(mod.name).Observe(mod.loadTime.Seconds())
		m.metrics.WarmupSeconds.WithLabelValues(mod.name).Observe(mod.warmTime.Seconds())
		m.metrics.Swaps.WithLabelValues(mod.name).Inc()
		m.metrics.Ready.WithLabelValues(mod.name).Set(1)
		m.metrics.setVersion(mod, "serving")
	}
	m.mu.Lock()
	old := e.serving
	e.serving, e.problem = mod, nil
	if old != nil {
		e.draining = append(e.draining, old)
	}
	m.notifyLocked()
	m.mu.Unlock()
	args := []any{"model", mod.name, "version", mod.version, "backend", mod.info.Kind, "provider", mod.info.Provider,
		"load", mod.loadTime.Round(time.Microsecond), "warmup", mod.warmTime.Round(time.Microsecond)}
	if mod.info.FallbackReason != "" {
		args = append(args, "cuda_fallback", mod.info.FallbackReason)
	}
	if old != nil {
		args = append(args, "replaces", old.version)
	}
	m.log.Info("model repository: version serving", args...)
	if old != nil {
		m.retire(e, old)
	}
}

// retire drains a version that no longer serves and closes it, in the background.
func (m *Manager) retire(e *entry, old *Model) {
	if m.metrics != nil {
		m.metrics.setVersion(old, "draining")
	}
	drained := old.retire()
	m.drainWG.Add(1)
	go func() {
		defer m.drainWG.Done()
		select {
		case <-drained:
		case <-m.stop:
			m.log.Warn("model repository: closing a version still in use", "model", old.name, "version", old.version, "in_flight", old.InFlight())
		}
		if err := old.close(); err != nil {
			m.log.Warn("model repository: closing a drained version failed", "model", old.name, "version", old.version, "err", err)
		}
		if m.metrics != nil {
			m.metrics.setVersion(old, "")
		}
		m.mu.Lock()
		if i := slices.Index(e.draining, old); i >= 0 {
			e.draining = slices.Delete(e.draining, i, i+1)
		}
		m.notifyLocked()
		m.mu.Unlock()
		m.log.Info("model repository: version drained and closed", "model", old.name, "version", old.version)
	}()
}

// unserve stops serving a model whose directory remains (it lost its last version folder).
func (m *Manager) unserve(e *entry, why string) {
	m.mu.Lock()
	old := e.serving
	e.serving = nil
	if old != nil {
		e.draining = append(e.draining, old)
	}
	m.notifyLocked()
	m.mu.Unlock()
	if old != nil {
		if m.metrics != nil {
			m.metrics.Ready.WithLabelValues(e.name).Set(0)
		}
		m.log.Info("model repository: version retired; its sessions' new frames are dropped", "model", e.name, "version", old.version, "reason", why)
		m.retire(e, old)
	}
}

// remove handles a model directory that disappeared: no new sessions, frames in flight finish on
// the serving version, which is then closed.
func (m *Manager) remove(e *entry, why string) {
	m.mu.Lock()
	e.present = false
	e.stableFP, e.pendingFP = "", ""
	m.mu.Unlock()
	m.unserve(e, why)
	if m.metrics != nil {
		m.metrics.Ready.DeleteLabelValues(e.name)
	}
	m.log.Info("model repository: model removed", "model", e.name)
}

// checkDegraded records, for each serving model with a degraded variant, whether the variant is
// serving with the same I/O contract.
func (m *Manager) checkDegraded() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.sortedLocked() {
		e := m.models[n]
		var warn []string
		if e.serving != nil && e.serving.cfg.Degraded != "" {
			d := e.serving.cfg.Degraded
			t := m.models[d]
			switch {
			case t == nil || !t.present:
				warn = append(warn, fmt.Sprintf("degraded variant %q is not in the repository", d))
			case t.serving == nil:
				warn = append(warn, fmt.Sprintf("degraded variant %q is not serving", d))
			default:
				if why := contractDiff(e.serving.cfg, t.serving.cfg); why != "" {
					warn = append(warn, fmt.Sprintf("degraded variant %q has another I/O contract: %s", d, why))
				}
			}
		}
		if !slices.Equal(warn, e.warnings) {
			for _, w := range warn {
				m.log.Warn("model repository: "+w, "model", n)
			}
			e.warnings = warn
			m.notifyLocked()
		}
	}
}

// contractDiff says how b's I/O contract differs from a's ("" when b can stand in for a): the
// same roles and channels, every tile size of a, the same scale and halo.
func contractDiff(a, b *Config) string {
	sig := func(ts []TensorMap) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = fmt.Sprintf("role %d × %d channels", t.Role, t.Channels)
		}
		sort.Strings(s)
		return strings.Join(s, ", ")
	}
	switch {
	case !b.Tensors():
		return "it declares no tensor contract"
	case sig(a.Inputs) != sig(b.Inputs):
		return fmt.Sprintf("inputs are %s, want %s", sig(b.Inputs), sig(a.Inputs))
	case sig(a.Outputs) != sig(b.Outputs):
		return fmt.Sprintf("outputs are %s, want %s", sig(b.Outputs), sig(a.Outputs))
	case a.Scale != b.Scale:
		return fmt.Sprintf("scale %d, want %d", b.Scale, a.Scale)
	case a.Halo != b.Halo:
		return fmt.Sprintf("halo %d, want %d", b.Halo, a.Halo)
	}
	for _, t := range a.TileSizes {
		if !b.AcceptsTile(t.W, t.H) {
			return fmt.Sprintf("tile size %s is not accepted", t)
		}
	}
	return ""
}

// ---- status ----

// ModelStatus is a model's state for operators (models list, /readyz details).
type ModelStatus struct {
	Name     string
	Path     string
	State    State
	Versions []int // version folders on disk
	Serving  *VersionStatus
	Draining []VersionStatus
	Loading  int // version being loaded, −1 when none
	// Problem is why the newest version is not serving ("" when it is).
	Problem  string
	Failures []FailureStatus
	Warnings []string
}

// VersionStatus describes a loaded version.
type VersionStatus struct {
	Version        int
	Backend        string
	Provider       string
	FallbackReason string
	Inputs         []string // "role 1 → input [N,3,H,W] float32"
	Outputs        []string
	TileSizes      string
	Scale, Halo    int
	Degraded       string
	Instances      int
	LoadSeconds    float64
	WarmupSeconds  float64
	LoadedAt       time.Time
	InFlight       int
}

// FailureStatus is a failed load attempt.
type FailureStatus struct {
	Version int
	Error   string
	At      time.Time
}

// Status returns every model's state, sorted by name, and the repository-level problems (stray
// entries).
func (m *Manager) Status() ([]ModelStatus, Problems) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []ModelStatus
	for _, n := range m.sortedLocked() {
		e := m.models[n]
		s := ModelStatus{Name: n, Path: e.path, Versions: slices.Clone(e.versions), Loading: e.loading, Warnings: slices.Clone(e.warnings)}
		switch {
		case !e.present:
			s.State = StateRemoved
			s.Versions = nil
		case e.serving != nil:
			s.State = StateServing
		case e.loading >= 0 || (e.problem == nil && len(e.failures) == 0):
			s.State = StateLoading
		default:
			s.State = StateUnavailable
		}
		if e.serving != nil {
			vs := versionStatus(e.serving)
			s.Serving = &vs
		}
		for _, d := range e.draining {
			s.Draining = append(s.Draining, versionStatus(d))
		}
		if e.problem != nil {
			s.Problem = e.problem.Error()
		}
		for _, f := range e.failures {
			s.Failures = append(s.Failures, FailureStatus{Version: f.Version, Error: f.Err.Error(), At: f.At})
		}
		for _, p := range e.dirProbs {
			s.Warnings = append(s.Warnings, p.Error())
		}
		out = append(out, s)
	}
	return out, slices.Clone(m.strays)
}

func versionStatus(mod *Model) VersionStatus {
	c := mod.cfg
	v := VersionStatus{Version: mod.version, Backend: mod.info.Kind, Provider: mod.info.Provider,
		FallbackReason: mod.info.FallbackReason, TileSizes: c.TileList(), Scale: c.Scale, Halo: c.Halo,
		Degraded: c.Degraded, Instances: len(mod.all), LoadSeconds: mod.loadTime.Seconds(),
		WarmupSeconds: mod.warmTime.Seconds(), LoadedAt: mod.loadedAt, InFlight: mod.InFlight()}
	desc := func(maps []TensorMap, declared func(string) string) []string {
		out := make([]string, len(maps))
		for i, t := range maps {
			out[i] = fmt.Sprintf("role %d → %s", t.Role, declared(t.Name))
		}
		return out
	}
	lookup := func(out bool) func(string) string {
		return func(name string) string {
			if mod.declared != nil {
				vs := mod.declared.Inputs
				if out {
					vs = mod.declared.Outputs
				}
				for _, vi := range vs {
					if vi.Name == name {
						return describe(vi)
					}
				}
			}
			return name
		}
	}
	v.Inputs = desc(c.Inputs, lookup(false))
	v.Outputs = desc(c.Outputs, lookup(true))
	return v
}
