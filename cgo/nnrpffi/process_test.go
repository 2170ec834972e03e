package nnrpffi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/cgo/nnrpffi"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
)

// serverProcessEnv carries "SERVER KIND" (e.g. "ours quic") to the child
// process of BenchmarkOfficialClientProcess.
const serverProcessEnv = "NNRP_BENCH_SERVER_PROCESS"

// serverProcessReady prefixes the child's one line of dial options (JSON).
const serverProcessReady = "nnrp-bench-server "

// TestServerProcess is not a test of its own: it is the server process of
// BenchmarkOfficialClientProcess, started by startServerProcess with
// serverProcessEnv set. It starts that server on loopback, prints the
// official client's dial options for it and serves until its standard
// input closes. Without serverProcessEnv it has nothing to do.
func TestServerProcess(t *testing.T) {
	role := os.Getenv(serverProcessEnv)
	if role == "" {
		t.Skip("the server process of BenchmarkOfficialClientProcess; runs only when started by it")
	}
	srv, kindName, _ := strings.Cut(role, " ")
	kind, err := carrierKind(kindName)
	if err != nil {
		t.Fatal(err)
	}
	dial := benchTarget(t, srv, kind)
	line, err := json.Marshal(dial)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", serverProcessReady, line)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func carrierKind(name string) (carrier.Kind, error) {
	for _, c := range ourCarriers {
		if c.name == name {
			return c.kind, nil
		}
	}
	return 0, fmt.Errorf("unknown carrier %q", name)
}

// startServerProcess runs server srv ("ours" or "official") on carrier kind
// in a child process and returns the official client's dial options for it
// and a reader of the child's CPU time. The child stops when the benchmark
// ends.
func startServerProcess(b *testing.B, srv string, kind carrier.Kind) (nnrpffi.DialOptions, func() (time.Duration, error)) {
	b.Helper()
	var kindName string
	for _, c := range ourCarriers {
		if c.kind == kind {
			kindName = c.name
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerProcess$", "-test.count=1", "-test.timeout=1h")
	cmd.Env = append(os.Environ(), serverProcessEnv+"="+srv+" "+kindName)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	b.Cleanup(func() {
		_ = stdin.Close()
		select {
		case err := <-exited:
			if err != nil {
				b.Errorf("%s server process: %v", srv, err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			b.Errorf("%s server process did not stop within 30 s of its input closing; killed", srv)
			b.Logf("%s server process after kill: %v", srv, <-exited)
		}
	})

	ready := make(chan []byte, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if l, ok := bytes.CutPrefix(sc.Bytes(), []byte(serverProcessReady)); ok {
				ready <- bytes.Clone(l)
			} else if !bytes.Equal(sc.Bytes(), []byte("PASS")) {
				fmt.Fprintf(os.Stderr, "%s server process: %s\n", srv, sc.Bytes())
			}
		}
		close(ready)
		exited <- cmd.Wait()
	}()
	var line []byte
	select {
	case l, ok := <-ready:
		if !ok {
			b.Fatalf("%s server process ended before it was ready", srv)
		}
		line = l
	case <-time.After(30 * time.Second):
		b.Fatalf("%s server process not ready after 30 s", srv)
	}
	var dial nnrpffi.DialOptions
	if err := json.Unmarshal(line, &dial); err != nil {
		b.Fatalf("%s server process: dial options %q: %v", srv, line, err)
	}
	pid := cmd.Process.Pid
	return dial, func() (time.Duration, error) { return processCPU(pid) }
}

// processCPU is the user + system CPU time of process pid and all its
// threads, live and ended, from /proc/PID/stat (fields 14 and 15, in clock
// ticks of 10 ms: USER_HZ is 100 on Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: field 3 (state) is f[0], so field n is f[n-3].
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("processCPU: malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("processCPU: short /proc stat")
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("processCPU: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
