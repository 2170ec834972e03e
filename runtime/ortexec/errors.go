package ortexec

import (
	"errors"
	"strings"
)

// Error kinds. Every error ortexec returns is an *Error whose Kind is one of these, so callers test
// with errors.Is(err, ortexec.ErrCanceled) and so on.
var (
	// ErrLibrary: the ONNX Runtime shared library could not be loaded or initialised.
	ErrLibrary = errors.New("onnxruntime library unusable")
	// ErrNotInitialized: Open was called before Init.
	ErrNotInitialized = errors.New("onnxruntime environment not initialised")
	// ErrNotFound: the model file does not exist.
	ErrNotFound = errors.New("model file not found")
	// ErrInvalidModel: the bytes are not a model ONNX Runtime can load.
	ErrInvalidModel = errors.New("invalid model")
	// ErrProviderUnavailable: the requested execution provider could not be set up.
	ErrProviderUnavailable = errors.New("execution provider unavailable")
	// ErrInvalidArgument: Run got buffers that do not fit the model.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrCanceled: the run was terminated by context cancellation or Session.Cancel.
	ErrCanceled = errors.New("run canceled")
	// ErrClosed: the session is closed.
	ErrClosed = errors.New("session closed")
	// ErrRuntime: ONNX Runtime failed while running the model.
	ErrRuntime = errors.New("onnxruntime run failed")
)

// Error is the error type of this package.
type Error struct {
	Op   string // what failed, e.g. `open "models/sr/1/model.onnx"`
	Kind error  // one of the Err* kinds above
	// ORT is ONNX Runtime's own message, verbatim, when the failure came from it.
	ORT string
	// Hint says how to fix the problem.
	Hint string
	// Err is the underlying cause, if any (e.g. context.Canceled).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ortexec: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.ORT != "" {
		b.WriteString(": ")
		b.WriteString(e.ORT)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func newError(op string, kind error, hint string, cause error) *Error {
	return &Error{Op: op, Kind: kind, Hint: hint, Err: cause}
}

// ortMessage strips the wrapping onnxruntime_go adds around ONNX Runtime's own status text.
func ortMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{
		"Error running network: ",
		"Error creating C session from file: ",
		"Error creating C session: ",
		"Platform-specific initialization failed: ",
		"Error creating ORT environment: ",
	} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// fromORT is the one place where an error returned by onnxruntime_go (an ONNX Runtime status or a
// failure of the binding itself) becomes an *Error. onnxruntime_go keeps only the status message,
// not its OrtErrorCode, so the kind is chosen from the message; fallback is the kind used when the
// message matches nothing more specific.
func fromORT(op string, err error, fallback error, hint string) *Error {
	msg := ortMessage(err)
	kind := fallback
	has := func(subs ...string) bool {
		for _, x := range subs {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("terminate flag"):
		kind, hint = ErrCanceled, ""
	case errors.Is(fallback, ErrRuntime) && has("Invalid rank", "invalid dimensions", "Invalid input", "Shape mismatch",
		"INVALID_ARGUMENT", "Unexpected input data type"):
		kind = ErrInvalidArgument
	case errors.Is(fallback, ErrLibrary):
		// Loading the runtime itself: keep ErrLibrary.
	case has("Protobuf parsing failed", "INVALID_PROTOBUF", "No Op registered", "Failed to load model", "This is an invalid model"):
		kind = ErrInvalidModel
	case has("Failed to load library", "Failed to load shared library", "execution provider is not enabled",
		"CUDA failure", "CUDA error", "cudaError"):
		kind = ErrProviderUnavailable
	}
	return &Error{Op: op, Kind: kind, ORT: msg, Hint: hint, Err: err}
}
