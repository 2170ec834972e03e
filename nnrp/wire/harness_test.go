package wire

// Shared test machinery: golden-vector loading and comparison, codec
// registration, and the mechanical checks every metadata type gets.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// vector is one entry of testdata/control.json or testdata/data.json
// (copied from ../shared/nnrp/vectors).
type vector struct {
	Name        string         `json:"name"`
	MessageType string         `json:"message_type"`
	Kind        string         `json:"kind"`
	Hex         string         `json:"hex"`
	Fields      map[string]any `json:"fields"`
	Origin      string         `json:"origin"`
	Note        string         `json:"note"`
}

func (v *vector) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := hex.DecodeString(v.Hex)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", v.Name, err)
	}
	return b
}

func loadVectors(t *testing.T, file string) []vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // u64 fields must not pass through float64
	var vs []vector
	if err := dec.Decode(&vs); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return vs
}

// vectorCodec decodes the bytes of one vector into a value whose JSON form is
// compared with the vector's "fields", and re-encodes that value. A codec
// that returns an error means "rejected"; the vector tests decide whether
// rejection is the expected outcome.
type vectorCodec func(b []byte) (fields any, reencoded []byte, err error)

var (
	codecMu sync.Mutex
	// metaCodecs decode the fixed metadata of a message type; they also
	// drive packet vectors of that type.
	metaCodecs = map[MessageType]metaCodec{}
	// kindCodecs decode data-plane blocks named by a vector's "kind"
	// (body_region_prelude, tile_index_block, ...).
	kindCodecs = map[string]vectorCodec{}
)

// metaCodec parses metadata into a Message (so packets can be re-encoded).
type metaCodec func(b []byte) (Message, int, error)

// registerMessage makes a metadata parser known to the vector tests. Call it
// from an init function in the message's _test.go file.
func registerMessage[M any, PM interface {
	*M
	Message
}](parse func([]byte) (M, int, error)) {
	var zero M
	t := PM(&zero).Type()
	codecMu.Lock()
	defer codecMu.Unlock()
	if _, dup := metaCodecs[t]; dup {
		panic("registerMessage: duplicate codec for " + t.String())
	}
	metaCodecs[t] = func(b []byte) (Message, int, error) {
		m, n, err := parse(b)
		if err != nil {
			return nil, n, err
		}
		return PM(&m), n, nil
	}
}

// registerKind makes a data-plane block codec known to the vector tests.
func registerKind(kind string, c vectorCodec) {
	codecMu.Lock()
	defer codecMu.Unlock()
	if _, dup := kindCodecs[kind]; dup {
		panic("registerKind: duplicate codec for " + kind)
	}
	kindCodecs[kind] = c
}

// typeByName maps the spec's message names ("CLIENT_HELLO") to types.
func typeByName(name string) (MessageType, bool) {
	for _, t := range KnownTypes() {
		if t.String() == name {
			return t, true
		}
	}
	return 0, false
}

// headerFields is the JSON view of a header as the vectors spell it.
func headerFields(h Header) map[string]any {
	return map[string]any{
		"magic": Magic, "version_major": VersionMajor, "wire_format": WireFormat,
		"message_type": uint8(h.Type), "message_type_name": h.Type.String(), "header_len": HeaderLen,
		"flags": uint32(h.Flags), "meta_len": h.MetaLen, "body_len": h.BodyLen,
		"session_id": h.SessionID, "frame_id": h.FrameID, "view_id": h.ViewID,
		"route_id": h.RouteID, "trace_id": h.TraceID,
	}
}

// decodeMeta decodes metadata bytes of type t with its registered codec.
func decodeMeta(t MessageType, b []byte) (Message, error) {
	c, ok := metaCodecs[t]
	if !ok {
		return nil, fmt.Errorf("no metadata codec registered for %s", t)
	}
	m, n, err := c(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("consumed %d of %d bytes", n, len(b))
	}
	return m, nil
}

// metadataVectorCodec decodes a "metadata" vector of type t.
func metadataVectorCodec(t MessageType) vectorCodec {
	return func(b []byte) (any, []byte, error) {
		m, err := decodeMeta(t, b)
		if err != nil {
			return nil, nil, err
		}
		out, err := m.Append(nil)
		return m, out, err
	}
}

// packetVectorCodec frames a whole packet, decodes its metadata with the
// registered codec and re-encodes header, metadata and body.
func packetVectorCodec(b []byte) (any, []byte, error) {
	p, n, err := ParsePacket(b, 0)
	if err != nil {
		return nil, nil, err
	}
	if n != len(b) {
		return nil, nil, fmt.Errorf("packet is %d bytes, vector is %d", n, len(b))
	}
	fields := map[string]any{"header": headerFields(p.Header), "body_hex": hex.EncodeToString(p.Body),
		"body_ascii": string(p.Body), "body_utf8": string(p.Body), "diagnostic_utf8": string(p.Body)}
	var m Message
	if p.Header.Type.MetaLen() == 0 {
		if p.Header.Type.HeaderOnly() {
			if err := p.CheckHeaderOnly(); err != nil {
				return nil, nil, err
			}
		}
	} else {
		c, ok := metaCodecs[p.Header.Type]
		if !ok {
			return nil, nil, fmt.Errorf("no metadata codec registered for %s", p.Header.Type)
		}
		if err := p.checkShape(p.Header.Type); err != nil {
			return nil, nil, err
		}
		if m, _, err = c(p.Meta); err != nil {
			return nil, nil, err
		}
		if want, ok := m.ExpectedBodyLen(); ok && want != uint64(len(p.Body)) {
			return nil, nil, fmt.Errorf("body is %d bytes, metadata implies %d", len(p.Body), want)
		}
		fields["metadata"] = m
	}
	out, err := AppendPacket(nil, p.Header, m, p.Body)
	return fields, out, err
}

// compareFields checks that every field the vector lists has the same value
// in got's JSON form. Keys that only name or annotate ("_note",
// "message_type_name", "flag_names", "..._name") are skipped; anything else
// missing from got is an error, so a decoder cannot silently drop a field.
func compareFields(t *testing.T, path string, want any, got any) {
	t.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: marshal: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	compareJSON(t, path, want, g)
}

func skipField(k string) bool {
	return strings.HasPrefix(k, "_") || strings.HasSuffix(k, "_name") || strings.HasSuffix(k, "_names")
}

// isReservedKey reports whether a vector key names a reserved field
// ("reserved", "reserved0", ...).
func isReservedKey(k string) bool {
	rest, ok := strings.CutPrefix(k, "reserved")
	return ok && strings.Trim(rest, "0123456789") == ""
}

func compareJSON(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want an object, got %T", path, got)
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if skipField(k) {
				continue
			}
			gv, ok := g[k]
			if !ok && isReservedKey(k) {
				// Reserved fields are not struct fields: a decoded value
				// implies they were zero (the parser rejects anything else).
				if n, isNum := number(w[k]); !isNum || n.Sign() != 0 {
					t.Errorf("%s.%s: vector lists reserved value %v, want 0", path, k, w[k])
				}
				continue
			}
			if !ok {
				t.Errorf("%s.%s: missing from the decoded value", path, k)
				continue
			}
			compareJSON(t, path+"."+k, w[k], gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: want %d elements, got %v", path, len(w), got)
			return
		}
		for i := range w {
			compareJSON(t, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	default:
		wn, wok := number(want)
		gn, gok := number(got)
		if wok && gok {
			if wn.Cmp(gn) != 0 {
				t.Errorf("%s: got %v, want %v", path, gn, wn)
			}
			return
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
	}
}

// number reads a JSON number or a "0x..." hex string (data.json spells u64
// values that way) as an integer.
func number(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, ok := new(big.Int).SetString(string(x), 10)
		return n, ok
	case string:
		if strings.HasPrefix(x, "0x") {
			n, ok := new(big.Int).SetString(x[2:], 16)
			return n, ok
		}
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	}
	return nil, false
}

// checkMessage runs the mechanical checks every metadata type gets: random
// valid values round-trip, len(Append(nil)) == Len(), every truncation fails
// cleanly with io.ErrUnexpectedEOF, and trailing bytes are not consumed.
func checkMessage[M any, PM interface {
	*M
	Message
}](t *testing.T, parse func([]byte) (M, int, error), random func(r *rand.Rand) M) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		m := random(r)
		b, err := PM(&m).Append(nil)
		if err != nil {
			t.Fatalf("Append(%+v): %v", m, err)
		}
		if len(b) != PM(&m).Len() {
			t.Fatalf("len(Append(nil)) = %d, Len() = %d", len(b), PM(&m).Len())
		}
		got, n, err := parse(append(b, 0xEE, 0xEE))
		if err != nil {
			t.Fatalf("parse(Append(%+v)): %v", m, err)
		}
		if n != len(b) {
			t.Fatalf("consumed %d bytes, want %d", n, len(b))
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
		}
		for cut := 0; cut < len(b); cut++ {
			_, n, err := parse(b[:cut])
			if err == nil {
				t.Fatalf("parse of %d/%d bytes succeeded", cut, len(b))
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("parse of %d/%d bytes: %v, want io.ErrUnexpectedEOF", cut, len(b), err)
			}
			if n != 0 {
				t.Fatalf("failed parse reported %d bytes consumed", n)
			}
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("truncation error %v carries no NNRP code", err)
			}
		}
	}
}

// expectReject asserts that err is a typed wire error with the given code.
func expectReject(t *testing.T, what string, err error, code ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted, want rejection with %s", what, code)
	}
	got, ok := CodeOf(err)
	if !ok {
		t.Fatalf("%s: error %v carries no NNRP code", what, err)
	}
	if got != code {
		t.Fatalf("%s: code %s, want %s (%v)", what, got, code, err)
	}
}

// Random field helpers for the round-trip tests.
func r8(r *rand.Rand) uint8   { return uint8(r.Uint32()) }
func r16(r *rand.Rand) uint16 { return uint16(r.Uint32()) }
func r32(r *rand.Rand) uint32 { return r.Uint32() }
func r64(r *rand.Rand) uint64 { return r.Uint64() }

// rBelow returns a value in [0, n).
func rBelow[T unsigned](r *rand.Rand, n T) T { return T(r.Uint64N(uint64(n))) }

// rBits returns a random subset of mask.
func rBits[T unsigned](r *rand.Rand, mask T) T { return T(r.Uint64()) & mask }
