package ortexec

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
)

// Buffer is a caller-owned float32 tensor: Shape, row-major, and at least prod(Shape) elements of
// Data (the first prod(Shape) are used). A rank-0 (scalar) Buffer has an empty Shape and uses
// Data[0].
//
// Ownership: the caller keeps the memory. During Run ONNX Runtime reads the input buffers and
// writes the output buffers in place (no copy on the Go side). After Run returns the session may
// keep a tensor wrapper that points at the memory (see Session.Run); the memory is not touched
// again until it is passed to Run again. Go-allocated buffers stay pinned, and therefore alive,
// while a wrapper for them is cached; call Session.ForgetBuffers to release them.
type Buffer struct {
	Shape []int64
	Data  []float32
}

// errCancelCalled is the cause of ErrCanceled when Session.Cancel or Close terminated the run.
var errCancelCalled = errors.New("canceled by Session.Cancel or Close")

// Run runs the model once on the caller's buffers, in the order of Inputs() and Outputs(): one call
// into ONNX Runtime, which reads the inputs and writes the outputs where they are. Outputs must be
// preallocated with the exact shapes the model produces; ORT never allocates them.
//
// Each distinct buffer (data pointer, element count and shape) gets an ORT tensor wrapper the
// first time it is seen; the wrapper is kept (up to Options.TensorCache of them, least recently
// used evicted) and reused when the same buffer and shape come back, as staging buffers do.
//
// Run blocks until ONNX Runtime returns. When ctx is cancelled, or Cancel or Close is called, the
// run is terminated through ORT's run-option terminate flag (checked between graph nodes) and Run
// returns an error matching ErrCanceled that also wraps context.Cause(ctx). Buffers that do not fit
// the model's declared inputs and outputs give ErrInvalidArgument without calling ORT.
func (s *Session) Run(ctx context.Context, inputs, outputs []Buffer) error {
	if err := ctx.Err(); err != nil {
		s.canceled.Add(1)
		return &Error{Op: s.runOp, Kind: ErrCanceled, Err: context.Cause(ctx)}
	}
	if err := s.validate(inputs, outputs); err != nil {
		return err
	}
	sl, err := s.begin(inputs, outputs)
	if err != nil {
		return err
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, sl.terminateFn)
	}
	s.runs.Add(1)
	runErr := s.sess.RunWithOptions(sl.ins, sl.outs, sl.ro)
	if stop != nil {
		stop()
	}
	sl.mu.Lock()
	sl.active = false
	terminated := sl.terminated
	var unsetErr error
	if terminated {
		sl.terminated = false
		unsetErr = sl.ro.UnsetTerminate()
	}
	sl.mu.Unlock()
	if runErr == nil {
		sl.copyScalarOutputs(outputs)
	}
	s.end(sl, unsetErr)
	if runErr == nil {
		return nil
	}
	if terminated || ctx.Err() != nil {
		s.canceled.Add(1)
		cause := errCancelCalled
		if ctx.Err() != nil {
			cause = context.Cause(ctx)
		}
		return &Error{Op: s.runOp, Kind: ErrCanceled, ORT: ortMessage(runErr), Err: cause}
	}
	return fromORT(s.runOp, runErr, ErrRuntime,
		"check the buffer shapes against Session.Inputs and Session.Outputs: outputs must have the exact shape the model produces")
}

// Warmup is Run for the first inference of a session. On a CUDA session it runs inside the signal
// guard, because the CUDA libraries may finish initialising (and replace signal handlers) on the
// first run.
func (s *Session) Warmup(ctx context.Context, inputs, outputs []Buffer) error {
	if s.provider != ProviderCUDA {
		return s.Run(ctx, inputs, outputs)
	}
	var runErr error
	_, guardErr := gpu.GuardSignals(func() error {
		runErr = s.Run(ctx, inputs, outputs)
		return nil
	})
	if runErr != nil {
		return runErr
	}
	if guardErr != nil {
		return newError("warm-up "+s.name, ErrRuntime, "Go's signal handlers could not be restored", guardErr)
	}
	return nil
}

// runSlot holds what one in-flight Run needs; slots are reused so Run allocates nothing itself.
type runSlot struct {
	ro          *ort.RunOptions
	terminateFn func() // sl.terminate, bound once

	mu         sync.Mutex // guards active and terminated
	active     bool       // ORT is running with ro
	terminated bool       // ro's terminate flag is set

	ins, outs   []ort.Value
	inT, outT   []*cachedTensor
	scalarOuts  []*ort.Scalar[float32]
	scalarValue []ort.Value // scalars to destroy after the run
}

// terminate sets the terminate flag if the slot's run is in flight.
func (sl *runSlot) terminate() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.active && !sl.terminated {
		if err := sl.ro.Terminate(); err == nil {
			sl.terminated = true
		}
	}
}

func (sl *runSlot) copyScalarOutputs(outputs []Buffer) {
	for i, sc := range sl.scalarOuts {
		if sc != nil {
			outputs[i].Data[0] = sc.GetData()
		}
	}
}

// begin takes a slot and binds the buffers to ORT values.
func (s *Session) begin(inputs, outputs []Buffer) (*runSlot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, newError(s.runOp, ErrClosed, "open the model again", nil)
	}
	var sl *runSlot
	if n := len(s.free); n > 0 {
		sl, s.free = s.free[n-1], s.free[:n-1]
	} else {
		ro, err := ort.NewRunOptions()
		if err != nil {
			return nil, fromORT(s.runOp, err, ErrRuntime, "")
		}
		sl = &runSlot{
			ro:         ro,
			ins:        make([]ort.Value, len(s.info.Inputs)),
			outs:       make([]ort.Value, len(s.info.Outputs)),
			inT:        make([]*cachedTensor, len(s.info.Inputs)),
			outT:       make([]*cachedTensor, len(s.info.Outputs)),
			scalarOuts: make([]*ort.Scalar[float32], len(s.info.Outputs)),
		}
		sl.terminateFn = sl.terminate
		s.slots = append(s.slots, sl)
	}
	bind := func(b Buffer, vals []ort.Value, held []*cachedTensor, i int, output bool) error {
		if len(b.Shape) == 0 {
			sc, err := ort.NewScalar(b.Data[0])
			if err != nil {
				return err
			}
			vals[i] = sc
			sl.scalarValue = append(sl.scalarValue, sc)
			if output {
				sl.scalarOuts[i] = sc
			}
			return nil
		}
		ct, err := s.cache.acquire(b)
		if err != nil {
			return err
		}
		held[i], vals[i] = ct, ct.t
		return nil
	}
	var err error
	for i, b := range inputs {
		if err = bind(b, sl.ins, sl.inT, i, false); err != nil {
			break
		}
	}
	for i, b := range outputs {
		if err != nil {
			break
		}
		err = bind(b, sl.outs, sl.outT, i, true)
	}
	if err != nil {
		s.releaseLocked(sl)
		return nil, fromORT(s.runOp, err, ErrInvalidArgument, "the buffer could not be wrapped as an ORT tensor")
	}
	s.inflight++
	// Active from here on, under s.mu: a Cancel or Close that runs before ORT starts still sets
	// the terminate flag, and ORT checks it before the first node.
	sl.mu.Lock()
	sl.active = true
	sl.mu.Unlock()
	return sl, nil
}

func (s *Session) end(sl *runSlot, unsetErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if unsetErr != nil {
		// The slot's terminate flag is stuck: drop the slot rather than fail later runs.
		s.logger.Warn("ortexec: could not clear a run's terminate flag; discarding its run options", "model", s.name, "err", unsetErr)
		s.releaseTensors(sl)
		for i, x := range s.slots {
			if x == sl {
				s.slots = append(s.slots[:i], s.slots[i+1:]...)
				break
			}
		}
		_ = sl.ro.Destroy()
	} else {
		s.releaseLocked(sl)
	}
	if s.inflight == 0 {
		s.idle.Broadcast()
	}
}

func (s *Session) releaseTensors(sl *runSlot) {
	for i, ct := range sl.inT {
		if ct != nil {
			s.cache.release(ct)
			sl.inT[i] = nil
		}
		sl.ins[i] = nil
	}
	for i, ct := range sl.outT {
		if ct != nil {
			s.cache.release(ct)
			sl.outT[i] = nil
		}
		sl.outs[i] = nil
		sl.scalarOuts[i] = nil
	}
	for i, v := range sl.scalarValue {
		_ = v.Destroy()
		sl.scalarValue[i] = nil
	}
	sl.scalarValue = sl.scalarValue[:0]
}

func (s *Session) releaseLocked(sl *runSlot) {
	s.releaseTensors(sl)
	s.free = append(s.free, sl)
}

// ---- validation ----

// dimRef points at dimension d of input (out == false) or output io.
type dimRef struct {
	out   bool
	io, d int
}

// dimGroups lists, per dim_param used more than once, where it occurs.
func dimGroups(info *ModelInfo) [][]dimRef {
	at := map[string][]dimRef{}
	var order []string
	add := func(vs []ValueInfo, out bool) {
		for i, v := range vs {
			for d, dim := range v.Shape {
				if dim.Param == "" {
					continue
				}
				if _, ok := at[dim.Param]; !ok {
					order = append(order, dim.Param)
				}
				at[dim.Param] = append(at[dim.Param], dimRef{out, i, d})
			}
		}
	}
	add(info.Inputs, false)
	add(info.Outputs, true)
	var groups [][]dimRef
	for _, p := range order {
		if len(at[p]) > 1 {
			groups = append(groups, at[p])
		}
	}
	return groups
}

func (s *Session) validate(inputs, outputs []Buffer) error {
	op := s.runOp
	if len(s.info.Inputs) == 0 {
		return newError(op, ErrInvalidArgument, "ortexec runs only models with at least one input (onnxruntime_go panics on zero-input runs)",
			errors.New("the model declares no inputs"))
	}
	if len(inputs) != len(s.info.Inputs) || len(outputs) != len(s.info.Outputs) {
		return newError(op, ErrInvalidArgument, "pass one buffer per model input and output, in the order of Session.Inputs and Session.Outputs",
			fmt.Errorf("got %d input and %d output buffers, the model has %d inputs and %d outputs", len(inputs), len(outputs), len(s.info.Inputs), len(s.info.Outputs)))
	}
	for i := range inputs {
		if err := checkBuffer(op, "input", s.info.Inputs[i], inputs[i]); err != nil {
			return err
		}
	}
	for i := range outputs {
		if err := checkBuffer(op, "output", s.info.Outputs[i], outputs[i]); err != nil {
			return err
		}
	}
	for _, g := range s.groups {
		first := g[0]
		want := dimOf(inputs, outputs, first)
		for _, r := range g[1:] {
			if got := dimOf(inputs, outputs, r); got != want {
				return newError(op, ErrInvalidArgument, "dimensions that share a dim_param must be equal",
					fmt.Errorf("%s dimension %d is %d but %s dimension %d is %d (both %q)",
						s.ioName(first), first.d, want, s.ioName(r), r.d, got, s.paramOf(r)))
			}
		}
	}
	return nil
}

func dimOf(inputs, outputs []Buffer, r dimRef) int64 {
	if r.out {
		return outputs[r.io].Shape[r.d]
	}
	return inputs[r.io].Shape[r.d]
}

func (s *Session) ioName(r dimRef) string {
	if r.out {
		return fmt.Sprintf("output %q", s.info.Outputs[r.io].Name)
	}
	return fmt.Sprintf("input %q", s.info.Inputs[r.io].Name)
}

func (s *Session) paramOf(r dimRef) string {
	if r.out {
		return s.info.Outputs[r.io].Shape[r.d].Param
	}
	return s.info.Inputs[r.io].Shape[r.d].Param
}

func checkBuffer(op, kind string, vi ValueInfo, b Buffer) error {
	bad := func(format string, args ...any) error {
		return newError(op, ErrInvalidArgument, fmt.Sprintf("the model declares %s %s", kind, vi),
			fmt.Errorf("%s %q: "+format, append([]any{kind, vi.Name}, args...)...))
	}
	if !vi.Tensor {
		return bad("is not a tensor; ortexec runs tensor inputs and outputs only")
	}
	if vi.Elem != ElemFloat32 {
		return bad("has element type %s; Run takes float32 buffers only", vi.Elem)
	}
	if vi.Shape != nil && len(b.Shape) != len(vi.Shape) {
		return bad("buffer has rank %d (shape %v), want rank %d", len(b.Shape), b.Shape, len(vi.Shape))
	}
	n := int64(1)
	for d, v := range b.Shape {
		if v <= 0 {
			return bad("buffer shape %v has dimension %d = %d; every dimension must be ≥ 1", b.Shape, d, v)
		}
		if vi.Shape != nil && vi.Shape[d].Fixed() && vi.Shape[d].Value != v {
			return bad("buffer shape %v has dimension %d = %d, the model fixes it to %d", b.Shape, d, v, vi.Shape[d].Value)
		}
		if n > (1<<62)/v {
			return bad("buffer shape %v overflows", b.Shape)
		}
		n *= v
	}
	if int64(len(b.Data)) < n {
		return bad("buffer shape %v needs %d elements, Data has %d", b.Shape, n, len(b.Data))
	}
	return nil
}

// ---- tensor cache ----

const maxCachedRank = 8

type tensorKey struct {
	ptr  uintptr
	n    int
	rank int
	dims [maxCachedRank]int64
}

type cachedTensor struct {
	key    tensorKey
	t      *ort.Tensor[float32]
	pin    runtime.Pinner
	refs   int
	used   uint64
	cached bool // false: made for one run only, destroyed on release
}

// tensorCache maps caller buffers to ORT tensor wrappers. It is guarded by Session.mu.
type tensorCache struct {
	capacity int
	m        map[tensorKey]*cachedTensor
	clock    uint64
	created  uint64
	hits     uint64
}

func (c *tensorCache) init(capacity int) {
	switch {
	case capacity == 0:
		capacity = DefaultTensorCache
	case capacity < 0:
		capacity = 0
	}
	c.capacity = capacity
	c.m = make(map[tensorKey]*cachedTensor, capacity)
}

func keyOf(b Buffer) (tensorKey, bool) {
	if len(b.Shape) > maxCachedRank {
		return tensorKey{}, false
	}
	k := tensorKey{ptr: uintptr(unsafe.Pointer(unsafe.SliceData(b.Data))), rank: len(b.Shape)}
	n := 1
	for i, d := range b.Shape {
		k.dims[i] = d
		n *= int(d)
	}
	k.n = n
	return k, true
}

func (c *tensorCache) acquire(b Buffer) (*cachedTensor, error) {
	c.clock++
	key, cacheable := keyOf(b)
	cacheable = cacheable && c.capacity > 0
	if cacheable {
		if ct, ok := c.m[key]; ok {
			ct.refs++
			ct.used = c.clock
			c.hits++
			return ct, nil
		}
		if len(c.m) >= c.capacity {
			c.evictOne()
		}
		cacheable = len(c.m) < c.capacity
	}
	ct := &cachedTensor{key: key, refs: 1, used: c.clock, cached: cacheable}
	// The wrapper keeps the data pointer inside ORT after this call returns: pin Go memory so that
	// keeping it is legal under the cgo rules (Pin does nothing for C memory).
	ct.pin.Pin(unsafe.SliceData(b.Data))
	t, err := ort.NewTensor(ort.Shape(b.Shape), b.Data)
	if err != nil {
		ct.pin.Unpin()
		return nil, err
	}
	ct.t = t
	c.created++
	if cacheable {
		c.m[key] = ct
	}
	return ct, nil
}

func (c *tensorCache) evictOne() {
	var victim *cachedTensor
	for _, ct := range c.m {
		if ct.refs == 0 && (victim == nil || ct.used < victim.used) {
			victim = ct
		}
	}
	if victim != nil {
		delete(c.m, victim.key)
		victim.destroy()
	}
}

func (c *tensorCache) release(ct *cachedTensor) {
	ct.refs--
	if !ct.cached && ct.refs == 0 {
		ct.destroy()
	}
}

// purge destroys every wrapper no run holds.
func (c *tensorCache) purge() {
	for k, ct := range c.m {
		if ct.refs == 0 {
			delete(c.m, k)
			ct.destroy()
		}
	}
}

func (ct *cachedTensor) destroy() {
	_ = ct.t.Destroy()
	ct.pin.Unpin()
}
