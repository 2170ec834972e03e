package serve

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testFrame is a C×H×W frame cut into tiles as a client sends them, with the tiles' bytes.
type testFrame struct {
	c, h, w, th, tw int
	pix             []float32 // [c][y][x]
	present         []bool    // by tile id
}

func (f *testFrame) at(c, y, x int) float32 { return f.pix[(c*f.h+y)*f.w+x] }

// plan builds the Plan the server would: tiles in a shuffled order; pixels of a tile beyond the
// frame hold garbage (−7) that the gather must never read.
func (f *testFrame) plan(rng *rand.Rand, halo int) *Plan {
	cols, rows := (f.w+f.tw-1)/f.tw, (f.h+f.th-1)/f.th
	p := &Plan{tw: f.tw, th: f.th, halo: halo, scale: 1, srcW: f.w, srcH: f.h, cols: cols, rows: rows,
		grid: make([]int32, cols*rows), in: make([][][]byte, 1), inCh: []int{f.c}}
	for i := range p.grid {
		p.grid[i] = -1
	}
	order := rng.Perm(cols * rows)
	for _, id := range order {
		if !f.present[id] {
			continue
		}
		ty, tx := id/cols, id%cols
		b := make([]byte, 4*f.c*f.th*f.tw)
		for c := range f.c {
			for y := range f.th {
				for x := range f.tw {
					v := float32(-7)
					if fy, fx := ty*f.th+y, tx*f.tw+x; fy < f.h && fx < f.w {
						v = f.at(c, fy, fx)
					}
					binary.LittleEndian.PutUint32(b[4*((c*f.th+y)*f.tw+x):], math.Float32bits(v))
				}
			}
		}
		p.grid[id] = int32(len(p.ids))
		p.ids = append(p.ids, uint16(id))
		p.in[0] = append(p.in[0], b)
	}
	p.n = len(p.ids)
	return p
}

// reference is the gather's definition, pixel by pixel.
func (f *testFrame) reference(id, halo int) []float32 {
	cols := (f.w + f.tw - 1) / f.tw
	hs, ws := f.th+2*halo, f.tw+2*halo
	oy, ox := (id/cols)*f.th, (id%cols)*f.tw
	clamp := func(v, lo, hi int) int { return min(max(v, lo), hi) }
	out := make([]float32, f.c*hs*ws)
	for c := range f.c {
		for r := range hs {
			for k := range ws {
				fy, fx := clamp(oy-halo+r, 0, f.h-1), clamp(ox-halo+k, 0, f.w-1)
				if !f.present[(fy/f.th)*cols+fx/f.tw] {
					fy, fx = clamp(fy, oy, min(oy+f.th, f.h)-1), clamp(fx, ox, min(ox+f.tw, f.w)-1)
				}
				out[(c*hs+r)*ws+k] = f.at(c, fy, fx)
			}
		}
	}
	return out
}

func newTestFrame(rng *rand.Rand, c, h, w, th, tw int, missing float64) *testFrame {
	f := &testFrame{c: c, h: h, w: w, th: th, tw: tw, pix: make([]float32, c*h*w)}
	for i := range f.pix {
		f.pix[i] = float32(i) / float32(len(f.pix)) // distinct values: any misplaced pixel shows
	}
	n := ((w + tw - 1) / tw) * ((h + th - 1) / th)
	f.present = make([]bool, n)
	for i := range f.present {
		f.present[i] = rng.Float64() >= missing
	}
	return f
}

func TestGatherMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		ch, h, w, th, tw, halo int
		missing                float64
	}{
		{3, 64, 64, 16, 16, 4, 0},     // exact grid
		{3, 37, 23, 8, 8, 4, 0},       // partial border tiles
		{1, 40, 50, 16, 8, 3, 0},      // non-square tiles
		{3, 37, 23, 8, 8, 4, 0.3},     // tiles missing: their halo comes from the tile itself
		{2, 30, 30, 8, 8, 0, 0},       // no halo
		{1, 5, 7, 8, 8, 4, 0},         // one tile larger than the frame
		{1, 40, 40, 4, 4, 9, 0},       // halo wider than a tile: neighbours' neighbours
		{3, 129, 200, 64, 64, 4, 0.5}, // the SR geometry
	} {
		t.Run(fmt.Sprintf("%dx%dx%d/%dx%d/h%d/miss%.1f", c.ch, c.h, c.w, c.th, c.tw, c.halo, c.missing), func(t *testing.T) {
			f := newTestFrame(rng, c.ch, c.h, c.w, c.th, c.tw, c.missing)
			p := f.plan(rng, c.halo)
			dst := make([]float32, p.SlotLen(0)+1)
			for pos, id := range p.ids {
				dst[len(dst)-1] = 42 // the slot's end must not be overrun
				p.Gather(dst[:p.SlotLen(0)], 0, pos)
				want := f.reference(int(id), c.halo)
				for k := range want {
					if dst[k] != want[k] {
						t.Fatalf("tile %d value %d = %v, want %v", id, k, dst[k], want[k])
					}
				}
				if dst[len(dst)-1] != 42 {
					t.Fatal("Gather wrote past the slot")
				}
			}
		})
	}
}

// BenchmarkGatherFrame measures gathering a 512×512 RGB frame in 64×64 tiles with a 4-pixel halo
// into staging (64 slots of 3×72×72).
func BenchmarkGatherFrame(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := newTestFrame(rng, 3, 512, 512, 64, 64, 0)
	p := f.plan(rng, 4)
	dst := make([]float32, p.n*p.SlotLen(0))
	b.SetBytes(int64(4 * len(f.pix)))
	b.ReportAllocs()
	for b.Loop() {
		for pos := range p.n {
			p.Gather(dst[pos*p.SlotLen(0):(pos+1)*p.SlotLen(0)], 0, pos)
		}
	}
}
