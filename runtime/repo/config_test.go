package repo

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const validSR = `backend: onnxruntime
inputs:
  - {role: 1, name: input, channels: 3}
outputs:
  - {role: 1, name: output, channels: 3}
tile_sizes: [64, "128x64"]
scale: 2
halo: 4
degraded: sr-bilinear
batching:
  max_batch_tiles: 8
  max_queue_delay: 3ms
execution:
  provider: cpu
  intra_op_threads: 2
`

func TestParseConfigValidAndDefaults(t *testing.T) {
	c, err := ParseConfig("models/sr/config.yaml", []byte(validSR))
	if err != nil {
		t.Fatal(err)
	}
	if c.File != DefaultModelFile || c.DType != "float32" || c.Layout != "NCHW" || c.Instances != 1 {
		t.Errorf("defaults: file %q dtype %q layout %q instances %d", c.File, c.DType, c.Layout, c.Instances)
	}
	if len(c.TileSizes) != 2 || c.TileSizes[0] != (TileSize{64, 64}) || c.TileSizes[1] != (TileSize{128, 64}) {
		t.Errorf("tile sizes %v", c.TileSizes)
	}
	if !c.AcceptsTile(128, 64) || c.AcceptsTile(64, 128) {
		t.Error("AcceptsTile confuses width and height")
	}
	if time.Duration(c.Batching.MaxQueueDelay) != 3*time.Millisecond || c.Batching.MaxBatchTiles != 8 {
		t.Errorf("batching %+v", c.Batching)
	}
	if got := c.Warmup.BatchSizes; len(got) != 2 || got[0] != 1 || got[1] != 8 {
		t.Errorf("default warm-up batch sizes %v, want [1 8]", got)
	}
	spec := c.Spec()
	if spec.Halo != 4 || spec.Scale != 2 || spec.Inputs[0].Name != "input" || spec.Outputs[0].Channels != 3 {
		t.Errorf("spec %+v", spec)
	}

	e, err := ParseConfig("models/echo/config.yaml", []byte("backend: echo\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Tensors() || e.Scale != 1 || e.Instances != 1 {
		t.Errorf("protocol echo: %+v", e)
	}
	if _, err := ParseConfig("x.yaml", []byte("backend: echo\ninputs: [{role: 1, name: a, channels: 3}]\noutputs: [{role: 2, name: b, channels: 3}]\ntile_sizes: [16]\nhalo: 2\n")); err != nil {
		t.Errorf("echo with a tensor contract: %v", err)
	}
}

// TestParseConfigProblems: every broken config gives problems naming the file, the line, the field
// and the fix.
func TestParseConfigProblems(t *testing.T) {
	const file = "models/sr/config.yaml"
	replace := func(old, new string) string {
		if !strings.Contains(validSR, old) {
			t.Fatalf("test bug: %q not in the base config", old)
		}
		return strings.Replace(validSR, old, new, 1)
	}
	for _, c := range []struct {
		name, yaml string
		want       []string // substrings of one problem's text
	}{
		{"empty", "", []string{file + ": the file is empty", "backend: onnxruntime"}},
		{"syntax", "backend: [onnxruntime\n", []string{file + ":", "is not valid YAML", "fix the syntax"}},
		{"not a mapping", "- backend\n", []string{file + ":1:", "must be a mapping of fields", "the file takes: backend, description"}},
		{"unknown field with suggestion", replace("tile_sizes:", "tile_size:"),
			[]string{file + ":6: tile_size: is not a known field", `did you mean "tile_sizes"?`, "known fields here:"}},
		{"unknown nested field", replace("max_batch_tiles: 8", "max_batch_tile: 8"),
			[]string{file + ":11: batching.max_batch_tile: is not a known field", `did you mean "max_batch_tiles"?`}},
		{"duplicate key", validSR + "scale: 3\n", []string{file + ":16: scale: is set twice (first on line 7)", "keep one"}},
		{"wrong type", replace("scale: 2", "scale: two"), []string{file + ":7: scale \"two\": is not an integer"}},
		{"list expected", replace("tile_sizes: [64, \"128x64\"]", "tile_sizes: 64"), []string{file + ":6: tile_sizes: must be a list"}},
		{"scalar expected", replace("halo: 4", "halo: [4]"), []string{file + ":8: halo: must be an integer, not a list or mapping"}},
		{"missing backend", strings.Replace(validSR, "backend: onnxruntime\n", "", 1), []string{file + ": backend: is missing", "backend: onnxruntime"}},
		{"unknown backend", replace("backend: onnxruntime", "backend: tensorrt"), []string{file + ":1: backend \"tensorrt\": is not a backend", `use "onnxruntime" or "echo"`}},
		{"missing inputs", replace("inputs:\n  - {role: 1, name: input, channels: 3}\n", ""), []string{file + ": inputs: is missing", "{role: 1, name: <input name>, channels: 3}"}},
		{"missing role", replace("{role: 1, name: input, channels: 3}", "{name: input, channels: 3}"), []string{file + ":3: inputs[0].role: is missing", "section role id"}},
		{"role out of range", replace("{role: 1, name: input, channels: 3}", "{role: 70000, name: input, channels: 3}"), []string{file + ":3: inputs[0].role 70000: is not a section role", "0..65535"}},
		{"duplicate role", replace("  - {role: 1, name: input, channels: 3}\n", "  - {role: 1, name: input, channels: 3}\n  - {role: 1, name: mask, channels: 1}\n"),
			[]string{file + ":4: inputs[1].role 1: is also inputs[0].role", "each role maps to one tensor"}},
		{"zero channels", replace("{role: 1, name: output, channels: 3}", "{role: 1, name: output, channels: 0}"), []string{file + ":5: outputs[0].channels 0: must be 1..64"}},
		{"missing name", replace("{role: 1, name: output, channels: 3}", "{role: 1, channels: 3}"), []string{file + ":5: outputs[0].name: is missing", "output name"}},
		{"dtype", validSR + "dtype: float16\n", []string{file + ":16: dtype \"float16\": is not supported", "use dtype: float32"}},
		{"layout", validSR + "layout: NHWC\n", []string{file + ":16: layout \"NHWC\": is not supported", "use layout: NCHW"}},
		{"tile size text", replace(`"128x64"`, `"128y64"`), []string{file + ":6: tile_sizes[1]:", `"128y64" is not a tile size`, `"128x64" for width 128 and height 64`}},
		{"tile size zero", replace("[64,", "[0,"), []string{file + ":6: tile_sizes[0] \"0x0\": is out of range"}},
		{"tile size repeated", replace(`[64, "128x64"]`, `[64, "64x64"]`), []string{file + ":6: tile_sizes[1] \"64x64\": repeats tile_sizes[0]"}},
		{"scale", replace("scale: 2", "scale: 9"), []string{file + ":7: scale 9: must be 1..8", "output tile edge over the input tile edge"}},
		{"halo", replace("halo: 4", "halo: -1"), []string{file + ":8: halo -1: must be 0..64", "receptive-field radius"}},
		{"batch", replace("max_batch_tiles: 8", "max_batch_tiles: 0"), []string{file + ":11: batching.max_batch_tiles 0: must be 1..1024"}},
		{"queue delay", replace("max_queue_delay: 3ms", "max_queue_delay: 3 parsecs"), []string{file + ":12: batching.max_queue_delay:", `"3 parsecs" is not a duration`, `"2ms"`}},
		{"queue delay range", replace("max_queue_delay: 3ms", "max_queue_delay: 2s"), []string{file + ":12: batching.max_queue_delay \"2s\": must be 0..1s"}},
		{"provider", replace("provider: cpu", "provider: tpu"), []string{file + ":14: execution.provider \"tpu\": is not an execution provider", `"auto"`}},
		{"threads", replace("intra_op_threads: 2", "intra_op_threads: 1000"), []string{file + ":15: execution.intra_op_threads 1000: must be 0..256"}},
		{"warm-up batch", validSR + "warmup:\n  batch_sizes: [32]\n", []string{file + ":17: warmup.batch_sizes[0] 32: must be 1..batching.max_batch_tiles (8)"}},
		{"instances", validSR + "instances: 0\n", []string{file + ":16: instances 0: must be 1..64"}},
		{"file path", validSR + "file: ../other.onnx\n", []string{file + ":16: file \"../other.onnx\": must be a file name inside the version folder"}},
		{"degraded name", replace("degraded: sr-bilinear", "degraded: ../x"), []string{file + ":9: degraded \"../x\": is not a model name"}},
		{"echo with a model file", "backend: echo\nfile: model.onnx\n", []string{file + ":2: file: has no effect with backend echo", "remove it"}},
		{"echo that scales", "backend: echo\ninputs: [{role: 1, name: a, channels: 3}]\noutputs: [{role: 1, name: b, channels: 3}]\ntile_sizes: [16]\nscale: 2\n",
			[]string{file + ":5: scale 2: must be 1 with backend echo"}},
		{"echo channels", "backend: echo\ninputs: [{role: 1, name: a, channels: 3}]\noutputs: [{role: 1, name: b, channels: 1}]\ntile_sizes: [16]\n",
			[]string{file + ":3: outputs[0].channels 1: differs from inputs[0].channels (3)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig(file, []byte(c.yaml))
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			probs := AsProblems(err)
			if len(probs) == 0 {
				t.Fatalf("error is not Problems: %T %v", err, err)
			}
			for _, p := range probs {
				text := p.Error()
				ok := true
				for _, w := range c.want {
					ok = ok && strings.Contains(text, w)
				}
				if ok {
					return
				}
			}
			t.Errorf("no problem contains all of %q; got:\n%v", c.want, err)
		})
	}
}

func TestParseConfigReportsEveryProblem(t *testing.T) {
	y := strings.NewReplacer("scale: 2", "scale: 0", "halo: 4", "halo: 99", "provider: cpu", "provider: gpu").Replace(validSR)
	_, err := ParseConfig("c.yaml", []byte(y))
	if n := len(AsProblems(err)); n != 3 {
		t.Fatalf("%d problems, want 3:\n%v", n, err)
	}
}

func TestProblemText(t *testing.T) {
	p := &Problem{File: "models/sr/config.yaml", Line: 7, Field: "inputs[0].name", Value: `"x"`,
		Msg: `the model has no input "x"`, Fix: "its inputs are: input [N,3,H,W] float32"}
	want := `models/sr/config.yaml:7: inputs[0].name "x": the model has no input "x"; its inputs are: input [N,3,H,W] float32`
	if p.Error() != want {
		t.Fatalf("%s\nwant\n%s", p.Error(), want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "abc", 0}, {"tile_size", "tile_sizes", 1}, {"halo", "hello", 2}, {"x", "", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestParseConfigNullIsAbsent(t *testing.T) {
	c, err := ParseConfig("c.yaml", []byte(validSR+"instances:\nwarmup:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Instances != 1 || len(c.Warmup.BatchSizes) != 2 {
		t.Fatalf("null fields did not take their defaults: instances %d warm-up %v", c.Instances, c.Warmup.BatchSizes)
	}
}
