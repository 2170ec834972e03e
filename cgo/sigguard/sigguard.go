// Package sigguard protects the Go runtime's signal handlers from native code that replaces them.
//
// The CUDA execution provider of ONNX Runtime (and the CUDA libraries it loads) install their own
// handlers for signals such as SIGSEGV and SIGINT while a CUDA session is created. Go needs its own
// handlers (installed with SA_ONSTACK|SA_SIGINFO) for panics on faults, for os/signal and for
// preemption; with a foreign handler in place a signal crashes the process (onnxruntime_go issue
// #140). Run saves the disposition of every signal, calls fn and puts back every disposition fn
// changed.
package sigguard

/*
#include <signal.h>
#include <string.h>
#include <errno.h>

#define SIGGUARD_NSIG 65 // signals 1..64 on Linux

typedef struct {
	struct sigaction act[SIGGUARD_NSIG];
	unsigned char saved[SIGGUARD_NSIG];
} sigguard_state;

// Saves the action of every signal that sigaction can report. Returns how many were saved.
static int sigguard_save(sigguard_state *st) {
	int n = 0;
	for (int sig = 1; sig < SIGGUARD_NSIG; sig++) {
		st->saved[sig] = 0;
		if (sig == SIGKILL || sig == SIGSTOP) continue; // cannot be caught or changed
		memset(&st->act[sig], 0, sizeof st->act[sig]);
		if (sigaction(sig, NULL, &st->act[sig]) == 0) {
			st->saved[sig] = 1;
			n++;
		}
	}
	return n;
}

// Compares handler, flags and the mask of signals 1..64. The mask is compared with sigismember, not
// memcmp: glibc copies the kernel's 64-bit mask into a 1024-bit sigset_t and leaves (or fills) the
// rest with whatever was on its stack.
static int sigguard_same(const struct sigaction *a, const struct sigaction *b) {
	if (a->sa_sigaction != b->sa_sigaction || a->sa_flags != b->sa_flags) return 0;
	for (int sig = 1; sig < SIGGUARD_NSIG; sig++) {
		if (sigismember(&a->sa_mask, sig) != sigismember(&b->sa_mask, sig)) return 0;
	}
	return 1;
}

// Restores every saved action that changed since sigguard_save. Bit sig-1 of *restored is set for
// each restored signal. Returns 0, or the errno of the first sigaction that failed (and its signal
// in *failed_sig).
static int sigguard_restore(const sigguard_state *st, unsigned long long *restored, int *failed_sig) {
	*restored = 0;
	*failed_sig = 0;
	int rc = 0;
	for (int sig = 1; sig < SIGGUARD_NSIG; sig++) {
		if (!st->saved[sig]) continue;
		struct sigaction now;
		memset(&now, 0, sizeof now);
		if (sigaction(sig, NULL, &now) != 0) continue;
		if (sigguard_same(&now, &st->act[sig])) continue;
		if (sigaction(sig, &st->act[sig], NULL) != 0) {
			if (rc == 0) { rc = errno; *failed_sig = sig; }
			continue;
		}
		*restored |= 1ULL << (sig - 1);
	}
	return rc;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"syscall"
)

// mu serialises Run: two overlapping save/restore windows would restore each other's changes.
var mu sync.Mutex

// Run saves the action of every signal (1–64), calls fn, and then restores every action that
// changed while fn ran, even if fn panics. It returns the signals it restored (in increasing
// order) and fn's error, or an error naming a signal it could not restore.
//
// Runs are serialised. Do not call signal.Notify or signal.Ignore concurrently with Run: a change
// they make during fn is reverted too.
func Run(fn func() error) (restored []syscall.Signal, err error) {
	mu.Lock()
	defer mu.Unlock()
	var st C.sigguard_state
	if C.sigguard_save(&st) == 0 { //nolint:gocritic // false positive on cgo-rewritten code
		return nil, fmt.Errorf("sigguard: sigaction could not read any signal disposition; refusing to run native code unguarded")
	}
	defer func() {
		var mask C.ulonglong
		var failed C.int
		rc := C.sigguard_restore(&st, &mask, &failed) //nolint:gocritic // false positive on cgo-rewritten code
		for sig := 1; sig < 65; sig++ {
			if uint64(mask)&(1<<(sig-1)) != 0 {
				restored = append(restored, syscall.Signal(sig))
			}
		}
		if rc != 0 && err == nil {
			err = fmt.Errorf("sigguard: restoring the handler of signal %d failed: %w; the Go runtime may crash on that signal", int(failed), syscall.Errno(rc))
		}
	}()
	return nil, fn()
}
