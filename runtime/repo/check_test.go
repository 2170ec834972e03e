package repo

import (
	"strings"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// identityModel writes a model whose inputs and outputs are declared as given (the graph is a
// chain of Identity nodes; CheckModel only reads the declarations).
func identityModel(t *testing.T, in, out []modelgen.Dim, inElem onnxpb.TensorProto_DataType, extraIn string) *ortexec.ModelInfo {
	t.Helper()
	g := modelgen.NewGraph("test", "declarations for CheckModel")
	x := g.Input("input", inElem, in...)
	if extraIn != "" {
		g.Input(extraIn, onnxpb.TensorProto_FLOAT, modelgen.Sym("N"), modelgen.Fixed(1), modelgen.Sym("H"), modelgen.Sym("W"))
	}
	g.NodeN("Identity", "id", []string{x}, []string{"output"})
	g.Output("output", onnxpb.TensorProto_FLOAT, out...)
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	info, err := ortexec.ReadModelInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

var (
	sym   = modelgen.Sym
	fixed = modelgen.Fixed
	nchw  = []modelgen.Dim{sym("N"), fixed(3), sym("H"), sym("W")}
	onchw = []modelgen.Dim{sym("N"), fixed(3), sym("OH"), sym("OW")}
)

func TestCheckModel(t *testing.T) {
	const cfgFile, modelFile = "models/sr/config.yaml", "models/sr/1/model.onnx"
	parse := func(y string) *Config {
		c, err := ParseConfig(cfgFile, []byte(y))
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		return c
	}
	good := identityModel(t, nchw, onchw, onnxpb.TensorProto_FLOAT, "")
	if probs := CheckModel(parse(validSR), cfgFile, modelFile, good); len(probs) != 0 {
		t.Fatalf("valid pair rejected:\n%v", probs)
	}
	for _, c := range []struct {
		name string
		cfg  string
		info *ortexec.ModelInfo
		want []string
	}{
		{"input name", strings.Replace(validSR, "name: input,", "name: x,", 1), good,
			[]string{`models/sr/config.yaml:3: inputs[0].name "x": models/sr/1/model.onnx has no input "x"; its inputs are: input [N,3,H,W] float32`}},
		{"output name", strings.Replace(validSR, "name: output,", "name: y,", 1), good,
			[]string{`models/sr/config.yaml:5: outputs[0].name "y": models/sr/1/model.onnx has no output "y"; its outputs are: output [N,3,OH,OW] float32`}},
		{"unmapped input", validSR, identityModel(t, nchw, onchw, onnxpb.TensorProto_FLOAT, "mask"),
			[]string{`models/sr/config.yaml:2: inputs: models/sr/1/model.onnx input mask [N,1,H,W] float32 is not mapped to a section role`, "add {role: <id>, name: mask, channels: <n>} to inputs"}},
		{"channels", strings.Replace(validSR, "{role: 1, name: input, channels: 3}", "{role: 1, name: input, channels: 4}", 1), good,
			[]string{`models/sr/config.yaml:3: inputs[0].channels 4: models/sr/1/model.onnx declares input [N,3,H,W] float32 with 3 channels`, "set channels: 3"}},
		{"dtype", validSR, identityModel(t, nchw, onchw, onnxpb.TensorProto_INT64, ""),
			[]string{`inputs[0].name "input": models/sr/1/model.onnx declares it as int64, the config's dtype is float32`, "export the model with float32"}},
		{"rank", validSR, identityModel(t, []modelgen.Dim{sym("N"), fixed(3), sym("H")}, onchw, onnxpb.TensorProto_FLOAT, ""),
			[]string{`inputs[0].name "input": models/sr/1/model.onnx declares input [N,3,H] float32, not a rank-4 NCHW tensor`}},
		{"fixed batch", validSR, identityModel(t, []modelgen.Dim{fixed(4), fixed(3), sym("H"), sym("W")}, onchw, onnxpb.TensorProto_FLOAT, ""),
			[]string{`inputs[0].name "input": models/sr/1/model.onnx fixes the batch dimension to 4`, "symbolic batch dimension"}},
		{"batch of one", validSR, identityModel(t, []modelgen.Dim{fixed(1), fixed(3), sym("H"), sym("W")}, onchw, onnxpb.TensorProto_FLOAT, ""),
			[]string{`models/sr/config.yaml:11: batching.max_batch_tiles 8: models/sr/1/model.onnx fixes the batch dimension of input to 1`, "set batching.max_batch_tiles: 1"}},
		{"fixed tile", validSR, identityModel(t, []modelgen.Dim{sym("N"), fixed(3), fixed(72), fixed(72)}, onchw, onnxpb.TensorProto_FLOAT, ""),
			[]string{`models/sr/config.yaml:6: tile_sizes "128x64": models/sr/1/model.onnx declares input [N,3,72,72] float32, but a 128x64 tile with halo 4 is 136x72`}},
		{"fixed output", validSR, identityModel(t, nchw, []modelgen.Dim{sym("N"), fixed(3), fixed(128), fixed(128)}, onnxpb.TensorProto_FLOAT, ""),
			[]string{`tile_sizes "128x64": models/sr/1/model.onnx declares output [N,3,128,128] float32, but a 128x64 tile at scale 2 gives 256x128`}},
		{"shared dims", validSR, identityModel(t, nchw, nchw, onnxpb.TensorProto_FLOAT, ""),
			[]string{`tile_sizes "64x64": models/sr/1/model.onnx uses dimension "H" for input (72 here) and for output (128 here)`, "check scale and halo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			probs := CheckModel(parse(c.cfg), cfgFile, modelFile, c.info)
			for _, p := range probs {
				ok := true
				for _, w := range c.want {
					ok = ok && strings.Contains(p.Error(), w)
				}
				if ok {
					return
				}
			}
			t.Errorf("no problem contains all of %q; got:\n%v", c.want, probs)
		})
	}
}
