package anime4kref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
)

func parse(t *testing.T) *Net {
	t.Helper()
	n, err := Parse(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func golden(t *testing.T, name string) Image {
	t.Helper()
	v := modeltest.Input(t, name)
	img := NewImage(3, 8, 8)
	for i, x := range v {
		img.Pix[i] = float64(x)
	}
	return img
}

// The reference against research/anime4k.md: the Appendix blocks (to 1e-6; they are printed with
// 7 significant digits) and the checksum table, for both border policies.
func TestGoldenVectors(t *testing.T) {
	n := parse(t)
	for _, cs := range modeltest.Checksums {
		t.Run(cs.Input+"-"+cs.Border, func(t *testing.T) {
			b := Edge
			if cs.Border == "zero" {
				b = Zero
			}
			out, err := n.Upscale(golden(t, cs.Input), b)
			if err != nil {
				t.Fatal(err)
			}
			if out.C != 3 || out.H != 16 || out.W != 16 {
				t.Fatalf("output is %d×%d×%d, want 3×16×16", out.C, out.H, out.W)
			}
			want := modeltest.Golden(t, "golden"+cs.Input+"-rl-"+cs.Border+".txt")
			if d, at := modeltest.MaxAbsDiff(t, out.Pix, want); !(d <= 1e-6) {
				t.Errorf("max |Δ| against the Appendix block = %g at %d (got %.7g, want %.7g)", d, at, out.Pix[at], want[at])
			}
			sum := 0.0
			for _, v := range out.Pix {
				sum += v
			}
			if math.Abs(sum-cs.Sum) > 1e-5 {
				t.Errorf("sum of 768 = %.6f, want %.6f", sum, cs.Sum)
			}
			for i, idx := range modeltest.SampleIndex {
				if math.Abs(out.Pix[idx]-cs.Samples[i]) > 1e-6 {
					t.Errorf("sample %d (index %d) = %.7g, want %.7g", i, idx, out.Pix[idx], cs.Samples[i])
				}
			}
		})
	}
}

// Intermediate values of research/anime4k.md §5.2 (rl, edge, golden A), which localise a layout
// bug to a layer.
func TestIntermediateValues(t *testing.T) {
	n := parse(t)
	img := golden(t, "A")
	f := fmap{h: 8, w: 8, v: make([]float64, 8*8*4)}
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			for c := 0; c < 3; c++ {
				f.v[(y*8+x)*4+c] = img.At(c, y, x)
			}
			f.v[(y*8+x)*4+3] = 1
		}
	}
	type probe struct {
		layer, y, x int
		want        [4]float64
	}
	probes := []probe{
		{0, 0, 0, [4]float64{-0.05804215, -0.1287707, 0.1565124, 0.05906865}},
		{0, 3, 5, [4]float64{-0.08253995, -0.2985531, 0.1508507, 0.08841644}},
		{1, 3, 5, [4]float64{0.04813044, -0.05316779, 0.00100568, -0.03084244}},
		{2, 3, 5, [4]float64{-0.03772887, 0.008761966, 0.03849906, -0.01782075}},
		{3, 3, 5, [4]float64{-0.0006952728, -0.0007642676, -0.0005050692, -0.000516237}},
	}
	var maps [4]fmap
	for i := range n.layers {
		f = n.layers[i].conv(f, i == 0, false, Edge)
		maps[i] = f
	}
	for _, p := range probes {
		got := maps[p.layer].v[(p.y*8+p.x)*4 : (p.y*8+p.x)*4+4]
		for o := range 4 {
			if math.Abs(got[o]-p.want[o]) > 1e-7 {
				t.Errorf("layer %d at (%d,%d) channel %d = %.7g, want %.7g", p.layer, p.y, p.x, o, got[o], p.want[o])
			}
		}
	}
	up := Bilinear2x(img)
	if got := up.At(0, 7, 10); math.Abs(got-0.1601563) > 1e-7 {
		t.Errorf("bilinear R at HR (7,10) = %.7g, want 0.1601563", got)
	}
}

func randomImage(r *rand.Rand, h, w int) Image {
	img := NewImage(3, h, w)
	for i := range img.Pix {
		img.Pix[i] = float64(float32(r.Float64()))
	}
	return img
}

// Tiling with a 4 px halo (edge-replicated windows) reproduces UpscaleFixedHalo exactly, for tile
// sizes that do and do not divide the image.
func TestTilesReproduceFixedHalo(t *testing.T) {
	n := parse(t)
	r := rand.New(rand.NewPCG(1, 2))
	img := randomImage(r, 21, 30)
	want, err := n.UpscaleFixedHalo(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range [][2]int{{8, 8}, {7, 11}, {21, 30}, {1, 1}} {
		th, tw := ts[0], ts[1]
		got := NewImage(3, 2*img.H, 2*img.W)
		for y0 := 0; y0 < img.H; y0 += th {
			for x0 := 0; x0 < img.W; x0 += tw {
				out, err := n.UpscaleValid(Window(img, y0-Halo, x0-Halo, th+2*Halo, tw+2*Halo))
				if err != nil {
					t.Fatal(err)
				}
				for c := 0; c < 3; c++ {
					for y := 0; y < out.H && 2*y0+y < got.H; y++ {
						for x := 0; x < out.W && 2*x0+x < got.W; x++ {
							got.set(c, 2*y0+y, 2*x0+x, out.At(c, y, x))
						}
					}
				}
			}
		}
		if d, at := modeltest.MaxAbsDiff(t, got.Pix, want.Pix); d != 0 {
			t.Errorf("tiles %d×%d: max |Δ| = %g at %d, want exactly 0", th, tw, d, at)
		}
	}
}

// The fixed-size-halo policy equals whole-image Edge except in the outer 8 HR pixels, and does
// differ there (otherwise the border-policy documentation would be wrong).
func TestFixedHaloVersusEdge(t *testing.T) {
	n := parse(t)
	img := randomImage(rand.New(rand.NewPCG(3, 4)), 24, 24)
	fixed, err := n.UpscaleFixedHalo(img)
	if err != nil {
		t.Fatal(err)
	}
	edge, err := n.Upscale(img, Edge)
	if err != nil {
		t.Fatal(err)
	}
	ring := 0.0
	for c := 0; c < 3; c++ {
		for y := 0; y < 48; y++ {
			for x := 0; x < 48; x++ {
				d := math.Abs(fixed.At(c, y, x) - edge.At(c, y, x))
				inRing := y < 8 || x < 8 || y >= 40 || x >= 40
				if !inRing && d != 0 {
					t.Fatalf("(%d,%d,%d) differs by %g inside the image; the policies must agree there", c, y, x, d)
				}
				if inRing {
					ring = math.Max(ring, d)
				}
			}
		}
	}
	if ring == 0 {
		t.Fatal("fixed-halo and edge outputs agree in the border ring too; the reference no longer distinguishes the policies")
	}
}

func TestBadInputs(t *testing.T) {
	n := parse(t)
	if _, err := n.UpscaleValid(NewImage(3, 8, 20)); err == nil {
		t.Error("UpscaleValid accepted an 8-row tile; it needs at least 9 (halo 4 + 1)")
	}
	if _, err := n.Upscale(NewImage(4, 8, 8), Edge); err == nil {
		t.Error("Upscale accepted a 4-channel image")
	}
	if _, err := n.Upscale(Image{C: 3, H: 2, W: 2, Pix: make([]float64, 5)}, Edge); err == nil {
		t.Error("Upscale accepted an image whose Pix is too short")
	}
	for _, bad := range []string{`{`, `{"name":"anime4k/cnn-2x-m","layers":{}}`, `{"name":"anime4k/cnn-2x-s","layers":{}}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) succeeded", bad)
		}
	}
}
