package server

import (
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// EchoResult builds the result that returns a frame's content unchanged:
// the same tiles and tensor sections (aliasing the receive buffer, so
// nothing is copied), the same typed payload frames, or the same opaque
// body. It is the protocol-level echo the `echo` model and the transport
// benchmarks use; the frame's buffer must not be released before the result
// is sent.
func EchoResult(sub *Submit) (*Result, error) {
	r := &Result{Meta: wire.ResultPush{ActiveProfileID: sub.Session().info.Profile}}
	if !sub.HasView || sub.View.Form() == wire.BodyFormOpaque {
		r.Opaque = sub.Body
		if r.Opaque == nil {
			r.Opaque = []byte{}
		}
		return r, nil
	}
	v := &sub.View
	tiles := v.Tiles()
	if tiles.Mode() == wire.TileIndexDenseRange {
		r.Tiles = wire.TileRange(tiles.Base(), tiles.Len())
	} else {
		ids := make([]uint16, tiles.Len())
		for i := range ids {
			ids[i] = tiles.At(i)
		}
		r.Tiles = wire.TileList(wire.TileIndexRawU16, ids)
	}
	if n := v.SectionCount(); n > 0 {
		r.Sections = make([]wire.SectionData, n)
		for i := range n {
			sec := v.Section(i)
			d := &sec.Desc
			sd := wire.SectionData{RoleID: d.RoleID, CodecID: d.CodecID, DTypeID: d.DTypeID, LayoutID: d.LayoutID,
				ScalePolicy: d.ScalePolicy, ElementCountPerTile: d.ElementCountPerTile,
				Tiles: sec.AppendTiles(make([][]byte, 0, sec.Len()))}
			if sec.CodecTable != nil {
				sd.Codecs = make([]wire.Codec, len(sec.CodecTable))
				for j, c := range sec.CodecTable {
					sd.Codecs[j] = wire.Codec(c)
				}
			}
			r.Sections[i] = sd
		}
	}
	typed := v.TypedFrames()
	for i := range typed.Len() {
		d := typed.Descriptor(i)
		r.Typed = append(r.Typed, wire.TypedPayload{ProfileID: d.ProfileID, Kind: d.Kind, Flags: d.Flags,
			SchemaID: d.SchemaID, SchemaVersion: d.SchemaVersion, StreamSemantics: d.StreamSemantics,
			Payload: typed.Frame(i)})
	}
	return r, nil
}
