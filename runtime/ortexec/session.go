package ortexec

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
)

// Provider names an execution provider.
type Provider string

const (
	// ProviderAuto tries CUDA and falls back to the CPU when CUDA cannot be set up.
	ProviderAuto Provider = "auto"
	// ProviderCPU uses the CPU only.
	ProviderCPU Provider = "cpu"
	// ProviderCUDA requires CUDA: Open fails with ErrProviderUnavailable when it cannot be set up,
	// unless Options.CUDAFallback is set.
	ProviderCUDA Provider = "cuda"
)

// DefaultTensorCache is the number of ORT tensor wrappers a session keeps for buffers that come
// back (see Session.Run). A scheduler with double-buffered staging for a few batch sizes needs
// a few dozen at most.
const DefaultTensorCache = 64

// Options configure Open.
type Options struct {
	// Provider selects the execution provider; "" means ProviderAuto.
	Provider Provider
	// DeviceID is the CUDA device ordinal.
	DeviceID int
	// CUDAFallback makes ProviderCUDA fall back to the CPU like ProviderAuto instead of failing.
	// An operator who wrote "cuda" normally wants a loud failure: a CPU session silently serving a
	// GPU deployment misses every latency budget.
	CUDAFallback bool
	// CUDAOptions are extra CUDA provider options (ORT's key/value names, e.g.
	// "cudnn_conv_algo_search": "HEURISTIC"); "device_id" is set from DeviceID.
	CUDAOptions map[string]string
	// IntraOpThreads and InterOpThreads size ORT's thread pools; 0 keeps ORT's default.
	IntraOpThreads int
	InterOpThreads int
	// TensorCache is how many tensor wrappers to keep for reuse; 0 means DefaultTensorCache and a
	// negative value disables the cache.
	TensorCache int
	// Logger receives the CUDA fallback warning and leak reports; nil means slog.Default().
	Logger *slog.Logger
}

// Stats are cumulative counters of a session.
type Stats struct {
	Runs           uint64 // Run calls that reached ONNX Runtime
	Canceled       uint64 // runs that ended with ErrCanceled
	TensorsCreated uint64 // ORT tensor wrappers created for caller buffers
	TensorHits     uint64 // buffers served by a cached wrapper
}

// Session is one loaded model. Run may be called from several goroutines at once. Close releases
// it; a session that is garbage collected without Close is reported through the logger.
type Session struct {
	name     string
	runOp    string // "run <name>", the Op of run errors (built once: Run allocates nothing itself)
	info     *ModelInfo
	sess     *ort.DynamicAdvancedSession
	provider Provider
	fallback string
	logger   *slog.Logger
	groups   [][]dimRef // dims sharing a dim_param, checked equal on every Run

	mu       sync.Mutex
	idle     *sync.Cond // signalled when inflight drops to 0
	closed   bool
	inflight int
	free     []*runSlot
	slots    []*runSlot // every slot ever made, for Cancel and Close
	cache    tensorCache

	runs, canceled atomic.Uint64
	leak           *leakGuard
}

type leakGuard struct {
	closed atomic.Bool
	name   string
	logger *slog.Logger
}

// Open loads the model file at path.
func Open(path string, opts Options) (*Session, error) {
	op := fmt.Sprintf("open %q", path)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, newError(op, ErrNotFound, "check the models directory (nnrp-gpu models build writes the shipped ones)", err)
	}
	if err != nil {
		return nil, newError(op, ErrInvalidModel, "the model file must be readable", err)
	}
	return open(op, path, path, data, opts)
}

// OpenBytes loads a model from memory; name identifies it in errors and logs.
func OpenBytes(name string, model []byte, opts Options) (*Session, error) {
	return open(fmt.Sprintf("open %q", name), name, "", model, opts)
}

func open(op, name, path string, data []byte, opts Options) (*Session, error) {
	if !Initialized() {
		return nil, newError(op, ErrNotInitialized, "call ortexec.Init (ORT_LIB) once at start-up", nil)
	}
	if len(data) == 0 {
		return nil, newError(op, ErrInvalidModel, "the model file is empty", nil)
	}
	info, err := ReadModelInfo(data)
	if err != nil {
		return nil, newError(op, ErrInvalidModel, "the file must be a serialized ONNX ModelProto", err)
	}
	switch opts.Provider {
	case "":
		opts.Provider = ProviderAuto
	case ProviderAuto, ProviderCPU, ProviderCUDA:
	default:
		return nil, newError(op, ErrInvalidArgument, `use "auto", "cpu" or "cuda"`, fmt.Errorf("unknown provider %q", opts.Provider))
	}
	if opts.IntraOpThreads < 0 || opts.InterOpThreads < 0 || opts.DeviceID < 0 {
		return nil, newError(op, ErrInvalidArgument, "thread counts and the device id must be ≥ 0", nil)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	inNames := make([]string, len(info.Inputs))
	for i, v := range info.Inputs {
		inNames[i] = v.Name
	}
	outNames := make([]string, len(info.Outputs))
	for i, v := range info.Outputs {
		outNames[i] = v.Name
	}
	create := func(so *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
		if path != "" {
			return ort.NewDynamicAdvancedSession(path, inNames, outNames, so)
		}
		return ort.NewDynamicAdvancedSessionWithONNXData(data, inNames, outNames, so)
	}

	s := &Session{name: name, runOp: "run " + name, info: info, logger: logger, groups: dimGroups(info)}
	s.idle = sync.NewCond(&s.mu)
	s.cache.init(opts.TensorCache)

	if opts.Provider != ProviderCPU {
		sess, cudaErr := openCUDA(op, opts, logger, create)
		if cudaErr == nil {
			s.sess, s.provider = sess, ProviderCUDA
		} else if errors.Is(cudaErr, ErrInvalidModel) || (opts.Provider == ProviderCUDA && !opts.CUDAFallback) {
			// A model ORT rejects fails on the CPU just the same: report it, not a fallback.
			return nil, cudaErr
		} else {
			s.fallback = cudaErr.ORT
			if s.fallback == "" {
				s.fallback = cudaErr.Error()
			}
			logger.Warn("ortexec: CUDA execution provider unavailable, using the CPU", "model", name, "reason", s.fallback)
		}
	}
	if s.sess == nil {
		so, soErr := sessionOptions(op, opts)
		if soErr != nil {
			return nil, soErr
		}
		sess, err := create(so)
		_ = so.Destroy()
		if err != nil {
			return nil, fromORT(op, err, ErrInvalidModel, "ONNX Runtime could not load the model; check it with its producer")
		}
		s.sess, s.provider = sess, ProviderCPU
	}
	s.leak = &leakGuard{name: name, logger: logger}
	runtime.AddCleanup(s, func(g *leakGuard) {
		if !g.closed.Load() {
			g.logger.Error("ortexec: Session was garbage collected without Close; its native memory leaked", "model", g.name)
		}
	}, s.leak)
	return s, nil
}

func sessionOptions(op string, opts Options) (*ort.SessionOptions, *Error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fromORT(op, err, ErrLibrary, "")
	}
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			_ = so.Destroy()
			return nil, fromORT(op, err, ErrInvalidArgument, "IntraOpThreads")
		}
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			_ = so.Destroy()
			return nil, fromORT(op, err, ErrInvalidArgument, "InterOpThreads")
		}
	}
	return so, nil
}

// openCUDA creates a session with the CUDA execution provider. Everything that can load CUDA
// libraries or initialise the device runs inside gpu.GuardSignals (cgo/sigguard), which puts Go's signal handlers back
// afterwards. The returned error carries ORT's exact text in its ORT field.
func openCUDA(op string, opts Options, logger *slog.Logger, create func(*ort.SessionOptions) (*ort.DynamicAdvancedSession, error)) (*ort.DynamicAdvancedSession, *Error) {
	const hint = "the CUDA provider needs libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so (ORT 1.29.0, CUDA 13) next to ORT_LIB, the CUDA 13 runtime, cuDNN 9 and a GPU; or use provider auto/cpu"
	var sess *ort.DynamicAdvancedSession
	var failure *Error
	restored, guardErr := gpu.GuardSignals(func() error {
		so, soErr := sessionOptions(op, opts)
		if soErr != nil {
			failure = soErr
			return nil
		}
		defer func() { _ = so.Destroy() }()
		cuda, err := ort.NewCUDAProviderOptions()
		if err != nil {
			failure = fromORT(op+": create CUDA provider options", err, ErrProviderUnavailable, hint)
			return nil
		}
		defer func() { _ = cuda.Destroy() }()
		kv := maps.Clone(opts.CUDAOptions)
		if kv == nil {
			kv = map[string]string{}
		}
		kv["device_id"] = strconv.Itoa(opts.DeviceID)
		if err := cuda.Update(kv); err != nil {
			failure = fromORT(op+": configure CUDA provider", err, ErrProviderUnavailable, hint)
			return nil
		}
		if err := so.AppendExecutionProviderCUDA(cuda); err != nil {
			failure = fromORT(op+": append CUDA provider", err, ErrProviderUnavailable, hint)
			return nil
		}
		sess, err = create(so)
		if err != nil {
			failure = fromORT(op+": create CUDA session", err, ErrProviderUnavailable, hint)
		}
		return nil
	})
	if guardErr != nil {
		if sess != nil {
			_ = sess.Destroy()
		}
		return nil, newError(op, ErrProviderUnavailable, "Go's signal handlers could not be restored after CUDA set-up", guardErr)
	}
	if len(restored) > 0 {
		logger.Info("ortexec: restored Go signal handlers replaced during CUDA set-up", "signals", signalNames(restored))
	}
	if failure != nil {
		return nil, failure
	}
	return sess, nil
}

func signalNames(sigs []syscall.Signal) []string {
	out := make([]string, len(sigs))
	for i, s := range sigs {
		out[i] = s.String()
	}
	return out
}

// Name returns the name the session was opened with (the path for Open).
func (s *Session) Name() string { return s.name }

// Provider returns the execution provider the session runs on: ProviderCUDA or ProviderCPU.
func (s *Session) Provider() Provider { return s.provider }

// FallbackReason is ONNX Runtime's error text from the failed CUDA set-up when the session fell
// back to the CPU, and "" otherwise.
func (s *Session) FallbackReason() string { return s.fallback }

// Inputs returns the model's inputs as the file declares them, in the order Run takes buffers.
func (s *Session) Inputs() []ValueInfo { return cloneInfos(s.info.Inputs) }

// Outputs returns the model's outputs as the file declares them, in the order Run takes buffers.
func (s *Session) Outputs() []ValueInfo { return cloneInfos(s.info.Outputs) }

// Metadata returns the model's metadata_props.
func (s *Session) Metadata() map[string]string { return maps.Clone(s.info.Metadata) }

func cloneInfos(v []ValueInfo) []ValueInfo {
	out := make([]ValueInfo, len(v))
	for i, x := range v {
		out[i] = x
		if x.Shape != nil { // keep nil (no declared shape) distinct from empty (rank 0)
			out[i].Shape = append(make([]Dim, 0, len(x.Shape)), x.Shape...)
		}
	}
	return out
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	created, hits := s.cache.created, s.cache.hits
	s.mu.Unlock()
	return Stats{Runs: s.runs.Load(), Canceled: s.canceled.Load(), TensorsCreated: created, TensorHits: hits}
}

// Cancel terminates every Run in flight when it is called; each returns ErrCanceled. Runs that
// start later are not affected.
func (s *Session) Cancel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.slots {
		sl.terminate()
	}
}

// ForgetBuffers drops the cached tensor wrappers of buffers that no Run is using. Call it before
// freeing staging memory that the session has seen, if that memory will not come back.
func (s *Session) ForgetBuffers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache.purge()
}

// Close cancels the runs in flight, waits for them to return, and frees the session, its cached
// tensors and run options. It returns ErrClosed when called again.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return newError(fmt.Sprintf("close %q", s.name), ErrClosed, "Close was already called", nil)
	}
	s.closed = true
	for _, sl := range s.slots {
		sl.terminate()
	}
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.cache.purge()
	for _, sl := range s.slots {
		_ = sl.ro.Destroy()
	}
	s.slots, s.free = nil, nil
	s.mu.Unlock()
	s.leak.closed.Store(true)
	if err := s.sess.Destroy(); err != nil {
		return fromORT(fmt.Sprintf("close %q", s.name), err, ErrRuntime, "")
	}
	return nil
}
