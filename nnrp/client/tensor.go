package client

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Image is a plain float32 image or feature map in NCHW order with N = 1:
// Data[c*Height*Width + y*Width + x].
type Image struct {
	Channels, Height, Width int
	Data                    []float32
}

// TensorFrame cuts img into tileW × tileH tiles (row-major tile order, tile
// ids 0…n−1, DENSE_RANGE) and returns a frame with one float32 NCHW section
// of the given role. Tiles that cross the right or bottom edge are filled by
// repeating the last column/row, so every tile has the same element count.
// Set budgets and policies on the returned frame's Meta.
func TensorFrame(img Image, tileW, tileH int, role uint16) (*Frame, error) {
	if img.Channels <= 0 || img.Width <= 0 || img.Height <= 0 || tileW <= 0 || tileH <= 0 {
		return nil, fmt.Errorf("client: bad geometry %dx%dx%d, tile %dx%d", img.Channels, img.Height, img.Width, tileH, tileW)
	}
	if len(img.Data) != img.Channels*img.Height*img.Width {
		return nil, fmt.Errorf("client: image has %d values, want %d×%d×%d", len(img.Data), img.Channels, img.Height, img.Width)
	}
	if img.Width > 0xFFFF || img.Height > 0xFFFF || tileW > 0xFFFF || tileH > 0xFFFF {
		return nil, fmt.Errorf("client: dimensions exceed 65535")
	}
	cols, rows := (img.Width+tileW-1)/tileW, (img.Height+tileH-1)/tileH
	n := cols * rows
	if n > 0xFFFF {
		return nil, fmt.Errorf("client: %d tiles exceed 65535", n)
	}
	per := img.Channels * tileH * tileW
	payload := make([]byte, n*per*4)
	tiles := make([][]byte, n)
	for ty := 0; ty < rows; ty++ {
		for tx := 0; tx < cols; tx++ {
			i := ty*cols + tx
			t := payload[i*per*4 : (i+1)*per*4]
			tiles[i] = t
			o := 0
			for c := 0; c < img.Channels; c++ {
				for y := 0; y < tileH; y++ {
					sy := min(ty*tileH+y, img.Height-1)
					for x := 0; x < tileW; x++ {
						sx := min(tx*tileW+x, img.Width-1)
						v := img.Data[(c*img.Height+sy)*img.Width+sx]
						binary.LittleEndian.PutUint32(t[o:], math.Float32bits(v))
						o += 4
					}
				}
			}
		}
	}
	f := &Frame{
		Meta: wire.FrameSubmit{
			SrcWidth: uint16(img.Width), SrcHeight: uint16(img.Height),
			TileWidth: uint16(tileW), TileHeight: uint16(tileH),
			LossTolerance: wire.LossToleranceInheritSession,
		},
		Tiles: wire.TileRange(0, n),
		Sections: []wire.SectionData{{
			RoleID: role, DTypeID: wire.DTypeFloat32, LayoutID: wire.LayoutNCHW,
			ElementCountPerTile: uint32(per), Tiles: tiles,
		}},
	}
	return f, nil
}

// Float32s decodes a little-endian float32 tile payload.
func Float32s(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("client: %d bytes is not a whole number of float32", len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}
