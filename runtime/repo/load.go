package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend/onnxrt"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// loader reads, checks, opens and warms up model versions.
type loader struct {
	log     *slog.Logger
	staging *gpu.Staging
	metrics *Metrics
}

// candidate is one version of a model to load, with the bytes it is loaded from.
type candidate struct {
	name      string
	version   int
	cfg       *Config
	cfgFile   string
	modelFile string // "" for echo
	modelData []byte
	id        string
}

func hashOf(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		s := sha256.Sum256(p)
		h.Write(s[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readCandidate reads version v of the model for loading with cfg (whose bytes are cfgData).
func readCandidate(name string, cfg *Config, cfgFile string, cfgData []byte, v VersionDir) (*candidate, error) {
	c := &candidate{name: name, version: v.Version, cfg: cfg, cfgFile: cfgFile}
	version := []byte(strconv.Itoa(v.Version))
	if cfg.Backend != backend.KindONNXRuntime {
		c.id = hashOf(version, cfgData)
		return c, nil
	}
	c.modelFile = filepath.Join(v.Path, cfg.File)
	data, err := os.ReadFile(c.modelFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, &Problem{File: c.modelFile, Msg: "does not exist",
			Fix: fmt.Sprintf("put the model in the version folder as %s (or set `file:` in %s)", cfg.File, cfgFile)}
	case err != nil:
		return c, &Problem{File: c.modelFile, Msg: "cannot be read: " + errText(err), Fix: "check its permissions"}
	case len(data) == 0:
		return c, &Problem{File: c.modelFile, Msg: "is empty", Fix: "copy the whole model file (install versions by renaming a finished hidden folder)"}
	}
	c.modelData = data
	c.id = hashOf(version, cfgData, data)
	return c, nil
}

// load opens the instances of a candidate and warms each of them up. The returned model holds no
// reference; the caller installs it.
func (l *loader) load(ctx context.Context, c *candidate) (*Model, error) {
	start := time.Now()
	cfg := c.cfg
	m := &Model{name: c.name, version: c.version, cfg: cfg, cfgFile: c.cfgFile, modelFile: c.modelFile, id: c.id,
		spec: cfg.Spec(), drained: make(chan struct{}), info: backend.Info{Kind: cfg.Backend, Provider: "go"}}
	if l.metrics != nil {
		m.hist = l.metrics.InferenceSeconds
		m.obs = make([]atomic.Pointer[prometheus.Observer], cfg.Batching.MaxBatchTiles+1)
	}
	switch {
	case cfg.Backend == backend.KindEcho && !cfg.Tensors():
		// A protocol echo: no backend instance.
	case cfg.Backend == backend.KindEcho:
		e, err := backend.NewEcho(m.spec)
		if err != nil {
			return nil, &Problem{File: c.cfgFile, Msg: err.Error(), Fix: "make outputs mirror inputs"}
		}
		m.all = []backend.Backend{e}
	default:
		info, err := ortexec.ReadModelInfo(c.modelData)
		if err != nil {
			return nil, &Problem{File: c.modelFile, Msg: "is not an ONNX model: " + err.Error(),
				Fix: "copy a complete .onnx file (a half-copied file is retried when it changes)"}
		}
		m.declared = info
		if probs := CheckModel(cfg, c.cfgFile, c.modelFile, info); len(probs) > 0 {
			return nil, probs
		}
		for range cfg.Instances {
			be, err := onnxrt.Open(c.modelFile, c.modelData, m.spec, onnxrt.Options{
				Provider: ortexec.Provider(cfg.Execution.Provider), DeviceID: cfg.Execution.Device,
				IntraOpThreads: cfg.Execution.IntraOpThreads, Logger: l.log.With("model", c.name, "version", c.version),
			})
			if err != nil {
				_ = m.close()
				return nil, &LoadError{File: c.modelFile, Err: err}
			}
			m.all = append(m.all, be)
		}
		m.info = m.all[0].Info()
	}
	m.loadTime = time.Since(start)
	warmStart := time.Now()
	for _, be := range m.all {
		if err := l.warm(ctx, m, be); err != nil {
			_ = m.close()
			return nil, &LoadError{File: m.modelFileOrConfig(), Err: err}
		}
	}
	m.warmTime = time.Since(warmStart)
	m.free = make(chan backend.Backend, len(m.all))
	for _, be := range m.all {
		m.free <- be
	}
	m.loadedAt = time.Now()
	return m, nil
}

// warm runs every configured batch size for every tile size on one instance with a fixed input
// pattern, and checks that the outputs are finite.
func (l *loader) warm(ctx context.Context, m *Model, be backend.Backend) error {
	cfg := m.cfg
	for _, t := range cfg.TileSizes {
		for _, n := range cfg.Warmup.BatchSizes {
			if err := l.warmOne(ctx, m, be, t, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *loader) warmOne(ctx context.Context, m *Model, be backend.Backend, t TileSize, n int) (err error) {
	spec := &m.spec
	b := &backend.Batch{N: n, TileH: t.H, TileW: t.W}
	var held []*gpu.Buffer
	defer func() {
		for _, h := range held {
			h.Release()
		}
	}()
	get := func(p *gpu.Pool, floats int) ([]float32, error) {
		buf, err := p.Get(4 * floats)
		if err != nil {
			return nil, err
		}
		held = append(held, buf)
		return buf.Float32s(), nil
	}
	for i := range spec.Inputs {
		in, err := get(l.staging.Input, n*spec.InputSlot(i, t.H, t.W))
		if err != nil {
			return err
		}
		for k := range in {
			in[k] = float32((k*7919)%256) / 255 // a fixed, varied pattern in [0,1]
		}
		b.Inputs = append(b.Inputs, in)
	}
	for j := range spec.Outputs {
		out, err := get(l.staging.Output, n*spec.OutputSlot(j, t.H, t.W))
		if err != nil {
			return err
		}
		b.Outputs = append(b.Outputs, out)
	}
	if w, ok := be.(backend.Warmer); ok {
		err = w.Warmup(ctx, b)
	} else {
		err = be.Run(ctx, b)
	}
	shape := func() string {
		var s string
		for _, x := range spec.Inputs {
			s += fmt.Sprintf("%s [%d,%d,%d,%d] ", x.Name, n, x.Channels, t.H+2*spec.Halo, t.W+2*spec.Halo)
		}
		s += "→"
		for _, x := range spec.Outputs {
			s += fmt.Sprintf(" %s [%d,%d,%d,%d]", x.Name, n, x.Channels, spec.Scale*t.H, spec.Scale*t.W)
		}
		return s
	}
	if err != nil {
		return fmt.Errorf("warm-up with %d %s tiles (%s): %w; check scale and halo in %s against what the model computes",
			n, t, shape(), err, m.cfgFile)
	}
	for j, out := range b.Outputs {
		for k, v := range out {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("warm-up with %d %s tiles (%s): output %q value %d is %v; the model produces non-finite values",
					n, t, shape(), spec.Outputs[j].Name, k, v)
			}
		}
	}
	return nil
}
