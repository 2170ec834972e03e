package repo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// Model is one loaded and warmed-up version of a model. Manager.Acquire hands it out with a
// reference; the holder may call Run and read its contract until it calls Release. A version that
// was swapped out or removed is closed once its last reference is released ("drained").
type Model struct {
	name      string
	version   int
	cfg       *Config
	cfgFile   string
	modelFile string // "" for echo
	id        string // content identity: hashes of config.yaml and the model file
	spec      backend.Spec
	info      backend.Info
	declared  *ortexec.ModelInfo // nil for echo
	loadTime  time.Duration      // reading, checking and opening the sessions
	warmTime  time.Duration
	loadedAt  time.Time

	free chan backend.Backend // idle instances
	all  []backend.Backend
	obs  []atomic.Pointer[prometheus.Observer] // inference seconds by batch size (index N), made on first use
	hist *prometheus.HistogramVec

	mu      sync.Mutex
	refs    int
	retired bool
	drained chan struct{} // closed when retired and refs == 0
	closed  bool
}

// Name returns the model's name (its directory).
func (m *Model) Name() string { return m.name }

// Version returns the version number (0 for an echo model without version folders).
func (m *Model) Version() int { return m.version }

// Config returns the validated config. It must not be modified.
func (m *Model) Config() *Config { return m.cfg }

// Spec returns the backend contract.
func (m *Model) Spec() backend.Spec { return m.spec }

// Info returns the backend's provider information.
func (m *Model) Info() backend.Info { return m.info }

// ProtocolEcho reports whether the model is an echo without a tensor contract: every frame comes
// back unchanged (server.EchoResult), whatever it carries.
func (m *Model) ProtocolEcho() bool { return len(m.all) == 0 }

// Run executes one batch on a free instance of the model, waiting for one if all are busy. It is
// only valid between Acquire and Release.
func (m *Model) Run(ctx context.Context, b *backend.Batch) error {
	if len(m.all) == 0 {
		return fmt.Errorf("%w: %s is a protocol echo without a tensor contract", backend.ErrBatch, m.name)
	}
	var be backend.Backend
	select {
	case be = <-m.free:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	start := time.Now()
	err := be.Run(ctx, b)
	m.observe(b.N, time.Since(start))
	m.free <- be
	return err
}

func (m *Model) observe(n int, d time.Duration) {
	if m.hist == nil {
		return
	}
	if n < 1 || n >= len(m.obs) {
		m.hist.WithLabelValues(m.name, strconv.Itoa(n)).Observe(d.Seconds())
		return
	}
	o := m.obs[n].Load()
	if o == nil { // first batch of this size; a concurrent first one stores the same series
		h := m.hist.WithLabelValues(m.name, strconv.Itoa(n))
		o = &h
		m.obs[n].Store(o)
	}
	(*o).Observe(d.Seconds())
}

// retain adds a reference. The manager calls it under its read lock, so a retired model is never
// retained.
func (m *Model) retain() {
	m.mu.Lock()
	m.refs++
	m.mu.Unlock()
}

// InFlight returns the number of references held.
func (m *Model) InFlight() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refs
}

// Release drops the reference taken by Manager.Acquire.
func (m *Model) Release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs == 0 {
		return // more Releases than Acquires: a caller bug, but the model's state stays sane
	}
	m.refs--
	if m.refs == 0 && m.retired {
		close(m.drained)
	}
}

// retire marks the model as no longer serving and returns a channel closed once it is drained.
func (m *Model) retire() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.retired {
		m.retired = true
		if m.refs == 0 {
			close(m.drained)
		}
	}
	return m.drained
}

func (m *Model) modelFileOrConfig() string {
	if m.modelFile != "" {
		return m.modelFile
	}
	return m.cfgFile
}

// Closed reports whether the model's backends were closed.
func (m *Model) Closed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// close closes every instance. Runs still in flight (only after a forced close) are cancelled.
func (m *Model) close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	var errs []error
	for _, be := range m.all {
		if err := be.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
