// Package sigtest lets the tests of sigguard play the part of native code that replaces signal
// handlers, as the CUDA execution provider does.
package sigtest

/*
#include <signal.h>
#include <string.h>
#include <stdint.h>

static volatile sig_atomic_t foreign_hits;

static void foreign_handler(int sig) { (void)sig; foreign_hits++; }

// Installs a plain handler without SA_ONSTACK, as a C library would.
static int install_foreign(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = foreign_handler;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static uintptr_t handler_of(int sig) {
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0) return 0;
	return (uintptr_t)sa.sa_sigaction;
}

static int flags_of(int sig) {
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0) return -1;
	return sa.sa_flags;
}

static uintptr_t foreign_addr(void) { return (uintptr_t)foreign_handler; }

typedef struct { struct sigaction sa; } saved_action;

static int save_action(int sig, saved_action *out) { return sigaction(sig, NULL, &out->sa); }
static int restore_action(int sig, const saved_action *in) { return sigaction(sig, &in->sa, NULL); }
*/
import "C"

import (
	"fmt"
	"syscall"
)

// InstallForeign replaces the handler of sig with a C handler that lacks SA_ONSTACK.
func InstallForeign(sig syscall.Signal) error {
	if C.install_foreign(C.int(sig)) != 0 {
		return fmt.Errorf("sigtest: sigaction(%d) failed", int(sig))
	}
	return nil
}

// Handler returns the address of the current handler of sig and its sa_flags.
func Handler(sig syscall.Signal) (addr uintptr, flags int) {
	return uintptr(C.handler_of(C.int(sig))), int(C.flags_of(C.int(sig)))
}

// ForeignHandler returns the address of the handler InstallForeign installs.
func ForeignHandler() uintptr { return uintptr(C.foreign_addr()) }

// Saved is one signal's saved action.
type Saved struct {
	sig syscall.Signal
	sa  C.saved_action
}

// Save records the current action of sig.
func Save(sig syscall.Signal) (*Saved, error) {
	s := &Saved{sig: sig}
	if C.save_action(C.int(sig), &s.sa) != 0 { //nolint:gocritic // false positive on cgo-rewritten code
		return nil, fmt.Errorf("sigtest: sigaction(%d) failed", int(sig))
	}
	return s, nil
}

// Restore puts the saved action back.
func (s *Saved) Restore() error {
	if C.restore_action(C.int(s.sig), &s.sa) != 0 { //nolint:gocritic // false positive on cgo-rewritten code
		return fmt.Errorf("sigtest: sigaction(%d) failed", int(s.sig))
	}
	return nil
}
