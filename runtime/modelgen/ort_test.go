package modelgen_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/anime4kref"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec/orttest"
)

// These tests run the generated models through ONNX Runtime (ORT_LIB) and compare them with the
// golden vectors of research/anime4k.md and with the independent Go reference (anime4kref).

type models struct {
	ref               *anime4kref.Net
	tile, edge, bilin []byte
}

func build(t *testing.T) models {
	t.Helper()
	raw := modeltest.Weights(t)
	w, err := modelgen.ParseAnime4KS(raw)
	if err != nil {
		t.Fatal(err)
	}
	var m models
	if m.ref, err = anime4kref.Parse(raw); err != nil {
		t.Fatal(err)
	}
	if m.tile, err = modelgen.BuildAnime4KTile(w); err != nil {
		t.Fatal(err)
	}
	if m.edge, err = modelgen.BuildAnime4KEdge(w); err != nil {
		t.Fatal(err)
	}
	if m.bilin, err = modelgen.BuildBilinearTile(); err != nil {
		t.Fatal(err)
	}
	return m
}

func open(t *testing.T, name string, model []byte) *ortexec.Session {
	t.Helper()
	orttest.Init(t)
	s, err := ortexec.OpenBytes(name, model, ortexec.Options{Provider: ortexec.ProviderCPU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// run runs a one-input, one-output model on an NCHW batch and returns the output.
func run(t *testing.T, s *ortexec.Session, in []float32, n, h, w, oh, ow int) []float32 {
	t.Helper()
	out := make([]float32, n*3*oh*ow)
	err := s.Run(context.Background(),
		[]ortexec.Buffer{{Shape: []int64{int64(n), 3, int64(h), int64(w)}, Data: in}},
		[]ortexec.Buffer{{Shape: []int64{int64(n), 3, int64(oh), int64(ow)}, Data: out}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func toImage(v []float32, c, h, w int) anime4kref.Image {
	img := anime4kref.NewImage(c, h, w)
	for i := range img.Pix {
		img.Pix[i] = float64(v[i])
	}
	return img
}

func TestEdgeModelGoldenVectors(t *testing.T) {
	m := build(t)
	s := open(t, "edge", m.edge)
	for _, cs := range modeltest.Checksums {
		if cs.Border != "edge" {
			continue
		}
		t.Run(cs.Input, func(t *testing.T) {
			in := modeltest.Input(t, cs.Input)
			got := run(t, s, in, 1, 8, 8, 16, 16)
			want := modeltest.Golden(t, "golden"+cs.Input+"-rl-edge.txt")
			if d, at := modeltest.MaxAbsDiff(t, got, want); !(d <= 1e-5) {
				t.Errorf("ORT vs Appendix: max |Δ| %g at %d", d, at)
			}
			sum := 0.0
			for _, v := range got {
				sum += float64(v)
			}
			if math.Abs(sum-cs.Sum) > 1e-4 {
				t.Errorf("ORT sum of 768 = %.6f, want %.6f", sum, cs.Sum)
			}
			for i, idx := range modeltest.SampleIndex {
				if math.Abs(float64(got[idx])-cs.Samples[i]) > 1e-5 {
					t.Errorf("ORT sample %d = %.7g, want %.7g", i, got[idx], cs.Samples[i])
				}
			}
			ref, err := m.ref.Upscale(toImage(in, 3, 8, 8), anime4kref.Edge)
			if err != nil {
				t.Fatal(err)
			}
			d, at := modeltest.MaxAbsDiff(t, got, ref.Pix)
			if !(d <= 1e-6) {
				t.Errorf("ORT vs Go reference: max |Δ| %g at %d", d, at)
			}
			t.Logf("golden %s: ORT vs reference max |Δ| = %.3g", cs.Input, d)
		})
	}
}

func randomTiles(r *rand.Rand, n, h, w int) []float32 {
	v := make([]float32, n*3*h*w)
	for i := range v {
		v[i] = r.Float32()
	}
	return v
}

// The valid tile model on a batch of haloed tiles reproduces the reference's UpscaleValid.
func TestTileModelMatchesReference(t *testing.T) {
	m := build(t)
	s := open(t, "tile", m.tile)
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{3, 16, 16}, {2, 12, 20}, {1, 1, 1}} {
		n, th, tw := sz[0], sz[1], sz[2]
		h, w := th+2*modelgen.Halo, tw+2*modelgen.Halo
		in := randomTiles(r, n, h, w)
		got := run(t, s, in, n, h, w, 2*th, 2*tw)
		worst := 0.0
		for i := 0; i < n; i++ {
			ref, err := m.ref.UpscaleValid(toImage(in[i*3*h*w:(i+1)*3*h*w], 3, h, w))
			if err != nil {
				t.Fatal(err)
			}
			d, at := modeltest.MaxAbsDiff(t, got[i*3*4*th*tw:(i+1)*3*4*th*tw], ref.Pix)
			if !(d <= 1e-6) {
				t.Errorf("tiles %dx%d, tile %d: ORT vs reference max |Δ| %g at %d", th, tw, i, d, at)
			}
			worst = math.Max(worst, d)
		}
		t.Logf("%d tiles of %d×%d: ORT vs reference max |Δ| = %.3g", n, th, tw, worst)
	}
}

// tileImage upscales a whole image through a valid tile model: tiles of th×tw with a Halo-pixel
// halo taken from the neighbours and edge-replicated at the image border, all in one batch.
func tileImage(t *testing.T, s *ortexec.Session, img anime4kref.Image, th, tw int) anime4kref.Image {
	t.Helper()
	h, w := th+2*modelgen.Halo, tw+2*modelgen.Halo
	var origins [][2]int
	for y0 := 0; y0 < img.H; y0 += th {
		for x0 := 0; x0 < img.W; x0 += tw {
			origins = append(origins, [2]int{y0, x0})
		}
	}
	in := make([]float32, 0, len(origins)*3*h*w)
	for _, o := range origins {
		win := anime4kref.Window(img, o[0]-modelgen.Halo, o[1]-modelgen.Halo, h, w)
		for _, v := range win.Pix {
			in = append(in, float32(v))
		}
	}
	out := run(t, s, in, len(origins), h, w, 2*th, 2*tw)
	res := anime4kref.NewImage(3, 2*img.H, 2*img.W)
	for i, o := range origins {
		tile := out[i*3*4*th*tw:]
		for c := 0; c < 3; c++ {
			for y := 0; y < 2*th && 2*o[0]+y < res.H; y++ {
				for x := 0; x < 2*tw && 2*o[1]+x < res.W; x++ {
					res.Pix[(c*res.H+2*o[0]+y)*res.W+2*o[1]+x] = float64(tile[(c*2*th+y)*2*tw+x])
				}
			}
		}
	}
	return res
}

// Tiling a whole image with a 4 px halo through ORT gives the reference's fixed-size-halo output.
func TestTiledImageMatchesFixedHaloReference(t *testing.T) {
	m := build(t)
	s := open(t, "tile", m.tile)
	img := toImage(randomTiles(rand.New(rand.NewPCG(9, 10)), 1, 40, 56), 3, 40, 56)
	want, err := m.ref.UpscaleFixedHalo(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range [][2]int{{16, 16}, {13, 24}} {
		got := tileImage(t, s, img, ts[0], ts[1])
		d, at := modeltest.MaxAbsDiff(t, got.Pix, want.Pix)
		if !(d <= 1e-6) {
			t.Errorf("tiles %v: tiled ORT vs fixed-halo reference max |Δ| %g at %d", ts, d, at)
		}
		t.Logf("tiles %v: tiled ORT vs fixed-halo reference max |Δ| = %.3g", ts, d)
	}
}

// The degraded twin is the bilinear base of the tile model: same contract, reference values.
func TestBilinearTwin(t *testing.T) {
	m := build(t)
	s := open(t, "bilinear", m.bilin)
	sr := open(t, "tile", m.tile)
	r := rand.New(rand.NewPCG(11, 12))
	const n, th, tw = 2, 10, 14
	h, w := th+8, tw+8
	in := randomTiles(r, n, h, w)
	got := run(t, s, in, n, h, w, 2*th, 2*tw)
	for i := 0; i < n; i++ {
		ref := anime4kref.BilinearValid(toImage(in[i*3*h*w:(i+1)*3*h*w], 3, h, w))
		if d, at := modeltest.MaxAbsDiff(t, got[i*3*4*th*tw:(i+1)*3*4*th*tw], ref.Pix); !(d <= 1e-6) {
			t.Errorf("tile %d: twin vs reference bilinear max |Δ| %g at %d", i, d, at)
		}
	}
	if d, _ := modeltest.MaxAbsDiff(t, got, run(t, sr, in, n, h, w, 2*th, 2*tw)); d < 1e-3 {
		t.Errorf("twin and SR model agree to %g; the SR residual is missing", d)
	}
	// With every weight and bias zero the SR model's residual vanishes and its output is its own
	// bilinear base (inputs are in [0,1], so Clip changes nothing): the twin must equal it bit
	// for bit.
	zw, err := modelgen.ParseAnime4KS(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range zw.Conv {
		clear(zw.Conv[i].W)
		zw.Conv[i].B = [4]float32{}
	}
	zeroModel, err := modelgen.BuildAnime4KTile(zw)
	if err != nil {
		t.Fatal(err)
	}
	base := run(t, open(t, "zero-weights", zeroModel), in, n, h, w, 2*th, 2*tw)
	if d, at := modeltest.MaxAbsDiff(t, got, base); d != 0 {
		t.Errorf("twin vs the SR model's bilinear base: max |Δ| %g at %d, want bit-identical", d, at)
	}
}

// ---- the photograph ----

func loadRGB(t *testing.T, path string) (pix []uint8, h, w int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	im, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	b := im.Bounds()
	h, w = b.Dy(), b.Dx()
	pix = make([]uint8, 3*h*w) // CHW
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(im.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			pix[(0*h+y)*w+x], pix[(1*h+y)*w+x], pix[(2*h+y)*w+x] = c.R, c.G, c.B
		}
	}
	return pix, h, w
}

func f32sha(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func psnr(a anime4kref.Image, b []float32) float64 {
	se := 0.0
	for i, v := range a.Pix {
		d := v - float64(b[i])
		se += d * d
	}
	return 10 * math.Log10(1/(se/float64(len(b))))
}

// The astronaut of research/anime4k.md §5.3 (NNRP_TEST_IMAGE, from Debian python3-skimage):
// box-downscaled 2×, then upscaled by the tiled SR model and by its bilinear twin through ORT.
func TestAstronautRoundTrip(t *testing.T) {
	path := orttest.RequireFile(t, "NNRP_TEST_IMAGE", "fetch astronaut.png from Debian python3-skimage (see the Makefile's test-image target)")
	m := build(t)
	sr := open(t, "tile", m.tile)
	bl := open(t, "bilinear", m.bilin)

	v, H, W := loadRGB(t, path)
	if H != 512 || W != 512 {
		t.Fatalf("%s is %d×%d, want the 512×512 astronaut", path, W, H)
	}
	hr := make([]float32, len(v))
	for i, x := range v {
		hr[i] = float32(float64(x) / 255)
	}
	if got := f32sha(hr); got != "3e2f11e1e966d2f795c8b2727b56fb9f3ab5a78196c904f6b27c967b8bf89646" {
		t.Fatalf("HR float32 sha256 %s differs from research/anime4k.md §5.3: not the skimage astronaut", got)
	}
	h, w := H/2, W/2
	lr := make([]float32, 3*h*w)
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				at := func(yy, xx int) int { return int(v[(c*H+yy)*W+xx]) }
				lr[(c*h+y)*w+x] = float32(float64(at(2*y, 2*x)+at(2*y, 2*x+1)+at(2*y+1, 2*x)+at(2*y+1, 2*x+1)) / 1020)
			}
		}
	}
	if got := f32sha(lr); got != "e3c620eb82af3f059e27b36bd714d36cb5c5e8191bbf54333b73bf66be6896f0" {
		t.Fatalf("box-downscaled LR sha256 %s differs from research/anime4k.md §5.3", got)
	}
	lrImg := toImage(lr, 3, h, w)
	hrImg := toImage(hr, 3, H, W)
	srOut := tileImage(t, sr, lrImg, 64, 64)
	blOut := tileImage(t, bl, lrImg, 64, 64)
	toF32 := func(im anime4kref.Image) []float32 {
		o := make([]float32, len(im.Pix))
		for i, x := range im.Pix {
			o[i] = float32(x)
		}
		return o
	}
	pSR, pBL := psnr(hrImg, toF32(srOut)), psnr(hrImg, toF32(blOut))
	t.Logf("astronaut 256→512: Anime4K S rl (tiled 64×64, halo 4) %.4f dB, bilinear %.4f dB (+%.2f dB)", pSR, pBL, pSR-pBL)
	if math.Abs(pBL-29.1276) > 1e-3 {
		t.Errorf("bilinear PSNR %.4f dB, research/anime4k.md §5.3 measured 29.1276 dB", pBL)
	}
	if !(pSR > pBL+1.0) {
		t.Errorf("the SR model (%.4f dB) does not beat bilinear (%.4f dB) by 1 dB", pSR, pBL)
	}
	ref, err := m.ref.UpscaleFixedHalo(lrImg)
	if err != nil {
		t.Fatal(err)
	}
	d, at := modeltest.MaxAbsDiff(t, srOut.Pix, ref.Pix)
	if !(d <= 1e-6) {
		t.Errorf("tiled ORT vs reference on the astronaut: max |Δ| %g at %d", d, at)
	}
	t.Logf("tiled ORT vs fixed-halo reference: max |Δ| = %.3g", d)
}
