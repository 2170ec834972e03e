// Package ortexec is the ONNX Runtime execution backend: it loads the ORT shared library once per
// process, opens models as Sessions that report what the model file declares (input and output
// names, element types, shapes with their symbolic dims, metadata), chooses the execution provider
// (CUDA with a recorded fallback to the CPU), and runs one batch per call on caller-owned buffers.
// It does no scheduling; the batching scheduler drives it.
//
// # Execution providers
//
// ProviderAuto (the default) tries CUDA and falls back to the CPU; ProviderCPU never tries CUDA;
// ProviderCUDA fails Open with ErrProviderUnavailable when CUDA cannot be set up, unless
// Options.CUDAFallback is set. After a fallback, Session.FallbackReason holds ONNX Runtime's error
// text verbatim (for example "… Failed to load library libonnxruntime_providers_shared.so with
// error: … cannot open shared object file: No such file or directory" when the provider libraries
// are not next to ORT_LIB). CUDA set-up runs inside cgo/sigguard so that the CUDA libraries cannot
// leave their signal handlers in place of Go's.
//
// # Runs
//
// Session.Run is one ORT Run per batch on Buffers the caller owns (the staging memory): ORT reads
// the inputs and writes the preallocated outputs in place, and ORT-allocated outputs are never
// used. Tensor wrappers are cached per buffer and shape. Cancelling ctx, Session.Cancel and
// Session.Close terminate runs in flight with ORT's terminate flag; the run returns ErrCanceled.
//
// Allocations per Run (pinned by TestRunAllocs, reported by BenchmarkTileBatch): none in ortexec
// itself for tensor inputs and outputs whose wrappers are cached. onnxruntime_go v1.35.0 allocates
// on every call its two OrtValue pointer arrays and one small struct per input and output (4 for
// the one-input, one-output SR model), and context.AfterFunc adds 2 when ctx can be cancelled.
// Rank-0 (scalar) inputs and outputs go through a per-run ORT scalar and one copied value.
//
// # Errors
//
// Every error is an *Error with a Kind (ErrCanceled, ErrInvalidArgument, ErrInvalidModel,
// ErrNotFound, ErrProviderUnavailable, ErrLibrary, ErrClosed, ErrNotInitialized, ErrRuntime) for
// errors.Is, ONNX Runtime's own message when it came from ORT, and a hint saying how to fix it.
package ortexec
