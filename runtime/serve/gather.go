package serve

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// segment is a run of slot columns read from one source tile column: either n consecutive source
// pixels starting at column sx, or (replicate) n copies of pixel sx, for slot columns beyond the
// frame's left or right edge.
type segment struct {
	dx, n     int // slot columns [dx, dx+n)
	col       int // grid column of the source tile
	sx        int // first source column inside that tile
	replicate bool
}

// segments splits the slot columns [x0, x0+ws) of frame coordinates into runs by source tile,
// clamping coordinates outside the frame to its edge.
func (p *Plan) segments(x0, ws int, dst []segment) []segment {
	x, dx := x0, 0
	if x < 0 {
		n := min(-x, ws)
		dst = append(dst, segment{dx: 0, n: n, col: 0, sx: 0, replicate: true})
		dx, x = n, x+n
	}
	for dx < ws && x < p.srcW {
		col := x / p.tw
		sx := x - col*p.tw
		n := min(p.tw-sx, ws-dx, p.srcW-x)
		dst = append(dst, segment{dx: dx, n: n, col: col, sx: sx})
		dx, x = dx+n, x+n
	}
	if dx < ws {
		fx := p.srcW - 1
		col := fx / p.tw
		dst = append(dst, segment{dx: dx, n: ws - dx, col: col, sx: fx - col*p.tw, replicate: true})
	}
	return dst
}

// SlotLen returns the float32 count of one staging slot of input i: C × (th+2·halo) × (tw+2·halo).
func (p *Plan) SlotLen(i int) int {
	return p.inCh[i] * (p.th + 2*p.halo) * (p.tw + 2*p.halo)
}

// Gather copies the tile at position pos of input i into a staging slot dst (SlotLen(i) values,
// NCHW): the tile with a halo of Halo pixels on every side taken from the neighbouring tiles of the
// same frame. Pixels outside the frame (beyond src_width × src_height, including a border tile's
// own padding) are the nearest frame pixel (edge replication); a halo pixel whose tile the frame
// does not carry is the nearest pixel of the tile itself. Each source byte is copied once, with a
// memmove per row run.
func (p *Plan) Gather(dst []float32, i, pos int) {
	h, th, tw := p.halo, p.th, p.tw
	hs, ws := th+2*h, tw+2*h
	c := p.inCh[i]
	dst = dst[:c*hs*ws]
	id := int(p.ids[pos])
	ty, tx := id/p.cols, id%p.cols
	y0, x0 := ty*th-h, tx*tw-h
	var buf [8]segment
	segs := p.segments(x0, ws, buf[:0])
	tiles := p.in[i]
	dstB := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst))
	for r := range hs {
		fy := min(max(y0+r, 0), p.srcH-1)
		sty := fy / th
		ry := fy - sty*th
		for _, sg := range segs {
			src := p.grid[sty*p.cols+sg.col]
			if src < 0 {
				p.gatherMissing(dst, i, pos, r, fy, x0, sg)
				continue
			}
			tile := tiles[src]
			for ch := range c {
				s := ((ch*th+ry)*tw + sg.sx) * 4
				d := (ch*hs+r)*ws + sg.dx
				switch {
				case sg.replicate:
					v := math.Float32frombits(binary.LittleEndian.Uint32(tile[s:]))
					row := dst[d : d+sg.n]
					for k := range row {
						row[k] = v
					}
				case nativeLittleEndian:
					copy(dstB[4*d:4*(d+sg.n)], tile[s:s+4*sg.n])
				default:
					for k := range sg.n {
						dst[d+k] = math.Float32frombits(binary.LittleEndian.Uint32(tile[s+4*k:]))
					}
				}
			}
		}
	}
}

// gatherMissing fills slot row r, columns of sg, whose source tile the frame lacks, from the
// nearest pixels of the tile at position pos itself.
func (p *Plan) gatherMissing(dst []float32, i, pos, r, fy, x0 int, sg segment) {
	h, th, tw := p.halo, p.th, p.tw
	hs, ws := th+2*h, tw+2*h
	id := int(p.ids[pos])
	oy, ox := (id/p.cols)*th, (id%p.cols)*tw
	ry := min(max(fy, oy), min(oy+th, p.srcH)-1) - oy
	xMax := min(ox+tw, p.srcW) - 1
	tile := p.in[i][pos]
	for ch := range p.inCh[i] {
		d := (ch*hs+r)*ws + sg.dx
		for k := range sg.n {
			fx := min(max(x0+sg.dx+k, 0), p.srcW-1)
			rx := min(max(fx, ox), xMax) - ox
			s := ((ch*th+ry)*tw + rx) * 4
			dst[d+k] = math.Float32frombits(binary.LittleEndian.Uint32(tile[s:]))
		}
	}
}
