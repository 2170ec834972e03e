package sigguard_test

import (
	"errors"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/sigguard"
	"github.com/nnrp-gpu/nnrp-gpu/cgo/sigguard/internal/sigtest"
)

// The signals a CUDA library is known to take over, plus SIGUSR1 for the delivery check.
var guarded = []syscall.Signal{syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1}

type handler struct {
	addr  uintptr
	flags int
}

func snapshot(t *testing.T) map[syscall.Signal]handler {
	t.Helper()
	m := map[syscall.Signal]handler{}
	for _, s := range guarded {
		a, f := sigtest.Handler(s)
		if a == 0 || f < 0 {
			t.Fatalf("signal %v has no handler before the test; the Go runtime installs one for it", s)
		}
		m[s] = handler{a, f}
	}
	return m
}

// receives checks that Go's handler for SIGUSR1 works: os/signal delivers a self-sent signal.
func receives(t *testing.T) {
	t.Helper()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGUSR1 was not delivered through os/signal: Go's handler is not in place")
	}
}

func TestRunRestoresReplacedHandlers(t *testing.T) {
	before := snapshot(t)
	restored, err := sigguard.Run(func() error {
		for _, s := range guarded {
			if err := sigtest.InstallForeign(s); err != nil {
				return err
			}
		}
		// Inside the window the foreign handlers really are installed.
		for _, s := range guarded {
			if a, _ := sigtest.Handler(s); a != sigtest.ForeignHandler() {
				t.Errorf("signal %v: handler %#x, want the foreign one %#x", s, a, sigtest.ForeignHandler())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t)
	for _, s := range guarded {
		if before[s] != after[s] {
			t.Errorf("signal %v: handler %+v after Run, want Go's %+v", s, after[s], before[s])
		}
		if after[s].flags&0x08000000 == 0 { // SA_ONSTACK
			t.Errorf("signal %v: restored handler lacks SA_ONSTACK", s)
		}
		if !slices.Contains(restored, s) {
			t.Errorf("Run reported restored %v, missing %v", restored, s)
		}
	}
	if len(restored) != len(guarded) {
		t.Errorf("Run restored %v, want exactly %v (nothing else changed)", restored, guarded)
	}
	receives(t)
}

func TestRunReturnsCallbackErrorAndStillRestores(t *testing.T) {
	before := snapshot(t)
	boom := errors.New("provider setup failed")
	restored, err := sigguard.Run(func() error {
		if err := sigtest.InstallForeign(syscall.SIGINT); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run returned %v, want the callback's error", err)
	}
	if !slices.Equal(restored, []syscall.Signal{syscall.SIGINT}) {
		t.Fatalf("restored %v, want [SIGINT]", restored)
	}
	if after := snapshot(t); after[syscall.SIGINT] != before[syscall.SIGINT] {
		t.Fatalf("SIGINT handler not restored")
	}
}

func TestRunRestoresOnPanic(t *testing.T) {
	before := snapshot(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the callback's panic was swallowed")
			}
		}()
		_, _ = sigguard.Run(func() error {
			if err := sigtest.InstallForeign(syscall.SIGTERM); err != nil {
				return err
			}
			panic("native setup panicked")
		})
	}()
	if after := snapshot(t); after[syscall.SIGTERM] != before[syscall.SIGTERM] {
		t.Fatalf("SIGTERM handler not restored after a panic")
	}
}

func TestRunLeavesUnchangedHandlersAlone(t *testing.T) {
	restored, err := sigguard.Run(func() error { return nil })
	if err != nil || len(restored) != 0 {
		t.Fatalf("Run with a no-op callback: restored %v, err %v; want nothing", restored, err)
	}
}

// The control: without the guard the foreign handler stays, which is what Run prevents.
func TestForeignHandlerStaysWithoutGuard(t *testing.T) {
	saved, err := sigtest.Save(syscall.SIGUSR2)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := saved.Restore(); err != nil {
			t.Fatal(err)
		}
	}()
	if err := sigtest.InstallForeign(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	if a, _ := sigtest.Handler(syscall.SIGUSR2); a != sigtest.ForeignHandler() {
		t.Fatalf("unguarded: handler %#x, want the foreign %#x", a, sigtest.ForeignHandler())
	}
}
