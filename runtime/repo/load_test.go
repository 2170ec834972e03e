package repo_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/gpu/gputest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo/repotest"
)

// TestShippedRepositoryIsReproducible: models/ holds exactly what `nnrp-gpu models build` writes.
func TestShippedRepositoryIsReproducible(t *testing.T) {
	files := repotest.Shipped(t)
	diff, err := repo.DiffFiles(filepath.Join("..", "..", "models"), files)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff) > 0 {
		t.Fatalf("models/ differs from the build output (run `go run ./cmd/nnrp-gpu models build`):\n%s", strings.Join(diff, "\n"))
	}
	again := repotest.Shipped(t)
	for p, b := range files {
		if string(again[p]) != string(b) {
			t.Fatalf("%s is not reproducible", p)
		}
	}
}

func TestWriteFilesIsAtomicAndIdempotent(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"a/config.yaml": []byte("backend: echo\n"), "a/1/x.bin": {1, 2, 3}}
	wrote, err := repo.WriteFiles(dir, files)
	if err != nil || len(wrote) != 2 {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	if wrote, err = repo.WriteFiles(dir, files); err != nil || len(wrote) != 0 {
		t.Fatalf("second write rewrote %v (%v)", wrote, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "a"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if diff, _ := repo.DiffFiles(dir, files); len(diff) != 0 {
		t.Fatalf("diff after write: %v", diff)
	}
	files["a/1/x.bin"] = []byte{9}
	if diff, _ := repo.DiffFiles(dir, files); len(diff) != 1 || !strings.Contains(diff[0], "differs") {
		t.Fatalf("diff: %v", diff)
	}
}

// nanModel is a valid model whose output is NaN for inputs in (0, 1]: sqrt(−x).
func nanModel(t *testing.T) []byte {
	g := modelgen.NewGraph("nan", "sqrt(-x)")
	x := g.Input("input", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(3), modelgen.Sym("H"), modelgen.Sym("W"))
	neg := g.Node("Neg", "neg", []string{x})
	g.NodeN("Sqrt", "sqrt", []string{neg}, []string{"output"})
	g.Output("output", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(3), modelgen.Sym("H"), modelgen.Sym("W"))
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// identityModel is a valid model returning its input: [N,3,H,W] → [N,3,H,W].
func identityModel(t *testing.T) []byte {
	g := modelgen.NewGraph("identity", "y = x")
	x := g.Input("input", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(3), modelgen.Sym("H"), modelgen.Sym("W"))
	g.NodeN("Identity", "id", []string{x}, []string{"output"})
	g.Output("output", onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(3), modelgen.Sym("H"), modelgen.Sym("W"))
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const plainConfig = `backend: onnxruntime
inputs: [{role: 1, name: input, channels: 3}]
outputs: [{role: 1, name: output, channels: 3}]
tile_sizes: [16]
execution: {provider: cpu}
warmup: {batch_sizes: [2]}
`

// TestValidateReportsEveryProblem: a repository broken in many ways gives one problem per fault,
// each naming its file.
func TestValidateReportsEveryProblem(t *testing.T) {
	orttest.Init(t)
	shipped := repotest.Shipped(t)
	sr := shipped[repo.ShippedSR+"/1/model.onnx"]
	files := map[string][]byte{
		// A valid model whose version 2 is garbage and version 3 misses its file.
		"good/config.yaml":   shipped[repo.ShippedSR+"/config.yaml"],
		"good/1/model.onnx":  sr,
		"good/2/model.onnx":  []byte("not a model"),
		"good/3/notes.txt":   []byte("model to come"),
		"good/v4/model.onnx": sr,
		// Scale 1 on the 2× model: static checks pass (symbolic dims), the warm-up catches it.
		"wrongscale/config.yaml":  []byte(strings.Replace(plainConfig, "tile_sizes: [16]", "tile_sizes: [16]\nhalo: 4", 1)),
		"wrongscale/1/model.onnx": sr,
		"nan/config.yaml":         []byte(plainConfig),
		"nan/1/model.onnx":        nanModel(t),
		"noconfig/1/model.onnx":   sr,
		"badconfig/config.yaml":   []byte("backend: onnxruntime\nscale: x\n"),
		"noversion/config.yaml":   []byte(plainConfig),
		"degr/config.yaml":        []byte(plainConfig + "degraded: missing-model\n"),
		"degr/1/model.onnx":       identityModel(t),
		"Bad Name/config.yaml":    []byte(plainConfig),
		".hidden/config.yaml":     []byte("garbage: ["),
	}
	dir := repotest.Dir(t, files)
	r := repo.Validate(context.Background(), dir, repo.ValidateOptions{Staging: gputest.Staging(t)})
	var all []string
	for _, p := range r.Problems {
		all = append(all, p.Error())
	}
	text := strings.Join(all, "\n")
	want := []string{
		filepath.Join(dir, "good", "2", "model.onnx") + ": is not an ONNX model",
		filepath.Join(dir, "good", "3", "model.onnx") + ": does not exist",
		filepath.Join(dir, "good", "v4") + ": is not a version folder",
		filepath.Join(dir, "wrongscale", "1", "model.onnx") + ": warm-up with 2 16x16 tiles (input [2,3,24,24] → output [2,3,16,16])",
		"check scale and halo in " + filepath.Join(dir, "wrongscale", "config.yaml"),
		filepath.Join(dir, "nan", "1", "model.onnx") + ": warm-up with 2 16x16 tiles",
		"the model produces non-finite values",
		filepath.Join(dir, "noconfig", "config.yaml") + ": does not exist",
		filepath.Join(dir, "badconfig", "config.yaml") + ":2: scale \"x\": is not an integer",
		filepath.Join(dir, "badconfig", "config.yaml") + ": inputs: is missing",
		filepath.Join(dir, "badconfig", "config.yaml") + ": outputs: is missing",
		filepath.Join(dir, "badconfig", "config.yaml") + ": tile_sizes: is missing",
		filepath.Join(dir, "noversion") + ": has no version folder",
		filepath.Join(dir, "degr", "config.yaml") + ":7: degraded \"missing-model\": is not a model of this repository",
		filepath.Join(dir, "Bad Name") + ": is not a valid model name",
		filepath.Join(dir, "good", "config.yaml") + ":16: degraded \"anime4k-s-2x-bilinear\": is not a model of this repository",
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if t.Failed() || len(all) != len(want)-2 {
		t.Errorf("%d problems, want %d:\n%s", len(all), len(want)-2, text)
	}
	if strings.Contains(text, ".hidden") {
		t.Error("a hidden directory was validated")
	}
	for _, m := range r.Models {
		if m.Name == "good" && (len(m.Versions) != 1 || m.Versions[0].Version != 1 || m.Versions[0].Provider != "cpu") {
			t.Errorf("good: %+v", m)
		}
	}
}

func TestValidateShipped(t *testing.T) {
	orttest.Init(t)
	r := repo.Validate(context.Background(), filepath.Join("..", "..", "models"), repo.ValidateOptions{Staging: gputest.Staging(t)})
	if len(r.Problems) > 0 {
		t.Fatalf("the shipped repository has problems: %v", errors.Join(r.Problems...))
	}
	if len(r.Models) != 3 {
		t.Fatalf("models: %+v", r.Models)
	}
}

// TestModelRun runs a loaded version on staging memory and checks the result against the
// bilinear reference: the degraded twin of a frame of one constant colour is that colour.
func TestModelRun(t *testing.T) {
	orttest.Init(t)
	st := gputest.Staging(t)
	dir := repotest.Dir(t, repotest.Only(repotest.Shipped(t), repo.ShippedBilinear))
	mgr, err := repo.Open(context.Background(), repo.Options{Dir: dir, NoWatch: true, Rescan: -1, Staging: st})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := mgr.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	m, err := mgr.Acquire(repo.ShippedBilinear)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	spec := m.Spec()
	const n, tile = 3, 64
	in, err := st.Input.Get(4 * n * spec.InputSlot(0, tile, tile))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Release()
	out, err := st.Output.Get(4 * n * spec.OutputSlot(0, tile, tile))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	inF, outF := in.Float32s(), out.Float32s()
	per := spec.InputSlot(0, tile, tile)
	for k := range inF {
		inF[k] = float32(k/per+1) / 4 // slot k is the constant (k+1)/4
	}
	if err := m.Run(context.Background(), &backend.Batch{N: n, TileH: tile, TileW: tile, Inputs: [][]float32{inF}, Outputs: [][]float32{outF}}); err != nil {
		t.Fatal(err)
	}
	operOut := spec.OutputSlot(0, tile, tile)
	for k, v := range outF[:n*operOut] {
		if want := float32(k/operOut+1) / 4; math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("output %d = %v, want %v", k, v, want)
		}
	}
	if err := m.Run(context.Background(), &backend.Batch{N: n, TileH: tile, TileW: tile, Inputs: [][]float32{inF[:10]}, Outputs: [][]float32{outF}}); !errors.Is(err, backend.ErrBatch) {
		t.Fatalf("short input: %v, want ErrBatch", err)
	}
}
