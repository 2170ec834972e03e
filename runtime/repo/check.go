package repo

import (
	"fmt"
	"strings"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// describe formats a model tensor as "input [N,3,H,W] float32".
func describe(v ortexec.ValueInfo) string {
	if !v.Tensor {
		return v.Name + " (not a tensor)"
	}
	shape := "[?]"
	if v.Shape != nil {
		dims := make([]string, len(v.Shape))
		for i, d := range v.Shape {
			dims[i] = d.String()
		}
		shape = "[" + strings.Join(dims, ",") + "]"
	}
	return fmt.Sprintf("%s %s %s", v.Name, shape, elemName(v.Elem))
}

// elemName names an ONNX element type as the config's dtype would ("float32").
func elemName(t ortexec.ElemType) string {
	switch t {
	case ortexec.ElemFloat32:
		return "float32"
	case ortexec.ElemFloat16:
		return "float16"
	case ortexec.ElemUint8:
		return "uint8"
	case ortexec.ElemInt64:
		return "int64"
	}
	switch s := strings.ToLower(t.String()); s {
	case "double":
		return "float64"
	default:
		return s
	}
}

func describeAll(vs []ortexec.ValueInfo) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = describe(v)
	}
	return strings.Join(s, ", ")
}

// CheckModel checks a config against what an ONNX model declares: every config tensor names a
// model tensor and every model tensor is mapped; each is a float32 rank-4 NCHW tensor whose fixed
// dimensions agree with the config (batch, channels, and the tile sizes with halo and scale);
// symbolic dimensions shared between tensors take consistent values for every tile size.
// cfgFile and modelFile name the files in the problems.
func CheckModel(c *Config, cfgFile, modelFile string, info *ortexec.ModelInfo) Problems {
	var probs Problems
	bad := func(path string, value any, msg, fix string) {
		probs = append(probs, &Problem{File: cfgFile, Line: c.line(path), Field: path, Value: fmtValue(value), Msg: msg, Fix: fix})
	}
	type bound struct {
		path string
		vi   ortexec.ValueInfo
		ch   int
		out  bool
	}
	var all []bound
	for _, io := range []struct {
		field string
		cfg   []TensorMap
		model []ortexec.ValueInfo
		out   bool
	}{{"inputs", c.Inputs, info.Inputs, false}, {"outputs", c.Outputs, info.Outputs, true}} {
		kind := strings.TrimSuffix(io.field, "s")
		mapped := map[string]bool{}
		for i, t := range io.cfg {
			p := fmt.Sprintf("%s[%d]", io.field, i)
			var vi *ortexec.ValueInfo
			for k := range io.model {
				if io.model[k].Name == t.Name {
					vi = &io.model[k]
				}
			}
			if vi == nil {
				bad(p+".name", t.Name, fmt.Sprintf("%s has no %s %q", modelFile, kind, t.Name),
					fmt.Sprintf("its %ss are: %s", kind, describeAll(io.model)))
				continue
			}
			mapped[t.Name] = true
			all = append(all, bound{p, *vi, t.Channels, io.out})
		}
		for _, v := range io.model {
			if !mapped[v.Name] && len(io.cfg) > 0 {
				bad(io.field, nil, fmt.Sprintf("%s %s %s is not mapped to a section role", modelFile, kind, describe(v)),
					fmt.Sprintf("add {role: <id>, name: %s, channels: <n>} to %s", v.Name, io.field))
			}
		}
	}
	for _, b := range all {
		switch {
		case !b.vi.Tensor:
			bad(b.path+".name", b.vi.Name, fmt.Sprintf("%s declares it as a non-tensor value", modelFile), "only tensor inputs and outputs can be served")
			continue
		case b.vi.Elem != ortexec.ElemFloat32:
			bad(b.path+".name", b.vi.Name, fmt.Sprintf("%s declares it as %s, the config's dtype is float32", modelFile, elemName(b.vi.Elem)),
				"export the model with float32 inputs and outputs")
			continue
		case b.vi.Shape == nil:
			continue // no declared shape: the warm-up runs check it
		case len(b.vi.Shape) != 4:
			bad(b.path+".name", b.vi.Name, fmt.Sprintf("%s declares %s, not a rank-4 NCHW tensor", modelFile, describe(b.vi)),
				"serve models whose tensors are [N, C, H, W]")
			continue
		}
		n, ch := b.vi.Shape[0], b.vi.Shape[1]
		if n.Fixed() && n.Value != 1 {
			bad(b.path+".name", b.vi.Name, fmt.Sprintf("%s fixes the batch dimension to %d", modelFile, n.Value),
				"export the model with a symbolic batch dimension (N)")
		} else if n.Fixed() && c.Batching.MaxBatchTiles != 1 {
			bad("batching.max_batch_tiles", c.Batching.MaxBatchTiles, fmt.Sprintf("%s fixes the batch dimension of %s to 1", modelFile, b.vi.Name),
				"set batching.max_batch_tiles: 1, or export the model with a symbolic batch dimension")
		}
		if ch.Fixed() && ch.Value != int64(b.ch) {
			bad(b.path+".channels", b.ch, fmt.Sprintf("%s declares %s with %d channels", modelFile, describe(b.vi), ch.Value),
				fmt.Sprintf("set channels: %d", ch.Value))
		}
		for _, t := range c.TileSizes {
			h, w := int64(t.H+2*c.Halo), int64(t.W+2*c.Halo)
			what := fmt.Sprintf("a %s tile with halo %d is %dx%d", t, c.Halo, w, h)
			if b.out {
				h, w = int64(c.Scale*t.H), int64(c.Scale*t.W)
				what = fmt.Sprintf("a %s tile at scale %d gives %dx%d", t, c.Scale, w, h)
			}
			if d := b.vi.Shape[2]; d.Fixed() && d.Value != h || b.vi.Shape[3].Fixed() && b.vi.Shape[3].Value != w {
				bad("tile_sizes", t.String(), fmt.Sprintf("%s declares %s, but %s", modelFile, describe(b.vi), what),
					"list only the tile sizes the model's fixed dimensions allow, or export it with symbolic H and W")
			}
		}
	}
	if len(probs) > 0 {
		return probs
	}
	// Symbolic dims shared between tensors must take one value per tile size.
	for _, t := range c.TileSizes {
		assigned := map[string]struct {
			v    int64
			path string
		}{}
		for _, b := range all {
			if len(b.vi.Shape) != 4 {
				continue
			}
			want := []int64{-1, int64(b.ch), int64(t.H + 2*c.Halo), int64(t.W + 2*c.Halo)}
			if b.out {
				want[2], want[3] = int64(c.Scale*t.H), int64(c.Scale*t.W)
			}
			for k, d := range b.vi.Shape {
				if d.Param == "" || want[k] < 0 {
					continue
				}
				if prev, ok := assigned[d.Param]; ok && prev.v != want[k] {
					bad("tile_sizes", t.String(), fmt.Sprintf("%s uses dimension %q for %s (%d here) and for %s (%d here)",
						modelFile, d.Param, prev.path, prev.v, b.vi.Name, want[k]),
						"check scale and halo against what the model computes")
				} else if !ok {
					assigned[d.Param] = struct {
						v    int64
						path string
					}{want[k], b.vi.Name}
				}
			}
		}
	}
	return probs
}
