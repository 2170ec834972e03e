package nnrpffitest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
)

// recorder is a testing.TB whose Skip and Fatal are recorded instead of
// acting on the real test; like the real ones they end the calling goroutine.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func run(t *testing.T, which nnrpffi.Transport) (*recorder, *nnrpffi.Lib) {
	r := &recorder{TB: t}
	var lib *nnrpffi.Lib
	done := make(chan struct{})
	go func() {
		defer close(done)
		lib = RequireLib(r, which)
	}()
	<-done
	return r, lib
}

func TestRequireLibWithoutLibrary(t *testing.T) {
	notALib := filepath.Join(t.TempDir(), "libnnrp_ffi.so")
	if err := os.WriteFile(notALib, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, ci string
		skip, fail     bool
	}{
		{name: "unset", path: "", ci: "", skip: true},
		{name: "unset under CI", path: "", ci: "true", fail: true},
		{name: "missing file", path: "/nonexistent/libnnrp_ffi.so", ci: "false", skip: true},
		{name: "missing file under CI", path: "/nonexistent/libnnrp_ffi.so", ci: "true", fail: true},
		{name: "broken library", path: notALib, ci: "", fail: true},
		{name: "broken library under CI", path: notALib, ci: "true", fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(EnvVar(nnrpffi.TransportQUIC), tc.path)
			r, lib := run(t, nnrpffi.TransportQUIC)
			if r.skipped != tc.skip || r.failed != tc.fail || lib != nil {
				t.Errorf("skipped=%v failed=%v lib=%v (%s), want skipped=%v failed=%v", r.skipped, r.failed, lib, r.msg, tc.skip, tc.fail)
			}
		})
	}
}

func TestRequireLibWrongArtifact(t *testing.T) {
	tcp := RequireLib(t, nnrpffi.TransportTCP) // skips without the library
	t.Setenv(EnvVar(nnrpffi.TransportQUIC), tcp.Path())
	r, lib := run(t, nnrpffi.TransportQUIC)
	if !r.failed || lib != nil {
		t.Errorf("the tcp artifact under %s: failed=%v skipped=%v (%s)", EnvVar(nnrpffi.TransportQUIC), r.failed, r.skipped, r.msg)
	}
}

func TestEnvVar(t *testing.T) {
	if EnvVar(nnrpffi.TransportTCP) != "NNRP_FFI_TCP_LIB" || EnvVar(nnrpffi.TransportQUIC) != "NNRP_FFI_QUIC_LIB" {
		t.Error(EnvVar(nnrpffi.TransportTCP), EnvVar(nnrpffi.TransportQUIC))
	}
}

func TestEchoStats(t *testing.T) {
	var st EchoStats
	if st.Percentile(50) != 0 || st.FramesPerSecond() != 0 {
		t.Error("empty stats")
	}
	for i := 1; i <= 100; i++ {
		st.Latencies = append(st.Latencies, time.Duration(i)*time.Millisecond)
	}
	st.Frames, st.Elapsed = 100, 2*time.Second
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond, 0.5: time.Millisecond} {
		if got := st.Percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if st.FramesPerSecond() != 50 {
		t.Errorf("%v frames/s", st.FramesPerSecond())
	}
}
