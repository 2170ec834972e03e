package main

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/anime4kref"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

const shippedDir = "../../models"

// TestServeModelsEndToEnd runs what `nnrp-gpu serve --models models --default-model anime4k-s-2x`
// builds (flags, the model app, the server, the accept loop) and serves a frame through a client.
func TestServeModelsEndToEnd(t *testing.T) {
	defer goleak.VerifyNone(t)
	orttest.Init(t)
	f, err := parseServeFlags([]string{"--models", shippedDir, "--default-model", repo.ShippedSR, "--tcp", "127.0.0.1:0", "--metrics", ""})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a, err := newApp(f, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.(*modelApp); !ok {
		t.Fatalf("--models built %T, want the model app", a)
	}
	if err := a.Ready(); err != nil {
		t.Fatalf("not ready after start: %v", err)
	}
	reg := prometheus.NewRegistry()
	a.RegisterMetrics(reg)
	srv, err := server.New(f.profile, server.Options{Logger: log, OpenSession: a.OpenSession, PatchSession: a.PatchSession})
	if err != nil {
		t.Fatal(err)
	}
	l, err := carrier.Listen(carrier.TCP, f.tcp[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = srv.Serve(l)
	}()
	go func() {
		defer wg.Done()
		a.AcceptLoop(context.Background(), srv)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "tcp://"+l.Addr().String(), client.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.OpenSession(ctx, client.SessionOptions{}) // no model named: the default
	if err != nil {
		t.Fatal(err)
	}
	img := client.Image{Channels: 3, Height: 96, Width: 160, Data: make([]float32, 3*96*160)}
	for i := range img.Data {
		img.Data[i] = float32(0.5 + 0.45*math.Sin(float64(i)*0.013))
	}
	frame, err := client.TensorFrame(img, 64, 64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, frame); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != client.EventResult {
		t.Fatalf("answer %v: %s", ev.Kind, ev.Diagnostic)
	}
	net, err := anime4kref.Parse(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	in := anime4kref.NewImage(3, 96, 160)
	for i, v := range img.Data {
		in.Pix[i] = float64(v)
	}
	ref, err := net.UpscaleFixedHalo(in)
	if err != nil {
		t.Fatal(err)
	}
	sec := ev.Result.Section(0)
	ids := ev.Result.Tiles().AppendIDs(nil)
	it := sec.Tiles()
	worst := 0.0
	for k := 0; ; k++ {
		tile, ok := it.Next()
		if !ok {
			break
		}
		vals, err := client.Float32s(tile)
		if err != nil {
			t.Fatal(err)
		}
		ty, tx := int(ids[k])/3, int(ids[k])%3
		for ch := range 3 {
			for y := range 128 {
				for x := range 128 {
					oy, ox := ty*128+y, tx*128+x
					if oy < 192 && ox < 320 {
						worst = max(worst, math.Abs(float64(vals[(ch*128+y)*128+x])-ref.At(ch, oy, ox)))
					}
				}
			}
		}
	}
	ev.Release()
	if worst > 1e-6 || len(ids) != 6 {
		t.Fatalf("%d tiles, max |served − reference| = %g", len(ids), worst)
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"nnrp_model_version_info", "nnrp_model_load_seconds", "nnrp_model_warmup_seconds",
		"nnrp_model_inference_seconds", "nnrp_model_frames_total", "nnrp_staging_bytes", "nnrp_model_ready"} {
		if !names[n] {
			t.Errorf("metric %s is not exported", n)
		}
	}

	rec := httptest.NewRecorder()
	a.(*modelApp).serveStatus(rec, httptest.NewRequest(http.MethodGet, "/models", nil))
	if body := rec.Body.String(); !strings.Contains(body, `"Name": "anime4k-s-2x"`) || !strings.Contains(body, `"State": "serving"`) {
		t.Fatalf("/models: %s", body)
	}

	_ = c.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		t.Error(err)
	}
	wg.Wait()
	a.Close()
}

func TestServeFlagsModels(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--default-model", "x"}, "need --models"},
		{[]string{"--models", "m", "--staging-max-mib", "0"}, "--staging-max-mib must be ≥ 1"},
		{[]string{"--route", "3=echo"}, "need --models"},
		{[]string{"--models", "m", "--route", "70000=echo"}, "ROUTE_ID=MODEL"},
	} {
		if _, err := parseServeFlags(c.args); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: %v, want %q", c.args, err, c.err)
		}
	}
	f, err := parseServeFlags([]string{"--models", "m", "--default-model", "x", "--route", "7=echo"})
	if err != nil || f.models != "m" || f.defaultModel != "x" || f.routes[7] != "echo" {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := newApp(&serveFlags{models: filepath.Join(t.TempDir(), "missing"), stagingMaxMiB: 1}, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "--models") {
		t.Fatalf("missing repository: %v", err)
	}
}

func TestModelsCommands(t *testing.T) {
	defer goleak.VerifyNone(t)
	orttest.Init(t)
	run := func(cmd func([]string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cmd(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	validate := func(a []string, o, e *bytes.Buffer) int { return cmdModelsValidate(a, o, e) }
	list := func(a []string, o, e *bytes.Buffer) int { return cmdModelsList(a, o, e) }
	build := func(a []string, o, e *bytes.Buffer) int { return cmdModelsBuild(a, o, e) }

	if code, out, errs := run(validate, shippedDir); code != 0 || !strings.Contains(out, "3 models, no problems") {
		t.Fatalf("validate shipped: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := run(list, shippedDir)
	if code != 0 || !strings.Contains(out, "anime4k-s-2x           1        serving  onnxruntime  cpu") ||
		!strings.Contains(out, "role 1 → input [N,3,H,W] float32") || !strings.Contains(out, "degraded variant: anime4k-s-2x-bilinear") {
		t.Fatalf("list: %d\n%s\n%s", code, out, errs)
	}
	if code, out, _ := run(list, "--json", shippedDir); code != 0 || !strings.Contains(out, `"State": "serving"`) {
		t.Fatalf("list --json: %d\n%s", code, out)
	}

	// build writes the shipped repository byte for byte; --check tells a changed file.
	weights := filepath.Join(modeltest.TestdataDir(t), "cnn-2x-s-rl.json")
	dir := filepath.Join(t.TempDir(), "models")
	if code, out, errs := run(build, "--weights", weights, "--out", dir); code != 0 || !strings.Contains(out, "7 files, 7 changed") {
		t.Fatalf("build: %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := run(build, "--weights", weights, "--out", dir, "--check"); code != 0 {
		t.Fatalf("check after build: %s", errs)
	}
	if code, _, errs := run(build, "--weights", weights, "--out", shippedDir, "--check"); code != 0 {
		t.Fatalf("the committed models/ is not what build writes: %s", errs)
	}
	cfg := filepath.Join(dir, repo.ShippedSR, "config.yaml")
	if err := os.WriteFile(cfg, []byte("backend: onnxruntime\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(build, "--weights", weights, "--out", dir, "--check"); code != 1 || !strings.Contains(errs, cfg+": differs") {
		t.Fatalf("check of a changed file: %d %s", code, errs)
	}

	// validate lists every problem and exits 1.
	code, _, errs = run(validate, dir)
	if code != 1 || !strings.Contains(errs, cfg+":2: bogus: is not a known field") || !strings.Contains(errs, cfg+": inputs: is missing") {
		t.Fatalf("validate broken: %d\n%s", code, errs)
	}
	if code, _, errs := run(validate); code != 2 || !strings.Contains(errs, "give the repository directory") {
		t.Fatalf("validate without DIR: %d %s", code, errs)
	}
	if code, _, _ := run(build, "--weights", filepath.Join(t.TempDir(), "none.json")); code != 1 {
		t.Fatal("build with missing weights succeeded")
	}
}
