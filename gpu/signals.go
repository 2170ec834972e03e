package gpu

import (
	"syscall"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/sigguard"
)

// GuardSignals runs fn — typically the creation of a CUDA execution
// provider or the first inference on it — and afterwards puts back every
// signal handler fn replaced: the CUDA runtime installs its own handlers,
// which would break Go's (dependencies.md §3). It returns the signals whose
// handlers had to be restored and fn's error. The runtime layer reaches the
// cgo shim only through this package (ARCHITECTURE.md layer rules).
func GuardSignals(fn func() error) (restored []syscall.Signal, err error) {
	return sigguard.Run(fn)
}
