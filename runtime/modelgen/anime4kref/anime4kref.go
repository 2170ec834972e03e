// Package anime4kref is an independent float64 reference implementation of Anime4K CNN 2× S as
// websr 0.0.15 evaluates it, read straight from the websr weights JSON in its original WGSL layout:
// per layer, 4×4 column-major matrices indexed by (input group, tap) with the taps x-major. It
// shares no code or converted tensors with runtime/modelgen, so that the two can check each other.
//
// # Border policies
//
// Whole images (Upscale) take a Border: Edge clamps coordinates to the image at every layer (the
// canonical policy of research/anime4k.md, as the original mpv shaders do), Zero pads every layer
// with zeros (as the Keras training graph did).
//
// The product serves tiles through a valid (unpadded) model and defines its reference output for a
// whole image I as
//
//	SR(I) = UpscaleValid(PadEdge(I, Halo))
//
// (UpscaleFixedHalo): the input, and only the input, is extended by Halo = 4 edge-replicated pixels
// on every side, and the network then runs without any padding. A tile with origin (y0, x0) and
// size th×tw is served from the window Window(I, y0−4, x0−4, th+8, tw+8), whose out-of-image
// pixels are edge-replicated; its output is exactly rows 2·y0 … 2·(y0+th)−1 and columns
// 2·x0 … 2·(x0+tw)−1 of SR(I), whatever the tiling. SR(I) equals Upscale(I, Edge) except in the
// outer 8 HR pixels of the image, where the two policies differ (at most ≈0.1 on photographs).
package anime4kref

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Halo is the receptive-field radius of the network in LR pixels.
const Halo = 4

// Image is a planar float64 image: Pix[(c·H + y)·W + x].
type Image struct {
	C, H, W int
	Pix     []float64
}

// NewImage returns a zero image of the given size.
func NewImage(c, h, w int) Image {
	return Image{C: c, H: h, W: w, Pix: make([]float64, c*h*w)}
}

// At returns the value of channel c at row y, column x.
func (im Image) At(c, y, x int) float64 { return im.Pix[(c*im.H+y)*im.W+x] }

func (im Image) set(c, y, x int, v float64) { im.Pix[(c*im.H+y)*im.W+x] = v }

// Border selects how the whole-image network treats the image edge at every convolution.
type Border int

const (
	Edge Border = iota // clamp coordinates to the image (replicate the edge)
	Zero               // read zeros outside the image
)

// layer keeps one convolution in the JSON's own layout.
type layer struct {
	groups int       // input groups of 4 channels: 1 (RGBA) for the first layer, 2 (CReLU) after
	mats   []float64 // 9·groups column-major 4×4 matrices, matrix 9·g + t, element 4·in + out
	bias   [4]float64
}

// Net is a parsed Anime4K CNN 2× S.
type Net struct {
	layers [4]layer
}

type jsonLayer struct {
	Type    string    `json:"type"`
	Inputs  []string  `json:"inputs"`
	Output  string    `json:"output"`
	Weights []float32 `json:"weights"`
	Bias    []float32 `json:"bias"`
}

// Parse reads a websr weights/anime4k/cnn-2x-s-*.json file. Numbers are rounded to float32 (as
// the shader's storage holds them) and computed with in float64.
func Parse(data []byte) (*Net, error) {
	var doc struct {
		Name   string               `json:"name"`
		Layers map[string]jsonLayer `json:"layers"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("anime4kref: parse weights JSON: %w", err)
	}
	if doc.Name != "anime4k/cnn-2x-s" {
		return nil, fmt.Errorf("anime4kref: network %q is not anime4k/cnn-2x-s", doc.Name)
	}
	// Follow the chain of layers from the image input instead of trusting key names.
	byInput := map[string]string{}
	for key, l := range doc.Layers {
		if len(l.Inputs) != 1 {
			return nil, fmt.Errorf("anime4kref: layer %q has %d inputs, want 1", key, len(l.Inputs))
		}
		if _, dup := byInput[l.Inputs[0]]; dup {
			return nil, fmt.Errorf("anime4kref: two layers read %q", l.Inputs[0])
		}
		byInput[l.Inputs[0]] = key
	}
	n := &Net{}
	src := "input_image"
	for i := range n.layers {
		key, ok := byInput[src]
		if !ok {
			return nil, fmt.Errorf("anime4kref: no layer reads %q (layer %d)", src, i)
		}
		l := doc.Layers[key]
		if l.Type != "conv" {
			return nil, fmt.Errorf("anime4kref: layer %d (%q) is %q, want conv", i, key, l.Type)
		}
		groups := 2
		if i == 0 {
			groups = 1
		}
		if len(l.Weights) != 16*9*groups || len(l.Bias) != 4 {
			return nil, fmt.Errorf("anime4kref: layer %q has %d weights and %d biases, want %d and 4", key, len(l.Weights), len(l.Bias), 16*9*groups)
		}
		ly := layer{groups: groups, mats: make([]float64, len(l.Weights))}
		for j, v := range l.Weights {
			ly.mats[j] = float64(v)
		}
		for j, v := range l.Bias {
			ly.bias[j] = float64(v)
		}
		n.layers[i] = ly
		src = l.Output
	}
	key, ok := byInput[src]
	if !ok || doc.Layers[key].Type != "pixel_shuffle" {
		return nil, errors.New("anime4kref: the last convolution is not followed by a pixel_shuffle layer")
	}
	return n, nil
}

// fmap is a 4-channel feature map, pixel-interleaved: v[(y·w + x)·4 + ch].
type fmap struct {
	h, w int
	v    []float64
}

// conv evaluates one layer as the WGSL shader does: for every tap t (x-major: dx = t/3 − 1,
// dy = t%3 − 1) and input group g, result += M[9g+t] · group_g(pixel + (dx, dy)). For the first
// layer the single group is the RGBA texel (alpha = 1, an opaque texture); for the others group 0
// is relu(f) and group 1 is relu(−f) of the previous layer's output f. valid == true evaluates
// only the positions whose 3×3 neighbourhood lies inside in; otherwise b decides what is read
// outside.
func (l *layer) conv(in fmap, rgba bool, valid bool, b Border) fmap {
	oh, ow, off := in.h, in.w, 0
	if valid {
		oh, ow, off = in.h-2, in.w-2, 1
	}
	out := fmap{h: oh, w: ow, v: make([]float64, oh*ow*4)}
	var vec [4]float64
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			acc := l.bias
			for t := 0; t < 9; t++ {
				sx, sy := x+off+t/3-1, y+off+t%3-1
				inside := sx >= 0 && sy >= 0 && sx < in.w && sy < in.h
				if !inside && b == Zero {
					continue // every group reads zeros (relu(±0) = 0)
				}
				sx, sy = clamp(sx, in.w), clamp(sy, in.h)
				px := in.v[(sy*in.w+sx)*4 : (sy*in.w+sx)*4+4]
				for g := 0; g < l.groups; g++ {
					for i := 0; i < 4; i++ {
						switch {
						case rgba:
							vec[i] = px[i]
						case g == 0:
							vec[i] = math.Max(px[i], 0)
						default:
							vec[i] = math.Max(-px[i], 0)
						}
					}
					m := l.mats[16*(9*g+t) : 16*(9*g+t)+16]
					for o := 0; o < 4; o++ {
						acc[o] += m[o]*vec[0] + m[4+o]*vec[1] + m[8+o]*vec[2] + m[12+o]*vec[3]
					}
				}
			}
			copy(out.v[(y*ow+x)*4:], acc[:])
		}
	}
	return out
}

func clamp(v, n int) int {
	if v < 0 {
		return 0
	}
	if v >= n {
		return n - 1
	}
	return v
}

func checkRGB(img Image, minSize int) error {
	if img.C != 3 || img.H < minSize || img.W < minSize || len(img.Pix) != img.C*img.H*img.W {
		return fmt.Errorf("anime4kref: image is %d×%d×%d with %d values; want 3 channels, at least %d×%d pixels", img.C, img.H, img.W, len(img.Pix), minSize, minSize)
	}
	return nil
}

// residual runs the four layers and the sub-pixel shuffle and returns the 1-channel HR residual.
func (n *Net) residual(img Image, valid bool, b Border) fmap {
	f := fmap{h: img.H, w: img.W, v: make([]float64, img.H*img.W*4)}
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			for c := 0; c < 3; c++ {
				f.v[(y*img.W+x)*4+c] = img.At(c, y, x)
			}
			f.v[(y*img.W+x)*4+3] = 1 // alpha of an opaque texture; its weights are zero
		}
	}
	for i := range n.layers {
		f = n.layers[i].conv(f, i == 0, valid, b)
	}
	// The display pass reads channel 2·(Y mod 2) + (X mod 2) of the last layer at (Y/2, X/2).
	r := fmap{h: 2 * f.h, w: 2 * f.w, v: make([]float64, 4*f.h*f.w)}
	for yy := 0; yy < r.h; yy++ {
		for xx := 0; xx < r.w; xx++ {
			r.v[yy*r.w+xx] = f.v[((yy/2)*f.w+xx/2)*4+2*(yy%2)+xx%2]
		}
	}
	return r
}

// Bilinear2x upscales img 2× with half-pixel centres and edge clamping: for output row Y the source
// row is (Y + 0.5)/2 − 0.5, and likewise for columns.
func Bilinear2x(img Image) Image {
	out := NewImage(img.C, 2*img.H, 2*img.W)
	for c := 0; c < img.C; c++ {
		for yy := 0; yy < out.H; yy++ {
			sy := (float64(yy)+0.5)/2 - 0.5
			y0 := math.Floor(sy)
			ty := sy - y0
			ya, yb := clamp(int(y0), img.H), clamp(int(y0)+1, img.H)
			for xx := 0; xx < out.W; xx++ {
				sx := (float64(xx)+0.5)/2 - 0.5
				x0 := math.Floor(sx)
				tx := sx - x0
				xa, xb := clamp(int(x0), img.W), clamp(int(x0)+1, img.W)
				top := img.At(c, ya, xa)*(1-tx) + img.At(c, ya, xb)*tx
				bot := img.At(c, yb, xa)*(1-tx) + img.At(c, yb, xb)*tx
				out.set(c, yy, xx, top*(1-ty)+bot*ty)
			}
		}
	}
	return out
}

func compose(base Image, r fmap, cropHR int) Image {
	out := NewImage(base.C, r.h, r.w)
	for c := 0; c < base.C; c++ {
		for y := 0; y < r.h; y++ {
			for x := 0; x < r.w; x++ {
				v := base.At(c, y+cropHR, x+cropHR) + r.v[y*r.w+x]
				out.set(c, y, x, math.Min(math.Max(v, 0), 1))
			}
		}
	}
	return out
}

// Upscale runs the network on a whole RGB image with the given border policy and returns the
// 2H×2W result: clip(bilinear2x(img) + residual, 0, 1).
func (n *Net) Upscale(img Image, b Border) (Image, error) {
	if err := checkRGB(img, 1); err != nil {
		return Image{}, err
	}
	return compose(Bilinear2x(img), n.residual(img, false, b), 0), nil
}

// UpscaleValid runs the unpadded network on a haloed tile of (th+8)×(tw+8) pixels and returns the
// 2th×2tw result for the tile's centre.
func (n *Net) UpscaleValid(tile Image) (Image, error) {
	if err := checkRGB(tile, 2*Halo+1); err != nil {
		return Image{}, err
	}
	return compose(Bilinear2x(tile), n.residual(tile, true, Edge), 2*Halo), nil
}

// UpscaleFixedHalo is the product's reference output for a whole image:
// UpscaleValid(PadEdge(img, Halo)). See the package documentation.
func (n *Net) UpscaleFixedHalo(img Image) (Image, error) {
	if err := checkRGB(img, 1); err != nil {
		return Image{}, err
	}
	return n.UpscaleValid(PadEdge(img, Halo))
}

// BilinearValid is the degraded twin's reference on a haloed tile: the bilinear 2× upscale of the
// tile with the outer 2·Halo output pixels of every side cropped off.
func BilinearValid(tile Image) Image {
	up := Bilinear2x(tile)
	out := NewImage(tile.C, up.H-4*Halo, up.W-4*Halo)
	for c := 0; c < out.C; c++ {
		for y := 0; y < out.H; y++ {
			for x := 0; x < out.W; x++ {
				out.set(c, y, x, up.At(c, y+2*Halo, x+2*Halo))
			}
		}
	}
	return out
}

// Window returns the h×w window of img whose top-left pixel is (y0, x0); pixels outside img are
// edge-replicated (coordinates clamped).
func Window(img Image, y0, x0, h, w int) Image {
	out := NewImage(img.C, h, w)
	for c := 0; c < img.C; c++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out.set(c, y, x, img.At(c, clamp(y0+y, img.H), clamp(x0+x, img.W)))
			}
		}
	}
	return out
}

// PadEdge returns img extended by p edge-replicated pixels on every side.
func PadEdge(img Image, p int) Image { return Window(img, -p, -p, img.H+2*p, img.W+2*p) }
