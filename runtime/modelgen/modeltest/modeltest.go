// Package modeltest holds the test fixtures of the Anime4K models shared by the tests of
// runtime/modelgen, its reference implementation and runtime/ortexec: the pinned weights, the golden
// inputs A and B and the golden outputs of research/anime4k.md §5 and Appendix.
package modeltest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// WeightsSHA256 is the sha256 of testdata/cnn-2x-s-rl.json (@websr/websr@0.0.15).
const WeightsSHA256 = "28f9853f8a4640dbc2bef0617e8dc5929590f46c16c5a5fd50a9de2502f8724b"

// TestdataDir returns the absolute path of runtime/modelgen/testdata.
func TestdataDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("modeltest: cannot locate its own source file to find runtime/modelgen/testdata")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// Weights returns the pinned cnn-2x-s-rl weights JSON after checking its sha256.
func Weights(t testing.TB) []byte {
	t.Helper()
	p := filepath.Join(TestdataDir(t), "cnn-2x-s-rl.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read weights: %v", err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != WeightsSHA256 {
		t.Fatalf("%s has sha256 %s, want %s; restore it from @websr/websr@0.0.15", p, got, WeightsSHA256)
	}
	return b
}

// InputA is golden input A (3×8×8, CHW): x[c][y][x] = float32((64c + 8y + x) / 192).
func InputA() []float32 {
	v := make([]float32, 3*8*8)
	for i := range v {
		v[i] = float32(float64(i) / 192)
	}
	return v
}

// InputB is golden input B (3×8×8, CHW): x[c][y][x] = ((5x + 3y² + 7c + xy) mod 17) / 16.
func InputB() []float32 {
	v := make([]float32, 3*8*8)
	for c := 0; c < 3; c++ {
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				v[(c*8+y)*8+x] = float32((5*x+3*y*y+7*c+x*y)%17) / 16
			}
		}
	}
	return v
}

// Golden reads an Appendix block (e.g. "goldenA-rl-edge.txt"): 768 values, CHW 3×16×16.
func Golden(t testing.TB, name string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(TestdataDir(t), name))
	if err != nil {
		t.Fatalf("read golden block: %v", err)
	}
	var out []float64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 16 {
			t.Fatalf("%s: row %q has %d values, want 16", name, line, len(f))
		}
		for _, s := range f {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, v)
		}
	}
	if len(out) != 768 {
		t.Fatalf("%s has %d values, want 768", name, len(out))
	}
	return out
}

// Checksum is one row of the checksum table of research/anime4k.md §5.2 (rl weights).
type Checksum struct {
	Input   string     // "A" or "B"
	Border  string     // "edge" or "zero"
	Sum     float64    // sum of the 768 outputs
	Samples [4]float64 // out[0,0,0], out[0,7,10], out[1,8,3], out[2,15,15]
}

// SampleIndex are the CHW indices (3×16×16) of Checksum.Samples.
var SampleIndex = [4]int{0, 7*16 + 10, 256 + 8*16 + 3, 512 + 15*16 + 15}

// Checksums are the rl rows of the table.
var Checksums = []Checksum{
	{"A", "edge", 381.653613, [4]float64{0, 0.1596512, 0.4951205, 0.9954764}},
	{"A", "zero", 382.020646, [4]float64{0, 0.1584803, 0.4951427, 0.9877634}},
	{"B", "edge", 389.769486, [4]float64{0, 0.8622069, 0.769362, 0.4149973}},
	{"B", "zero", 388.062041, [4]float64{0, 0.8674268, 0.7604168, 0.3717576}},
}

// Input returns golden input "A" or "B".
func Input(t testing.TB, name string) []float32 {
	switch name {
	case "A":
		return InputA()
	case "B":
		return InputB()
	}
	t.Fatalf("no golden input %q", name)
	return nil
}

// MaxAbsDiff returns max |a[i] − b[i]| and its index; it fails the test if the lengths differ.
func MaxAbsDiff[A, B float32 | float64](t testing.TB, a []A, b []B) (float64, int) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("comparing %d values with %d", len(a), len(b))
	}
	m, at := 0.0, -1
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if d < 0 {
			d = -d
		}
		if d > m || d != d {
			m, at = d, i
		}
	}
	return m, at
}
