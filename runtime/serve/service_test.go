package serve_test

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo/repotest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/serve"
)

// tilesConfig is an echo model with a tensor contract: frames go through planning, the halo
// gather, staging, batches of 3 and scatter-gather results, and must come back unchanged.
const tilesConfig = `backend: echo
inputs: [{role: 1, name: in, channels: 3}]
outputs: [{role: 1, name: out, channels: 3}]
tile_sizes: [16, "32x8"]
halo: 2
batching: {max_batch_tiles: 3}
`

func echoRepo(t testing.TB) string {
	return repotest.Dir(t, map[string][]byte{
		"echo/config.yaml":  []byte("backend: echo\n"),
		"tiles/config.yaml": []byte(tilesConfig),
	})
}

func TestModelExtensionMatchesClient(t *testing.T) {
	if serve.ModelExtension != client.ModelExtension {
		t.Fatalf("serve.ModelExtension 0x%x != client.ModelExtension 0x%x", serve.ModelExtension, client.ModelExtension)
	}
}

func TestModelFromExtensions(t *testing.T) {
	ext := func(entries ...any) wire.ControlExtensions {
		var b []byte
		for i := 0; i < len(entries); i += 2 {
			var err error
			b, err = wire.AppendControlExtension(b, entries[i].(uint16), 0, []byte(entries[i+1].(string)))
			if err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	crit, _ := wire.AppendControlExtension(nil, 0x8123, wire.ExtCritical, []byte("x"))
	for _, c := range []struct {
		name  string
		block wire.ControlExtensions
		want  string
		found bool
		err   string
	}{
		{"empty", nil, "", false, ""},
		{"model", ext(uint16(0x8001), "anime4k-s-2x"), "anime4k-s-2x", true, ""},
		{"other entries skipped", ext(uint16(0x8002), "x", uint16(0x8001), "echo"), "echo", true, ""},
		{"empty name", ext(uint16(0x8001), ""), "", false, "model name of 0 bytes"},
		{"not utf-8", ext(uint16(0x8001), "\xff\xfe"), "", false, "not UTF-8"},
		{"unknown critical", crit, "", false, "unknown critical extension 0x8123"},
		{"malformed", wire.ControlExtensions{1, 0, 0}, "", false, "control_extension"},
	} {
		name, found, err := serve.ModelFromExtensions(c.block)
		if name != c.want || found != c.found || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: got %q %v %v", c.name, name, found, err)
		}
	}
}

func TestEchoContractRoundTrip(t *testing.T) {
	h := newHarness(t, echoRepo(t), harnessOptions{})
	s := h.open(t, h.dial(t), client.SessionOptions{Model: "tiles"})
	for _, g := range []struct{ w, h, tw, th int }{{40, 30, 16, 16}, {16, 16, 16, 16}, {70, 20, 32, 8}, {5, 3, 16, 16}} {
		img := testImage(3, g.h, g.w, 0.3)
		f, err := client.TensorFrame(img, g.tw, g.th, 1)
		if err != nil {
			t.Fatal(err)
		}
		id := submit(t, s, f)
		a := next(t, s)
		if a.frame != id || a.drop != 0 || a.class != wire.ClassComplete || a.role != 1 {
			t.Fatalf("%v: answer %+v", g, a)
		}
		cols := (g.w + g.tw - 1) / g.tw
		out, err := assemble(a, 3, g.h, g.w, g.th, g.tw, cols)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out, img.Data) {
			t.Fatalf("%v: the echo through staging changed the frame", g)
		}
		// The padding of border tiles comes back edge-replicated, as the client sent it.
		for k, tile := range a.data {
			want, _ := client.Float32s(f.Sections[0].Tiles[k])
			if !slices.Equal(tile, want) {
				t.Fatalf("%v: tile %d differs from the submitted tile", g, k)
			}
		}
	}
}

func TestMismatchedFramesAreDropped(t *testing.T) {
	h := newHarness(t, echoRepo(t), harnessOptions{})
	s := h.open(t, h.dial(t), client.SessionOptions{Model: "tiles"})
	img := testImage(3, 32, 32, 1)
	frame := func(mod func(f *client.Frame)) *client.Frame {
		f, err := client.TensorFrame(img, 16, 16, 1)
		if err != nil {
			t.Fatal(err)
		}
		mod(f)
		return f
	}
	for _, c := range []struct {
		name string
		f    *client.Frame
		diag string
	}{
		{"tile size", func() *client.Frame {
			f, _ := client.TensorFrame(img, 32, 32, 1)
			return f
		}(), `model "tiles": tile size 32x32 is not accepted; accepted: 16x16, 32x8`},
		{"dtype", frame(func(f *client.Frame) { f.Sections[0].DTypeID = wire.DTypeFloat16 }), "section role 1 has dtype 0; the model takes float32"},
		{"layout", frame(func(f *client.Frame) { f.Sections[0].LayoutID = wire.LayoutNHWC }), "section role 1 has layout 0; the model takes NCHW"},
		{"channels", func() *client.Frame {
			f, _ := client.TensorFrame(testImage(1, 32, 32, 1), 16, 16, 1)
			return f
		}(), "section role 1 has 256 elements per tile; a 16x16 tile of 3 channels has 768"},
		{"role", frame(func(f *client.Frame) { f.Sections[0].RoleID = 2 }), `the frame has no section with role 1 (model input "in")`},
		{"extra section", frame(func(f *client.Frame) {
			extra := f.Sections[0]
			extra.RoleID = 7
			f.Sections = append(f.Sections, extra)
		}), "the frame has 2 tensor sections (roles: 1 7); the model takes 1"},
		{"codec", frame(func(f *client.Frame) { f.Sections[0].CodecID = wire.CodecLZ4 }), "section role 1 is compressed (codec 1); send raw tiles"},
		{"tile bytes", frame(func(f *client.Frame) { f.Sections[0].Tiles[2] = f.Sections[0].Tiles[2][:3068] }), "section role 1 tile 2 is 3068 bytes; 768 float32 values are 3072 bytes"},
		{"tile id", frame(func(f *client.Frame) { f.Tiles = wire.TileList(wire.TileIndexRawU16, []uint16{0, 1, 2, 9}) }),
			"tile id 9 is outside the 2x2 grid of a 32x32 frame in 16x16 tiles (ids 0..3)"},
		{"duplicate tile", frame(func(f *client.Frame) { f.Tiles = wire.TileList(wire.TileIndexRawU16, []uint16{0, 1, 1, 3}) }), "tile id 1 appears twice"},
		{"opaque", &client.Frame{Meta: wire.FrameSubmit{PayloadKindBitmap: wire.PayloadOpaqueBytes}, Opaque: []byte("not a tensor")},
			"the frame carries no tensor sections; the model takes float32 NCHW tiles of role 1 (3 channels)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := submit(t, s, c.f)
			a := next(t, s)
			if a.frame != id || a.drop != wire.DropCapabilityMismatch || !strings.Contains(a.diag, c.diag) {
				t.Fatalf("answer %+v\nwant capability_mismatch with %q", a, c.diag)
			}
		})
	}
	// The session still works after the drops.
	id := submit(t, s, frame(func(*client.Frame) {}))
	if a := next(t, s); a.frame != id || a.drop != 0 {
		t.Fatalf("answer %+v", a)
	}
}

func patch(t *testing.T, s *client.Session, mask wire.PatchMask, model string) wire.SessionPatchAck {
	t.Helper()
	var body []byte
	if model != "" {
		var err error
		if body, err = wire.AppendControlExtension(nil, serve.ModelExtension, 0, []byte(model)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Send(ctx, wire.Header{}, &wire.SessionPatch{Mask: mask, QualityTier: 1, ProfilePatchBytes: uint32(len(body))}, body); err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Packet.Header.Type != wire.TypeSessionPatchAck {
			ev.Release()
			continue
		}
		ack, err := wire.Decode(&ev.Packet, wire.ParseSessionPatchAck)
		ev.Release()
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
}

func TestSessionBinding(t *testing.T) {
	dir := echoRepo(t)
	t.Run("unknown model", func(t *testing.T) {
		h := newHarness(t, dir, harnessOptions{})
		_, err := h.dial(t).OpenSession(context.Background(), client.SessionOptions{Model: "nope"})
		if !isRejected(err) || !strings.Contains(err.Error(), `profile_unsupported`) || !strings.Contains(err.Error(), `unknown model "nope"; available: echo, tiles`) {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("no model, no default", func(t *testing.T) {
		h := newHarness(t, dir, harnessOptions{})
		_, err := h.dial(t).OpenSession(context.Background(), client.SessionOptions{})
		if !isRejected(err) || !strings.Contains(err.Error(), "no model named and this server has no default model; name one in session extension 0x8001; available: echo, tiles") {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("default model", func(t *testing.T) {
		h := newHarness(t, dir, harnessOptions{defaultModel: "tiles"})
		s := h.open(t, h.dial(t), client.SessionOptions{})
		f, _ := client.TensorFrame(testImage(3, 16, 16, 0), 64, 64, 1) // not a tiles size
		submit(t, s, f)
		if a := next(t, s); a.drop != wire.DropCapabilityMismatch || !strings.Contains(a.diag, `model "tiles"`) {
			t.Fatalf("the session is not bound to the default model: %+v", a)
		}
	})
	t.Run("profile", func(t *testing.T) {
		h := newHarness(t, dir, harnessOptions{})
		c := h.dial(t)
		_, err := c.OpenSession(context.Background(), client.SessionOptions{Model: "tiles", Profile: wire.ProfileToken, SchemaID: 0x1001, SchemaVersion: 3})
		if !isRejected(err) || !strings.Contains(err.Error(), `model "tiles" takes tensor frames`) {
			t.Fatalf("token session on a tensor model: %v", err)
		}
		h.open(t, c, client.SessionOptions{Model: "echo", Profile: wire.ProfileToken, SchemaID: 0x1001, SchemaVersion: 3})
	})
	t.Run("default must exist", func(t *testing.T) {
		h := newHarness(t, dir, harnessOptions{})
		if _, err := serve.New(serve.Options{Models: h.mgr, Staging: h.st, DefaultModel: "nope"}); err == nil || !strings.Contains(err.Error(), `default model "nope" is not a model of`) {
			t.Fatalf("New: %v", err)
		}
	})
}

func TestSessionPatchSwitchesModel(t *testing.T) {
	h := newHarness(t, echoRepo(t), harnessOptions{})
	s := h.open(t, h.dial(t), client.SessionOptions{Model: "echo"})
	big, _ := client.TensorFrame(testImage(3, 64, 64, 0), 64, 64, 1) // the protocol echo takes it, "tiles" does not
	submit(t, s, big)
	if a := next(t, s); a.drop != 0 {
		t.Fatalf("echo: %+v", a)
	}

	ack := patch(t, s, wire.PatchProfilePatch, "tiles")
	if ack.Status != wire.PatchAccepted || ack.AppliedMask != wire.PatchProfilePatch || ack.RejectedMask != 0 {
		t.Fatalf("switch to tiles: %+v", ack)
	}
	submit(t, s, big)
	if a := next(t, s); a.drop != wire.DropCapabilityMismatch || !strings.Contains(a.diag, `model "tiles"`) {
		t.Fatalf("after the switch: %+v", a)
	}

	for _, c := range []struct {
		name            string
		mask            wire.PatchMask
		model           string
		status          wire.PatchAckStatus
		applied, reject wire.PatchMask
		reason          wire.PatchRejectReason
	}{
		{"unknown model", wire.PatchProfilePatch, "nope", wire.PatchRejected, 0, wire.PatchProfilePatch, wire.PatchRejectInvalidRange},
		{"no entry", wire.PatchProfilePatch, "", wire.PatchRejected, 0, wire.PatchProfilePatch, wire.PatchRejectInvalidRange},
		{"other field only", wire.PatchQualityTier, "echo", wire.PatchRejected, 0, wire.PatchQualityTier, wire.PatchRejectUnsupportedField},
		{"unknown model and another field", wire.PatchProfilePatch | wire.PatchQualityTier, "nope", wire.PatchRejected, 0,
			wire.PatchProfilePatch | wire.PatchQualityTier, wire.PatchRejectInvalidRange},
	} {
		ack := patch(t, s, c.mask, c.model)
		if ack.Status != c.status || ack.AppliedMask != c.applied || ack.RejectedMask != c.reject || ack.RejectReason != c.reason {
			t.Errorf("%s: ack %+v", c.name, ack)
		}
	}
	// Still on tiles after the rejected patches.
	submit(t, s, big)
	if a := next(t, s); a.drop != wire.DropCapabilityMismatch {
		t.Fatalf("a rejected patch changed the model: %+v", a)
	}
	ack = patch(t, s, wire.PatchProfilePatch|wire.PatchQualityTier, "echo")
	if ack.Status != wire.PatchPartiallyApplied || ack.AppliedMask != wire.PatchProfilePatch || ack.RejectedMask != wire.PatchQualityTier ||
		ack.RejectReason != wire.PatchRejectUnsupportedField {
		t.Fatalf("partial patch: %+v", ack)
	}
	submit(t, s, big)
	if a := next(t, s); a.drop != 0 {
		t.Fatalf("back on echo: %+v", a)
	}
}

// TestRemoveModel: a removed model rejects new sessions; every frame of its existing sessions gets
// exactly one answer (results until the removal, then drops saying why).
func TestRemoveModel(t *testing.T) {
	dir := echoRepo(t)
	h := newHarness(t, dir, harnessOptions{})
	const frames = 60
	s := h.open(t, h.dial(t), client.SessionOptions{Model: "tiles", MaxInFlight: frames})
	f, _ := client.TensorFrame(testImage(3, 48, 48, 0), 16, 16, 1)
	var wg sync.WaitGroup
	answers := make(chan answer, frames)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range frames {
			answers <- next(t, s)
		}
	}()
	for i := range frames {
		submit(t, s, f)
		if i == frames/3 {
			if err := os.RemoveAll(filepath.Join(dir, "tiles")); err != nil {
				t.Error(err)
			}
		}
		if i > frames/3 && i%5 == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	wg.Wait()
	close(answers)
	results, drops := 0, 0
	seen := map[uint32]bool{}
	for a := range answers {
		if seen[a.frame] {
			t.Fatalf("frame %d answered twice", a.frame)
		}
		seen[a.frame] = true
		switch {
		case a.drop == 0:
			results++
		case a.drop == wire.DropCapabilityMismatch && strings.Contains(a.diag, `model "tiles" is unavailable: it was removed from the repository; available: echo`):
			drops++
		default:
			t.Fatalf("unexpected answer %+v", a)
		}
	}
	if len(seen) != frames || results == 0 || drops == 0 {
		t.Fatalf("%d frames answered: %d results, %d drops", len(seen), results, drops)
	}
	_, err := h.dial(t).OpenSession(context.Background(), client.SessionOptions{Model: "tiles"})
	if !isRejected(err) || !strings.Contains(err.Error(), `model "tiles" is unavailable: it was removed from the repository`) {
		t.Fatalf("open on a removed model: %v", err)
	}
	all, _ := h.mgr.Status()
	for _, st := range all {
		if st.Name == "tiles" && (st.State != repo.StateRemoved || len(st.Draining) != 0) {
			t.Fatalf("tiles: %+v", st)
		}
	}
}

// rawTile builds a little-endian float32 payload.
func rawTile(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestSubsetOfTiles(t *testing.T) {
	// A frame carrying only some tiles: each comes back, under its id; the absent neighbours' halo
	// is replicated from the tile itself (the echo does not show it, the gather test checks it).
	h := newHarness(t, echoRepo(t), harnessOptions{})
	s := h.open(t, h.dial(t), client.SessionOptions{Model: "tiles"})
	full, _ := client.TensorFrame(testImage(3, 48, 48, 2), 16, 16, 1)
	ids := []uint16{7, 2, 5}
	f := &client.Frame{Meta: full.Meta, Tiles: wire.TileList(wire.TileIndexRawU16, ids)}
	sec := full.Sections[0]
	sec.Tiles = [][]byte{full.Sections[0].Tiles[7], full.Sections[0].Tiles[2], full.Sections[0].Tiles[5]}
	f.Sections = []wire.SectionData{sec}
	submit(t, s, f)
	a := next(t, s)
	if a.drop != 0 || !slices.Equal(a.tiles, ids) {
		t.Fatalf("answer %+v", a)
	}
	for k, id := range ids {
		if got := rawTile(a.data[k]); string(got) != string(full.Sections[0].Tiles[id]) {
			t.Fatalf("tile %d differs", id)
		}
	}
}
