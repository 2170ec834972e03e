package serve

import (
	"encoding/binary"
	"fmt"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

// MismatchError says why a frame does not fit its session's model. Its text is the diagnostic of
// the RESULT_DROP_REASON (capability_mismatch) the frame is answered with.
type MismatchError struct {
	Model string
	Msg   string
}

func (e *MismatchError) Error() string { return fmt.Sprintf("model %q: %s", e.Model, e.Msg) }

// resultOverhead bounds the RESULT_PUSH bytes besides the tile payloads: header, metadata, prelude,
// inline object headers and padding (the tables are counted per tile).
const resultOverhead = 4096

// Plan is a frame checked against a model's contract: the frame's tile grid and, for each model
// input, the bytes of each tile in the receive buffer. It aliases the Submit's view: it is valid
// while the receive buffer is (see server.Submit).
type Plan struct {
	model   string
	tw, th  int // tile size
	halo    int
	scale   int
	srcW    int
	srcH    int
	cols    int
	rows    int
	n       int
	tiles   wire.TileSpec // the result's tile ids (DENSE_RANGE or RAW_U16)
	ids     []uint16      // tile id at each position (frame order)
	grid    []int32       // grid cell (row·cols + col) → position, −1 when the frame lacks that tile
	in      [][][]byte    // [input][position] → tile bytes (little-endian float32 NCHW)
	inCh    []int
	outCh   []int
	outRole []uint16
}

// Tiles returns the number of tiles.
func (p *Plan) Tiles() int { return p.n }

// TileSize returns the tile size as the config writes it.
func (p *Plan) TileSize() repo.TileSize { return repo.TileSize{W: p.tw, H: p.th} }

// PlanFrame checks sub against the model's contract and returns its plan, or a *MismatchError
// naming the first mismatch: no tensor body, tile size, frame geometry, tile ids, section roles,
// dtype, layout, codec, element count, tile byte length, result size.
func PlanFrame(m *repo.Model, sub *server.Submit) (*Plan, error) {
	cfg := m.Config()
	bad := func(format string, args ...any) (*Plan, error) {
		return nil, &MismatchError{Model: m.Name(), Msg: fmt.Sprintf(format, args...)}
	}
	contract := func() string {
		s := ""
		for i, t := range cfg.Inputs {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("role %d (%d channels)", t.Role, t.Channels)
		}
		return s
	}
	if !cfg.Tensors() {
		return bad("the model declares no tensor contract")
	}
	meta := &sub.Meta
	if !sub.HasView || sub.View.Form() == wire.BodyFormOpaque || !meta.IsTensor() {
		return bad("the frame carries no tensor sections; the model takes float32 NCHW tiles of %s", contract())
	}
	v := &sub.View
	if v.Pending() != 0 {
		return bad("the frame references objects that were not resolved")
	}
	tw, th := int(meta.TileWidth), int(meta.TileHeight)
	if !cfg.AcceptsTile(tw, th) {
		return bad("tile size %dx%d is not accepted; accepted: %s", tw, th, cfg.TileList())
	}
	srcW, srcH := int(meta.SrcWidth), int(meta.SrcHeight)
	if srcW < 1 || srcH < 1 {
		return bad("the frame is %dx%d; src_width and src_height must be ≥ 1", srcW, srcH)
	}
	p := &Plan{model: m.Name(), tw: tw, th: th, halo: cfg.Halo, scale: cfg.Scale, srcW: srcW, srcH: srcH,
		cols: (srcW + tw - 1) / tw, rows: (srcH + th - 1) / th}
	tiles := v.Tiles()
	p.n = tiles.Len()
	if p.cols*p.rows > 0xFFFF+1 {
		return bad("a %dx%d frame in %dx%d tiles has %d tiles, more than tile ids can number", srcW, srcH, tw, th, p.cols*p.rows)
	}
	p.grid = make([]int32, p.cols*p.rows)
	for i := range p.grid {
		p.grid[i] = -1
	}
	p.ids = make([]uint16, 0, p.n)
	it := tiles.Iter()
	for id, ok := it.Next(); ok; id, ok = it.Next() {
		if int(id) >= len(p.grid) {
			return bad("tile id %d is outside the %dx%d grid of a %dx%d frame in %dx%d tiles (ids 0..%d)",
				id, p.cols, p.rows, srcW, srcH, tw, th, len(p.grid)-1)
		}
		if p.grid[id] >= 0 {
			return bad("tile id %d appears twice", id)
		}
		p.grid[id] = int32(len(p.ids))
		p.ids = append(p.ids, id)
	}
	if tiles.Mode() == wire.TileIndexDenseRange {
		p.tiles = wire.TileRange(tiles.Base(), p.n)
	} else {
		p.tiles = wire.TileList(wire.TileIndexRawU16, p.ids)
	}

	if got, want := v.SectionCount(), len(cfg.Inputs); got != want {
		roles := ""
		for i := range got {
			roles += fmt.Sprintf(" %d", v.Section(i).Desc.RoleID)
		}
		return bad("the frame has %d tensor sections (roles:%s); the model takes %d: %s", got, roles, want, contract())
	}
	p.in = make([][][]byte, len(cfg.Inputs))
	p.inCh = make([]int, len(cfg.Inputs))
	for i, t := range cfg.Inputs {
		var sec *wire.TensorSection
		for k := range v.SectionCount() {
			if s := v.Section(k); int(s.Desc.RoleID) == t.Role {
				sec = s
			}
		}
		if sec == nil {
			return bad("the frame has no section with role %d (model input %q); the model takes %s", t.Role, t.Name, contract())
		}
		d := &sec.Desc
		switch {
		case d.DTypeID != wire.DTypeFloat32:
			return bad("section role %d has dtype %d; the model takes float32 (dtype 1)", t.Role, d.DTypeID)
		case d.LayoutID != wire.LayoutNCHW:
			return bad("section role %d has layout %d; the model takes NCHW (layout 1)", t.Role, d.LayoutID)
		case d.CodecID != wire.CodecRaw || d.Flags&wire.SectionMixedCodec != 0:
			return bad("section role %d is compressed (codec %d); send raw tiles (codec 0)", t.Role, d.CodecID)
		}
		want := t.Channels * tw * th
		if int(d.ElementCountPerTile) != want {
			return bad("section role %d has %d elements per tile; a %dx%d tile of %d channels has %d",
				t.Role, d.ElementCountPerTile, tw, th, t.Channels, want)
		}
		bytes := make([][]byte, 0, p.n)
		ti := sec.Tiles()
		for tile, ok := ti.Next(); ok; tile, ok = ti.Next() {
			if len(tile) != 4*want {
				return bad("section role %d tile %d is %d bytes; %d float32 values are %d bytes",
					t.Role, len(bytes), len(tile), want, 4*want)
			}
			bytes = append(bytes, tile)
		}
		p.in[i] = bytes
		p.inCh[i] = t.Channels
	}
	p.outCh = make([]int, len(cfg.Outputs))
	p.outRole = make([]uint16, len(cfg.Outputs))
	size := uint64(resultOverhead)
	for j, t := range cfg.Outputs {
		p.outCh[j] = t.Channels
		p.outRole[j] = uint16(t.Role)
		size += uint64(p.n) * (4*uint64(t.Channels)*uint64(cfg.Scale*tw)*uint64(cfg.Scale*th) + 8)
	}
	if size > wire.DefaultMaxPacket {
		return bad("the result would be %d bytes, over the %d-byte packet limit; send fewer tiles per frame", size, uint64(wire.DefaultMaxPacket))
	}
	return p, nil
}

// nativeLittleEndian: staging memory is native float32, tiles on the wire are little-endian.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
