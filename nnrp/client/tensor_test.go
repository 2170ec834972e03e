package client

import (
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

func TestTensorFrameTilesAndEdges(t *testing.T) {
	// 2 channels, 3×5 image, 2×2 tiles → 3 columns × 2 rows; the last column
	// and row repeat the image edge.
	img := Image{Channels: 2, Height: 3, Width: 5, Data: make([]float32, 2*3*5)}
	for i := range img.Data {
		img.Data[i] = float32(i)
	}
	f, err := TensorFrame(img, 2, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if f.Tiles.Len() != 6 || f.Sections[0].RoleID != 7 || f.Sections[0].ElementCountPerTile != 8 {
		t.Fatalf("tiles %d section %+v", f.Tiles.Len(), f.Sections[0])
	}
	at := func(c, y, x int) float32 { return img.Data[(c*3+y)*5+x] }
	for ty := 0; ty < 2; ty++ {
		for tx := 0; tx < 3; tx++ {
			vals, err := Float32s(f.Sections[0].Tiles[ty*3+tx])
			if err != nil {
				t.Fatal(err)
			}
			for c := 0; c < 2; c++ {
				for y := 0; y < 2; y++ {
					for x := 0; x < 2; x++ {
						want := at(c, min(ty*2+y, 2), min(tx*2+x, 4))
						if got := vals[(c*2+y)*2+x]; got != want {
							t.Fatalf("tile (%d,%d) c%d y%d x%d = %v, want %v", ty, tx, c, y, x, got, want)
						}
					}
				}
			}
		}
	}
	// The frame encodes and decodes.
	b := wire.SubmitBuilder{Header: wire.Header{SessionID: 1, FrameID: 1}, Meta: f.Meta, Tiles: f.Tiles, Sections: f.Sections}
	b.Meta.OperationID = 1
	pkt, err := b.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := wire.ParsePacket(pkt, 0)
	if err != nil {
		t.Fatal(err)
	}
	var v wire.SubmitView
	if err := v.Decode(&p, wire.Limits{}); err != nil {
		t.Fatal(err)
	}
	if v.SectionCount() != 1 || v.Tiles().Len() != 6 {
		t.Fatalf("decoded %d sections, %d tiles", v.SectionCount(), v.Tiles().Len())
	}
}

func TestTensorFrameRejects(t *testing.T) {
	for _, img := range []Image{
		{Channels: 0, Height: 2, Width: 2},
		{Channels: 1, Height: 2, Width: 2, Data: make([]float32, 3)},
		{Channels: 1, Height: 1, Width: 70000, Data: make([]float32, 70000)},
	} {
		if _, err := TensorFrame(img, 1, 1, 1); err == nil {
			t.Errorf("%+v accepted", img.Channels)
		}
	}
	if _, err := Float32s([]byte{1, 2, 3}); err == nil {
		t.Error("3 bytes decoded as float32")
	}
}
