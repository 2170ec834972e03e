package backend

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEchoReturnsTheTileWithoutHalo(t *testing.T) {
	spec := Spec{Inputs: []Tensor{{"a", 2}, {"b", 1}}, Outputs: []Tensor{{"x", 2}, {"y", 1}}, Halo: 1, Scale: 1}
	e, err := NewEcho(spec)
	if err != nil {
		t.Fatal(err)
	}
	const n, th, tw = 2, 3, 4
	b := &Batch{N: n, TileH: th, TileW: tw}
	for i := range spec.Inputs {
		in := make([]float32, n*spec.InputSlot(i, th, tw))
		for k := range in {
			in[k] = float32(1000*i + k)
		}
		b.Inputs = append(b.Inputs, in)
		b.Outputs = append(b.Outputs, make([]float32, n*spec.OutputSlot(i, th, tw)))
	}
	if err := e.Run(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for i, tns := range spec.Inputs {
		hs, ws := th+2, tw+2
		for s := range n {
			for c := range tns.Channels {
				for y := range th {
					for x := range tw {
						got := b.Outputs[i][((s*tns.Channels+c)*th+y)*tw+x]
						want := b.Inputs[i][((s*tns.Channels+c)*hs+y+1)*ws+x+1]
						if got != want {
							t.Fatalf("input %d slot %d (%d,%d,%d) = %v, want %v", i, s, c, y, x, got, want)
						}
					}
				}
			}
		}
	}
	if info := e.Info(); info.Kind != KindEcho || info.Provider != "go" {
		t.Fatalf("info %+v", info)
	}
	b.Inputs[1] = b.Inputs[1][:5]
	if err := e.Run(context.Background(), b); !errors.Is(err, ErrBatch) || !strings.Contains(err.Error(), `input "b" holds 5 values`) {
		t.Fatalf("short input: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background(), b); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := e.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestEchoSpecAndBatchChecks(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Inputs: []Tensor{{"a", 3}}, Outputs: []Tensor{{"x", 3}}, Scale: 2}, "scale must be 1"},
		{Spec{Inputs: []Tensor{{"a", 3}}, Outputs: []Tensor{{"x", 3}, {"y", 3}}, Scale: 1}, "1 inputs but 2 outputs"},
		{Spec{Inputs: []Tensor{{"a", 3}}, Outputs: []Tensor{{"x", 1}}, Scale: 1}, `input "a" has 3 channels, output "x" has 1`},
		{Spec{Inputs: []Tensor{{"a", 3}}, Outputs: []Tensor{{"x", 3}}, Scale: 1, Halo: -1}, "halo -1 is negative"},
	} {
		if _, err := NewEcho(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.spec, err, c.want)
		}
	}
	spec := Spec{Inputs: []Tensor{{"a", 1}}, Outputs: []Tensor{{"x", 1}}, Scale: 2, Halo: 1}
	for _, c := range []struct {
		b    Batch
		want string
	}{
		{Batch{N: 0, TileH: 1, TileW: 1}, "0 slots"},
		{Batch{N: 1, TileH: 2, TileW: 2, Inputs: [][]float32{make([]float32, 16)}}, "1 inputs and 0 outputs given"},
		{Batch{N: 1, TileH: 2, TileW: 2, Inputs: [][]float32{make([]float32, 16)}, Outputs: [][]float32{make([]float32, 15)}},
			`output "x" holds 15 values, 1 slots of 2×2 tiles at scale 2 need 16`},
	} {
		if err := spec.Check(&c.b); !errors.Is(err, ErrBatch) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.b, err, c.want)
		}
	}
}
