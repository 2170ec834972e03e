package modelgen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
)

// Anime4K CNN 2× S geometry (research/anime4k.md §2).
const (
	// Halo is the receptive-field radius in LR pixels: four 3×3 convolutions. A valid tile model
	// needs this many extra input pixels on every side of the tile.
	Halo = 4
	// Scale is the upscaling factor.
	Scale = 2
	// Channels is the number of image channels (RGB, values in [0,1]).
	Channels = 3

	a4kFeatures = 4 // output channels of every convolution
	a4kTaps     = 9 // 3×3
)

// a4kLayerNames are the keys of the four convolutions in the websr JSON, in network order.
var a4kLayerNames = [4]string{"conv2d_tf", "conv2d_1_tf", "conv2d_2_tf", "conv2d_last_tf"}

// Anime4KS holds the converted weights of an Anime4K CNN 2× S network.
type Anime4KS struct {
	// Conv are the four convolutions in network order.
	Conv [4]ConvWeights
	// SHA256 is the hex sha256 of the JSON the weights were parsed from.
	SHA256 string
}

// ConvWeights is one 3×3 convolution with 4 output channels, in ONNX layout.
type ConvWeights struct {
	Name string    // the layer's key in the JSON, e.g. "conv2d_1_tf"
	In   int       // input channels: 3 for the first layer, 8 (CReLU of 4) after it
	W    []float32 // OIHW [4][In][3][3]
	B    [4]float32
}

type websrLayer struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	Inputs  []string  `json:"inputs"`
	Output  string    `json:"output"`
	Weights []float32 `json:"weights"`
	Bias    []float32 `json:"bias"`
}

type websrNet struct {
	Name   string                `json:"name"`
	Layers map[string]websrLayer `json:"layers"`
}

// ParseAnime4KS reads a websr Anime4K "cnn-2x-s" weights file (weights/anime4k/cnn-2x-s-*.json of
// @websr/websr) and converts its WGSL mat4 layout to ONNX OIHW tensors.
//
// In the JSON each layer's weights are 4×4 column-major matrices, one per (input group g, tap t),
// stored at matrix index 9·g + t with the taps x-major (t = 3·(dx+1) + (dy+1)); element 4·i + o of
// a matrix is the weight from input channel i of the group to output channel o. Hence
// W[o][c][ky][kx] = weights[16·(9·(c/4) + 3·kx + ky) + 4·(c%4) + o]. The first layer's fourth
// input column (alpha) must be zero and is dropped; the 8-input layers read CReLU features,
// group 0 = relu(x) and group 1 = relu(−x).
func ParseAnime4KS(data []byte) (*Anime4KS, error) {
	var net websrNet
	if err := json.Unmarshal(data, &net); err != nil {
		return nil, fmt.Errorf("modelgen: parse Anime4K weights JSON: %w (expected a websr weights/anime4k/cnn-2x-s-*.json file)", err)
	}
	if net.Name != "anime4k/cnn-2x-s" {
		return nil, fmt.Errorf("modelgen: Anime4K weights name is %q, want \"anime4k/cnn-2x-s\"; only the S network is supported (M and L have a different graph, research/anime4k.md §1.4)", net.Name)
	}
	if len(net.Layers) != 5 {
		return nil, fmt.Errorf("modelgen: Anime4K S weights have %d layers, want 5 (4 convolutions and pixel_shuffle)", len(net.Layers))
	}
	out := &Anime4KS{}
	prev := "input_image"
	for i, key := range a4kLayerNames {
		l, ok := net.Layers[key]
		if !ok {
			return nil, fmt.Errorf("modelgen: Anime4K weights have no layer %q", key)
		}
		if l.Type != "conv" || len(l.Inputs) != 1 || l.Inputs[0] != prev {
			return nil, fmt.Errorf("modelgen: Anime4K layer %q is type %q reading %v; want a conv reading [%q]", key, l.Type, l.Inputs, prev)
		}
		prev = l.Output
		groups := 2
		in := 2 * a4kFeatures
		if i == 0 {
			groups, in = 1, Channels
		}
		if want := groups * a4kTaps * 16; len(l.Weights) != want {
			return nil, fmt.Errorf("modelgen: Anime4K layer %q has %d weights, want %d", key, len(l.Weights), want)
		}
		if len(l.Bias) != a4kFeatures {
			return nil, fmt.Errorf("modelgen: Anime4K layer %q has %d biases, want %d", key, len(l.Bias), a4kFeatures)
		}
		for j, v := range append(append([]float32(nil), l.Weights...), l.Bias...) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("modelgen: Anime4K layer %q value %d is %v; weights must be finite", key, j, v)
			}
		}
		if i == 0 {
			// Column 3 of every matrix is the alpha input, which the model does not have.
			for t := 0; t < a4kTaps; t++ {
				for o := 0; o < a4kFeatures; o++ {
					if v := l.Weights[16*t+4*3+o]; v != 0 {
						return nil, fmt.Errorf("modelgen: Anime4K layer %q weighs the alpha input (tap %d, output %d = %v); this converter takes RGB only and would change the result", key, t, o, v)
					}
				}
			}
		}
		cw := ConvWeights{Name: key, In: in, W: make([]float32, a4kFeatures*in*a4kTaps)}
		for o := 0; o < a4kFeatures; o++ {
			for c := 0; c < in; c++ {
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						cw.W[((o*in+c)*3+ky)*3+kx] = l.Weights[16*(9*(c/4)+3*kx+ky)+4*(c%4)+o]
					}
				}
			}
		}
		copy(cw.B[:], l.Bias)
		out.Conv[i] = cw
	}
	ps, ok := net.Layers["pixel_shuffle"]
	if !ok || ps.Type != "pixel_shuffle" || len(ps.Inputs) != 1 || ps.Inputs[0] != prev {
		return nil, fmt.Errorf("modelgen: Anime4K weights need a pixel_shuffle layer reading %q", prev)
	}
	sum := sha256.Sum256(data)
	out.SHA256 = hex.EncodeToString(sum[:])
	return out, nil
}

// border says how the 3×3 convolutions treat the image edge.
type border int

const (
	borderValid border = iota // no padding: every convolution shrinks H and W by 2
	borderEdge                // clamp-to-edge at every layer (Pad mode=edge)
)

// anime4kResidual adds the four convolutions with CReLU between them and the depth-to-space to g,
// reading x, and returns the name of the 1-channel residual.
func (g *Graph) anime4kResidual(w *Anime4KS, x string, b border) string {
	var pads string
	if b == borderEdge {
		pads = g.Int64("pads_hw1", []int64{8}, []int64{0, 0, 1, 1, 0, 0, 1, 1})
	}
	cur := x
	for i, cw := range w.Conv {
		p := fmt.Sprintf("conv%d", i)
		wt := g.Float32(cw.Name+".weight", []int64{a4kFeatures, int64(cw.In), 3, 3}, cw.W)
		bs := g.Float32(cw.Name+".bias", []int64{a4kFeatures}, cw.B[:])
		if b == borderEdge {
			cur = g.Node("Pad", p+"_pad", []string{cur, pads}, AttrString("mode", "edge"))
		}
		cur = g.Node("Conv", p, []string{cur, wt, bs},
			AttrInts("kernel_shape", 3, 3), AttrInts("pads", 0, 0, 0, 0))
		if i == len(w.Conv)-1 {
			break
		}
		pos := g.Node("Relu", p+"_relu_pos", []string{cur})
		neg := g.Node("Neg", p+"_neg", []string{cur})
		negr := g.Node("Relu", p+"_relu_neg", []string{neg})
		cur = g.Node("Concat", p+"_crelu", []string{pos, negr}, AttrInt("axis", 1))
	}
	return g.Node("DepthToSpace", "depth_to_space", []string{cur}, AttrInt("blocksize", Scale), AttrString("mode", "DCR"))
}

// bilinear2x adds the 2× bilinear upscale of x: half-pixel centres, edge clamp (ONNX Resize
// mode=linear, coordinate_transformation_mode=half_pixel). With crop, the outer Scale·Halo output
// pixels of each side are sliced off, leaving the part that a valid tile model returns.
func (g *Graph) bilinear2x(x string, crop bool) string {
	scales := g.Float32("upscale_scales", []int64{4}, []float32{1, 1, Scale, Scale})
	up := g.Node("Resize", "bilinear_upscale", []string{x, "", scales},
		AttrString("mode", "linear"), AttrString("coordinate_transformation_mode", "half_pixel"))
	if !crop {
		return up
	}
	const c = Scale * Halo
	starts := g.Int64("crop_starts", []int64{2}, []int64{c, c})
	ends := g.Int64("crop_ends", []int64{2}, []int64{-c, -c})
	axes := g.Int64("crop_axes", []int64{2}, []int64{2, 3})
	return g.Node("Slice", "bilinear_crop", []string{up, starts, ends, axes})
}

func addTileMetadata(g *Graph, w *Anime4KS, what string) {
	g.Metadata("nnrp.model", what)
	g.Metadata("nnrp.scale", strconv.Itoa(Scale))
	g.Metadata("nnrp.halo", strconv.Itoa(Halo))
	g.Metadata("nnrp.layout", "NCHW")
	g.Metadata("nnrp.value_range", "RGB in [0,1] (8-bit value / 255, sRGB as stored)")
	g.Metadata("nnrp.border_policy", "input tiles carry a 4 px halo from their neighbours, edge-replicated at the frame border")
	if w != nil {
		g.Metadata("weights.source", WeightsSource)
		g.Metadata("weights.sha256", w.SHA256)
		g.Metadata("weights.license", "MIT, Copyright (c) 2023 Sam Bhattacharyya (see LICENSE.websr)")
	}
}

var tileIn = []Dim{Sym("N"), Fixed(Channels), Sym("H"), Sym("W")}
var tileOut = []Dim{Sym("N"), Fixed(Channels), Sym("OH"), Sym("OW")}

// BuildAnime4KTile returns the valid (unpadded) tile model the product serves:
// input "input" [N,3,th+8,tw+8] float32 (a tile with a 4 px halo on every side) → output
// "output" [N,3,2·th,2·tw]. Four unpadded 3×3 convolutions with CReLU between them, DepthToSpace(2),
// plus the bilinear 2× upscale of the input cropped to the tile, summed and clipped to [0,1].
// N, H, W, OH and OW are symbolic; OH = 2·(H−8) and OW = 2·(W−8).
//
// Served on tiles whose halo comes from the neighbouring tiles and is edge-replicated at the frame
// border, it reproduces exactly the product's reference output defined in package anime4kref
// (UpscaleFixedHalo), whatever the tiling.
func BuildAnime4KTile(w *Anime4KS) ([]byte, error) {
	g := NewGraph("anime4k_cnn2x_s_tile",
		"Anime4K CNN 2x S (websr weights), valid tile variant: [N,3,th+8,tw+8] -> [N,3,2th,2tw]; the input carries a 4 px halo per side.")
	x := g.Input("input", onnxpb.TensorProto_FLOAT, tileIn...)
	res := g.anime4kResidual(w, x, borderValid)
	base := g.bilinear2x(x, true)
	sum := g.Node("Add", "add_residual", []string{base, res})
	g.clip01(sum, "output")
	g.Output("output", onnxpb.TensorProto_FLOAT, tileOut...)
	addTileMetadata(g, w, "anime4k-cnn2x-s tile (valid)")
	return g.Marshal()
}

// BuildAnime4KEdge returns the whole-image model with clamp-to-edge padding at every convolution
// (research/anime4k.md §3, the variant the golden vectors of §5 pin): input "input" [N,3,H,W] →
// output "output" [N,3,2H,2W]. It is used to check the converter, not served.
func BuildAnime4KEdge(w *Anime4KS) ([]byte, error) {
	g := NewGraph("anime4k_cnn2x_s_edge",
		"Anime4K CNN 2x S (websr weights), whole image, clamp-to-edge at every convolution: [N,3,H,W] -> [N,3,2H,2W].")
	x := g.Input("input", onnxpb.TensorProto_FLOAT, Sym("N"), Fixed(Channels), Sym("H"), Sym("W"))
	res := g.anime4kResidual(w, x, borderEdge)
	base := g.bilinear2x(x, false)
	sum := g.Node("Add", "add_residual", []string{base, res})
	g.clip01(sum, "output")
	g.Output("output", onnxpb.TensorProto_FLOAT, Sym("N"), Fixed(Channels), Sym("OH"), Sym("OW"))
	g.Metadata("nnrp.model", "anime4k-cnn2x-s whole image (edge)")
	g.Metadata("weights.sha256", w.SHA256)
	return g.Marshal()
}

// BuildBilinearTile returns the degraded twin of the tile model: the same I/O contract
// ([N,3,th+8,tw+8] → [N,3,2·th,2·tw]) and exactly the bilinear base of BuildAnime4KTile
// (half-pixel, edge-clamped 2× upscale of the input, cropped to the tile), with no network.
func BuildBilinearTile() ([]byte, error) {
	g := NewGraph("bilinear2x_tile",
		"Bilinear 2x (half_pixel, edge clamp), valid tile variant: [N,3,th+8,tw+8] -> [N,3,2th,2tw]; the degraded twin of the Anime4K tile model.")
	x := g.Input("input", onnxpb.TensorProto_FLOAT, tileIn...)
	base := g.bilinear2x(x, true)
	g.NodeN("Identity", "output_identity", []string{base}, []string{"output"})
	g.Output("output", onnxpb.TensorProto_FLOAT, tileOut...)
	addTileMetadata(g, nil, "bilinear2x tile (valid)")
	return g.Marshal()
}

func (g *Graph) clip01(x, out string) {
	lo := g.Float32("clip_min", nil, []float32{0})
	hi := g.Float32("clip_max", nil, []float32{1})
	g.NodeN("Clip", "clip", []string{x, lo, hi}, []string{out})
}
