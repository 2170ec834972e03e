package modelgen_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
)

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Pinned sha256 of the shipped files. A change here changes what `make models` writes: update the
// values only together with the committed models.
var shippedSHA256 = map[string]string{
	modelgen.ShippedSR:       "3d4b14bcca436ec202733fd79a265308f5edc7432e9cd5d2b53119aaf491e364",
	modelgen.ShippedBilinear: "892848190288ac07ad2fcf06d8b70facfe5dab669d1c337f45858268ab4f4414",
	modelgen.ShippedLicense:  "32efd167268c181f862e1b9e805c872106a405bd487c54273fc1b0a9137cf3d3",
}

func TestBuildShippedIsDeterministic(t *testing.T) {
	w := modeltest.Weights(t)
	a, err := modelgen.BuildShipped(w)
	if err != nil {
		t.Fatal(err)
	}
	b, err := modelgen.BuildShipped(append([]byte(nil), w...))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 {
		t.Fatalf("BuildShipped returned %d files, want 3", len(a))
	}
	for name, data := range a {
		if hash(data) != hash(b[name]) {
			t.Errorf("%s differs between two builds", name)
		}
		want, ok := shippedSHA256[name]
		if !ok {
			t.Errorf("unexpected file %q", name)
			continue
		}
		if got := hash(data); got != want {
			t.Errorf("%s: sha256 %s (%d bytes), pinned %s", name, got, len(data), want)
		}
	}
	if !strings.Contains(string(a[modelgen.ShippedLicense]), "Copyright (c) 2023 Sam Bhattacharyya") {
		t.Error("the shipped license is not websr's MIT notice")
	}
}

func TestBuildShippedRejectsOtherWeights(t *testing.T) {
	w := modeltest.Weights(t)
	other := append(append([]byte(nil), w...), ' ')
	_, err := modelgen.BuildShipped(other)
	if err == nil || !strings.Contains(err.Error(), modelgen.WeightsJSONSHA256) {
		t.Fatalf("BuildShipped with different weights: %v; want an error naming the pinned sha256", err)
	}
}

func decode(t *testing.T, b []byte) *onnxpb.ModelProto {
	t.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func dims(v *onnxpb.ValueInfoProto) string {
	var s []string
	for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
		if d.GetDimParam() != "" {
			s = append(s, d.GetDimParam())
		} else {
			s = append(s, string(rune('0'+d.GetDimValue())))
		}
	}
	return strings.Join(s, ",")
}

// The graphs have the structure research/anime4k.md §3 describes.
func TestGraphStructure(t *testing.T) {
	w, err := modelgen.ParseAnime4KS(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	tile, err := modelgen.BuildAnime4KTile(w)
	if err != nil {
		t.Fatal(err)
	}
	edge, err := modelgen.BuildAnime4KEdge(w)
	if err != nil {
		t.Fatal(err)
	}
	bil, err := modelgen.BuildBilinearTile()
	if err != nil {
		t.Fatal(err)
	}
	ops := func(m *onnxpb.ModelProto) map[string]int {
		c := map[string]int{}
		for _, n := range m.GetGraph().GetNode() {
			c[n.GetOpType()]++
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		model []byte
		want  map[string]int
	}{
		{"tile", tile, map[string]int{"Conv": 4, "Relu": 6, "Neg": 3, "Concat": 3, "DepthToSpace": 1, "Resize": 1, "Slice": 1, "Add": 1, "Clip": 1}},
		{"edge", edge, map[string]int{"Pad": 4, "Conv": 4, "Relu": 6, "Neg": 3, "Concat": 3, "DepthToSpace": 1, "Resize": 1, "Add": 1, "Clip": 1}},
		{"bilinear", bil, map[string]int{"Resize": 1, "Slice": 1, "Identity": 1}},
	} {
		m := decode(t, tc.model)
		if m.GetIrVersion() != 8 || len(m.GetOpsetImport()) != 1 || m.GetOpsetImport()[0].GetVersion() != 17 {
			t.Errorf("%s: IR %d opsets %v, want IR 8 and opset 17", tc.name, m.GetIrVersion(), m.GetOpsetImport())
		}
		got := ops(m)
		for op, n := range tc.want {
			if got[op] != n {
				t.Errorf("%s: %d %s nodes, want %d", tc.name, got[op], op, n)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: op types %v, want %v", tc.name, got, tc.want)
		}
		g := m.GetGraph()
		if len(g.GetInput()) != 1 || g.GetInput()[0].GetName() != "input" || dims(g.GetInput()[0]) != "N,3,H,W" {
			t.Errorf("%s: inputs %v", tc.name, g.GetInput())
		}
		if len(g.GetOutput()) != 1 || g.GetOutput()[0].GetName() != "output" || dims(g.GetOutput()[0]) != "N,3,OH,OW" {
			t.Errorf("%s: outputs %v", tc.name, g.GetOutput())
		}
		for _, n := range g.GetNode() {
			if n.GetName() == "" {
				t.Errorf("%s: a %s node has no name", tc.name, n.GetOpType())
			}
		}
	}
	md := map[string]string{}
	for _, p := range decode(t, tile).GetMetadataProps() {
		md[p.GetKey()] = p.GetValue()
	}
	if md["nnrp.halo"] != "4" || md["nnrp.scale"] != "2" || md["weights.sha256"] != modelgen.WeightsJSONSHA256 {
		t.Errorf("tile model metadata %v", md)
	}
}

// The OIHW conversion follows W[o][c][ky][kx] = weights[16·(9·(c/4) + 3·kx + ky) + 4·(c%4) + o],
// checked on entries where a transposed index reads a different value.
func TestConversionLayout(t *testing.T) {
	raw := modeltest.Weights(t)
	var doc struct {
		Layers map[string]struct {
			Weights []float32 `json:"weights"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	w, err := modelgen.ParseAnime4KS(raw)
	if err != nil {
		t.Fatal(err)
	}
	for li, cw := range w.Conv {
		src := doc.Layers[cw.Name].Weights
		for _, p := range [][4]int{{0, 0, 0, 1}, {1, 2, 1, 0}, {3, 1, 2, 2}, {2, 0, 0, 2}} {
			o, c, ky, kx := p[0], p[1], p[2], p[3]
			if c >= cw.In {
				c = cw.In - 1
			}
			got := cw.W[((o*cw.In+c)*3+ky)*3+kx]
			want := src[16*(9*(c/4)+3*kx+ky)+4*(c%4)+o]
			if got != want {
				t.Errorf("layer %d W[%d][%d][%d][%d] = %v, want %v", li, o, c, ky, kx, got, want)
			}
		}
	}
	if w.Conv[0].In != 3 || w.Conv[1].In != 8 || len(w.Conv[3].W) != 4*8*9 {
		t.Errorf("channel counts %d,%d and last layer size %d", w.Conv[0].In, w.Conv[1].In, len(w.Conv[3].W))
	}
}

func TestParseRejectsBadWeights(t *testing.T) {
	raw := modeltest.Weights(t)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(layers map[string]any)) []byte {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		f(d["layers"].(map[string]any))
		b, _ := json.Marshal(d)
		return b
	}
	cases := map[string][]byte{
		"not JSON":      []byte("{"),
		"wrong network": []byte(strings.Replace(string(raw), "anime4k/cnn-2x-s", "anime4k/cnn-2x-m", 1)),
		"missing layer": mutate(func(l map[string]any) { delete(l, "conv2d_2_tf") }),
		"short weights": mutate(func(l map[string]any) {
			c := l["conv2d_1_tf"].(map[string]any)
			c["weights"] = c["weights"].([]any)[:287]
		}),
		"short bias":      mutate(func(l map[string]any) { l["conv2d_tf"].(map[string]any)["bias"] = []any{0.0} }),
		"alpha weighted":  mutate(func(l map[string]any) { l["conv2d_tf"].(map[string]any)["weights"].([]any)[12] = 0.5 }),
		"broken chain":    mutate(func(l map[string]any) { l["conv2d_2_tf"].(map[string]any)["inputs"] = []any{"conv2d_tf"} }),
		"no pixelshuffle": mutate(func(l map[string]any) { l["pixel_shuffle"].(map[string]any)["type"] = "conv" }),
	}
	for name, b := range cases {
		if _, err := modelgen.ParseAnime4KS(b); err == nil {
			t.Errorf("%s: ParseAnime4KS succeeded", name)
		} else if !strings.HasPrefix(err.Error(), "modelgen: ") {
			t.Errorf("%s: error %q does not say where it comes from", name, err)
		}
	}
}

func TestGraphBuilderErrors(t *testing.T) {
	for name, build := range map[string]func(g *modelgen.Graph){
		"undefined input": func(g *modelgen.Graph) {
			g.Node("Relu", "r", []string{"nope"})
			g.Output("r", onnxpb.TensorProto_FLOAT)
		},
		"duplicate value": func(g *modelgen.Graph) {
			x := g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Fixed(1))
			g.Float32("x", []int64{1}, []float32{1})
			g.Output(g.Node("Relu", "r", []string{x}), onnxpb.TensorProto_FLOAT)
		},
		"duplicate node": func(g *modelgen.Graph) {
			x := g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Fixed(1))
			g.NodeN("Relu", "r", []string{x}, []string{"a"})
			g.NodeN("Relu", "r", []string{x}, []string{"b"})
			g.Output("a", onnxpb.TensorProto_FLOAT)
		},
		"initializer size": func(g *modelgen.Graph) {
			g.Float32("w", []int64{2, 2}, []float32{1, 2, 3})
		},
		"no outputs": func(g *modelgen.Graph) {
			g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Fixed(1))
		},
		"output not produced": func(g *modelgen.Graph) {
			g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Fixed(1))
			g.Output("y", onnxpb.TensorProto_FLOAT)
		},
		"negative dim": func(g *modelgen.Graph) {
			x := g.Input("x", onnxpb.TensorProto_FLOAT, modelgen.Fixed(-2))
			g.Output(g.Node("Relu", "r", []string{x}), onnxpb.TensorProto_FLOAT)
		},
	} {
		g := modelgen.NewGraph("t", "")
		build(g)
		if _, err := g.Marshal(); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
	}
}

// FuzzParseAnime4KS: malformed weight files give an error, never a panic, and whatever parses
// builds a valid model.
func FuzzParseAnime4KS(f *testing.F) {
	f.Add(modeltest.Weights(f))
	f.Add([]byte(`{"name":"anime4k/cnn-2x-s","layers":{}}`))
	f.Add([]byte(`{"name":"anime4k/cnn-2x-s","layers":{"conv2d_tf":{"type":"conv","inputs":["input_image"],"weights":[1e40]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := modelgen.ParseAnime4KS(b)
		if err != nil {
			return
		}
		if _, err := modelgen.BuildAnime4KTile(w); err != nil {
			t.Fatalf("parsed weights do not build: %v", err)
		}
	})
}
