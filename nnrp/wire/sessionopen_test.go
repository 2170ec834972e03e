package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// Test machinery shared by the connection and session control codecs
// (prefix ctl) lives at the end of this file.

func init() { registerMessage(ParseSessionOpen) }

func randomSessionOpen(r *rand.Rand) SessionOpen {
	return SessionOpen{
		RequestedSessionID: r32(r), ProfileID: ProfileID(r16(r)), PriorityClass: rBelow(r, PriorityBackground+1),
		Flags: rBits(r, knownSessionFlags), SchemaID: r32(r), SchemaVersion: r32(r), DefaultDeadlineMS: r32(r),
		MaxInFlightOperations: r16(r), LeaseTTLHintMS: r32(r), ResumeTokenBytes: r32(r), AuthBytes: r32(r),
		SessionExtensionBytes: r32(r), ClientSessionTag: r64(r),
	}
}

func TestSessionOpenCodec(t *testing.T) { checkMessage(t, ParseSessionOpen, randomSessionOpen) }

// validSessionOpen is the default Rust client request (C§4.2).
var validSessionOpen = SessionOpen{ProfileID: ProfileToken, PriorityClass: PriorityBalanced, SchemaID: 0x1001,
	SchemaVersion: 3, DefaultDeadlineMS: 500, MaxInFlightOperations: 4, LeaseTTLHintMS: 30000}

func TestSessionOpenRejects(t *testing.T) {
	ctlRejects(t, validSessionOpen, ParseSessionOpen, []ctlCase[SessionOpen]{
		{name: "reserved 22", patch: func(b []byte) { b[22] = 1 }},
		{name: "reserved 23", patch: func(b []byte) { b[23] = 0x80 }},
		{name: "priority 3", mod: func(m *SessionOpen) { m.PriorityClass = 3 }},
		{name: "flags 0x10", mod: func(m *SessionOpen) { m.Flags = 0x10 }},
	})
}

func TestSessionOpenResumeShape(t *testing.T) {
	ok := []SessionOpen{
		validSessionOpen, // no token: nothing to check
		{RequestedSessionID: 42, Flags: SessionAllowResume, ResumeTokenBytes: 24},
		{RequestedSessionID: 42, Flags: SessionAllowResume | SessionAllowCacheLeases, ResumeTokenBytes: 16},
	}
	for _, m := range ok {
		if err := m.CheckResumeShape(); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
	for name, m := range map[string]SessionOpen{
		"token without allow_resume": {RequestedSessionID: 42, ResumeTokenBytes: 24},
		"token without session id":   {Flags: SessionAllowResume, ResumeTokenBytes: 24},
	} {
		b, err := m.Append(nil)
		if err != nil {
			t.Fatalf("%s: the shape rule must not be part of Append: %v", name, err)
		}
		if _, _, err := ParseSessionOpen(b); err != nil {
			t.Fatalf("%s: the shape rule must not be part of Parse: %v", name, err)
		}
		expectReject(t, name, m.CheckResumeShape(), CodeMalformedBody)
	}
}

func TestSessionOpenSplitBody(t *testing.T) {
	m := SessionOpen{ResumeTokenBytes: 3, AuthBytes: 2, SessionExtensionBytes: 4}
	if n, ok := m.ExpectedBodyLen(); !ok || n != 9 {
		t.Fatalf("ExpectedBodyLen = %d, %v", n, ok)
	}
	body := []byte("tttaaeeee")
	token, auth, ext, err := m.SplitBody(body)
	if err != nil || string(token) != "ttt" || string(auth) != "aa" || string(ext) != "eeee" {
		t.Fatalf("SplitBody = %q %q %q %v", token, auth, ext, err)
	}
	if cap(token) != 3 || cap(auth) != 2 {
		t.Fatalf("blocks must not allow appending into their neighbours (caps %d, %d)", cap(token), cap(auth))
	}
	for _, n := range []int{0, 8, 10} {
		_, _, _, err := m.SplitBody(make([]byte, n))
		expectReject(t, "body of "+itoa(uint64(n)), err, CodeMalformedBody)
	}
	// The sum is computed in 64 bits: three maximal fields do not wrap.
	big := SessionOpen{ResumeTokenBytes: 0xFFFFFFFF, AuthBytes: 0xFFFFFFFF, SessionExtensionBytes: 2}
	if n, _ := big.ExpectedBodyLen(); n != 0x1FFFFFFFF+1 {
		t.Fatalf("ExpectedBodyLen = %#x", n)
	}
	_, _, _, err = big.SplitBody(nil)
	expectReject(t, "huge", err, CodeMalformedBody)
}

// ctlCase is one validation rule of a control message. mod breaks the rule
// in the valid base value: Append must refuse it, and Parse must refuse its
// unchecked encoding. patch instead (or in addition) breaks the encoding
// directly, for what the struct cannot express (reserved bytes, values wider
// than the field's Go type). code zero means CodeMalformedBody.
type ctlCase[M any] struct {
	name  string
	mod   func(*M)
	patch func([]byte)
	code  ErrorCode
}

// ctlEncoder is a control message with an unchecked encoder.
type ctlEncoder[M any] interface {
	*M
	Message
	put(b []byte) []byte
}

// ctlRejects checks that base is valid and that every case is refused with
// its code by Append (leaving the buffer unchanged) and by Parse (consuming
// nothing).
func ctlRejects[M any, PM ctlEncoder[M]](t *testing.T, base M, parse func([]byte) (M, int, error), cases []ctlCase[M]) {
	t.Helper()
	typ := PM(&base).Type()
	valid, err := PM(&base).Append(nil)
	if err != nil {
		t.Fatalf("%s: base value rejected: %v", typ, err)
	}
	if !bytes.Equal(valid, PM(&base).put(nil)) {
		t.Fatalf("%s: Append and put disagree", typ)
	}
	if _, _, err := parse(valid); err != nil {
		t.Fatalf("%s: base encoding rejected: %v", typ, err)
	}
	for _, tc := range cases {
		name := typ.String() + " " + tc.name
		code := tc.code
		if code == CodeNone {
			code = CodeMalformedBody
		}
		m := base
		if tc.mod != nil {
			tc.mod(&m)
			out, err := PM(&m).Append([]byte{0xAB})
			expectReject(t, name+" append", err, code)
			if !bytes.Equal(out, []byte{0xAB}) {
				t.Fatalf("%s append: buffer changed to %x on error", name, out)
			}
		}
		b := PM(&m).put(nil)
		if tc.patch != nil {
			tc.patch(b)
		}
		_, n, err := parse(b)
		expectReject(t, name+" parse", err, code)
		if n != 0 {
			t.Fatalf("%s parse: failed parse reported %d bytes consumed", name, n)
		}
	}
}

func ctlPut32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

// ctlCodec is one of this family's messages seen through Message, so that
// tests can iterate over all of them.
type ctlCodec struct {
	typ    MessageType
	parse  func([]byte) (Message, int, error)
	random func(*rand.Rand) Message
	allocs func(b []byte) (float64, error) // allocations of one direct parse of b
}

func ctlCodecOf[M any, PM interface {
	*M
	Message
}](parse func([]byte) (M, int, error), random func(*rand.Rand) M) ctlCodec {
	var zero M
	return ctlCodec{
		typ: PM(&zero).Type(),
		parse: func(b []byte) (Message, int, error) {
			m, n, err := parse(b)
			if err != nil {
				return nil, n, err
			}
			return PM(&m), n, nil
		},
		random: func(r *rand.Rand) Message { m := random(r); return PM(&m) },
		allocs: func(b []byte) (float64, error) {
			var err error
			n := testing.AllocsPerRun(100, func() { _, _, err = parse(b) })
			return n, err
		},
	}
}

// ctlCodecs lists the connection and session control messages.
func ctlCodecs() []ctlCodec {
	return []ctlCodec{
		ctlCodecOf(ParseClientHello, randomClientHello),
		ctlCodecOf(ParseServerHelloAck, randomServerHelloAck),
		ctlCodecOf(ParseSessionPatch, randomSessionPatch),
		ctlCodecOf(ParseSessionPatchAck, randomSessionPatchAck),
		ctlCodecOf(ParseSessionOpen, randomSessionOpen),
		ctlCodecOf(ParseSessionOpenAck, randomSessionOpenAck),
		ctlCodecOf(ParseSessionClose, randomSessionClose),
		ctlCodecOf(ParseSessionCloseAck, randomSessionCloseAck),
		ctlCodecOf(ParseCachePut, randomCachePut),
		ctlCodecOf(ParseCacheAck, randomCacheAck),
		ctlCodecOf(ParseCacheInvalidate, randomCacheInvalidate),
		ctlCodecOf(ParseFlowUpdate, randomFlowUpdate),
		ctlCodecOf(ParseResultHint, randomResultHint),
		ctlCodecOf(ParseTransportProbe, randomTransportProbe),
		ctlCodecOf(ParseTransportProbeAck, randomTransportProbeAck),
		ctlCodecOf(ParseSessionMigrate, randomSessionMigrate),
		ctlCodecOf(ParseSessionMigrateAck, randomSessionMigrateAck),
	}
}

// TestControlFamily checks what every message of the family shares: Len
// matches the registry, parsing allocates nothing, and a body-less packet
// built with AppendPacket frames and decodes back to the same value.
func TestControlFamily(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range ctlCodecs() {
		m := c.random(r)
		if m.Type() != c.typ || m.Len() != c.typ.MetaLen() {
			t.Fatalf("%s: Type %s, Len %d, registry %d", c.typ, m.Type(), m.Len(), c.typ.MetaLen())
		}
		b, err := m.Append(nil)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if n, err := c.allocs(b); n != 0 || err != nil {
			t.Fatalf("%s: parse allocates %v times (err %v)", c.typ, n, err)
		}
		if want, _ := m.ExpectedBodyLen(); want != 0 {
			// Random tail lengths are huge; tail-field messages are covered by
			// the packet vectors and TestControlPacketBodies.
			continue
		}
		pkt, err := AppendPacket(nil, Header{SessionID: 5}, m)
		if err != nil {
			t.Fatalf("%s: AppendPacket: %v", c.typ, err)
		}
		p, _, err := ParsePacket(pkt, 0)
		if err != nil {
			t.Fatalf("%s: ParsePacket: %v", c.typ, err)
		}
		got, _, err := c.parse(p.Meta)
		if err != nil || len(p.Body) != 0 || !reflect.DeepEqual(got, m) {
			t.Fatalf("%s: packet metadata %+v, %v; want %+v", c.typ, got, err, m)
		}
	}
}

// TestControlPacketBodies checks that Decode enforces the body length each
// metadata implies.
func TestControlPacketBodies(t *testing.T) {
	put := CachePut{Namespace: 1, ObjectKind: ObjectCodecTable, ObjectBytes: 4}
	pkt, err := AppendPacket(nil, Header{SessionID: 1}, &put, []byte{1, 2}, []byte{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := ParsePacket(pkt, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(&p, ParseCachePut); err != nil || got != put {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	p.Body = p.Body[:3]
	_, err = Decode(&p, ParseCachePut)
	expectReject(t, "short object", err, CodeMalformedBody)
	if _, err := AppendPacket(nil, Header{SessionID: 1}, &CacheAck{}, []byte{0}); err == nil {
		t.Fatal("CACHE_ACK with a body was accepted")
	}
	probe := TransportProbe{ProbeID: 7, ProbePayloadBytes: 8, ClientSendTSUS: 100000}
	if _, err := AppendPacket(nil, Header{}, &probe, make([]byte, 7)); err == nil {
		t.Fatal("TRANSPORT_PROBE with a short body was accepted")
	}
}

// TestControlHeaderScopes checks every CheckHeader of the family (FLOW_UPDATE
// and SESSION_OPEN_ACK, whose rule depends on the metadata, have their own
// tests).
func TestControlHeaderScopes(t *testing.T) {
	const (
		connection      = iota // session 0, frame 0
		session                // session ≠ 0, frame 0
		sessionAnyFrame        // session ≠ 0, any frame
	)
	for _, tc := range []struct {
		typ   MessageType
		check func(*Header) error
		scope int
	}{
		{TypeClientHello, (&ClientHello{}).CheckHeader, connection},
		{TypeServerHelloAck, (&ServerHelloAck{}).CheckHeader, connection},
		{TypeSessionOpen, (&SessionOpen{}).CheckHeader, connection},
		{TypeTransportProbe, (&TransportProbe{}).CheckHeader, connection},
		{TypeTransportProbeAck, (&TransportProbeAck{}).CheckHeader, connection},
		{TypeSessionClose, (&SessionClose{}).CheckHeader, session},
		{TypeSessionCloseAck, (&SessionCloseAck{}).CheckHeader, session},
		{TypeSessionPatch, (&SessionPatch{}).CheckHeader, session},
		{TypeSessionPatchAck, (&SessionPatchAck{}).CheckHeader, session},
		{TypeSessionMigrate, (&SessionMigrate{}).CheckHeader, session},
		{TypeSessionMigrateAck, (&SessionMigrateAck{}).CheckHeader, session},
		{TypeResultHint, (&ResultHint{}).CheckHeader, sessionAnyFrame},
		{TypeCachePut, (&CachePut{}).CheckHeader, sessionAnyFrame},
		{TypeCacheAck, (&CacheAck{}).CheckHeader, sessionAnyFrame},
		{TypeCacheInvalidate, (&CacheInvalidate{}).CheckHeader, sessionAnyFrame},
	} {
		name := tc.typ.String()
		conn, sess, framed := tc.check(&Header{}), tc.check(&Header{SessionID: 9}), tc.check(&Header{SessionID: 9, FrameID: 4})
		switch tc.scope {
		case connection:
			if conn != nil {
				t.Errorf("%s on session 0: %v", name, conn)
			}
			expectReject(t, name+" on a session", sess, CodeInvalidState)
			expectReject(t, name+" with a frame", tc.check(&Header{FrameID: 4}), CodeMalformedBody)
		case session, sessionAnyFrame:
			expectReject(t, name+" on session 0", conn, CodeInvalidState)
			if sess != nil {
				t.Errorf("%s on a session: %v", name, sess)
			}
			if tc.scope == session {
				expectReject(t, name+" with a frame", framed, CodeMalformedBody)
			} else if framed != nil {
				t.Errorf("%s with a frame: %v", name, framed)
			}
		}
	}
}

func TestSessionOpenAckCheckHeader(t *testing.T) {
	opened := rustSessionOpenAck
	if err := opened.CheckHeader(&Header{SessionID: 1}); err != nil {
		t.Fatal(err)
	}
	expectReject(t, "opened on header 0", opened.CheckHeader(&Header{}), CodeInvalidState)
	expectReject(t, "opened on another id", opened.CheckHeader(&Header{SessionID: 2}), CodeInvalidState)
	expectReject(t, "opened with a frame", opened.CheckHeader(&Header{SessionID: 1, FrameID: 1}), CodeMalformedBody)
	rejected := SessionOpenAck{Status: SessionRejected}
	if err := rejected.CheckHeader(&Header{}); err != nil {
		t.Fatal(err)
	}
	expectReject(t, "rejected on a session", rejected.CheckHeader(&Header{SessionID: 1}), CodeInvalidState)
}

// TestControlVectorNames checks the String methods against the "<field>_name"
// annotations of the golden vectors.
func TestControlVectorNames(t *testing.T) {
	mine := map[MessageType]bool{}
	for _, c := range ctlCodecs() {
		mine[c.typ] = true
	}
	checked := 0
	for _, file := range []string{"control.json", "data.json"} {
		for _, v := range loadVectors(t, file) {
			typ, ok := typeByName(v.MessageType)
			if !ok || !mine[typ] {
				continue
			}
			b, fields := v.bytes(t), v.Fields
			if v.Kind == "packet" {
				p, _, err := ParsePacket(b, 0)
				if err != nil {
					t.Fatalf("%s: %v", v.Name, err)
				}
				b = p.Meta
				fields, _ = v.Fields["metadata"].(map[string]any)
			}
			m, err := decodeMeta(typ, b)
			if err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			rv := reflect.ValueOf(m).Elem()
			for i := range rv.NumField() {
				tag, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
				want, ok := fields[tag+"_name"].(string)
				if !ok {
					continue
				}
				s, ok := rv.Field(i).Interface().(fmt.Stringer)
				if !ok {
					continue // e.g. PriorityClass (enums.go) has no String method
				}
				if got := s.String(); got != want {
					t.Errorf("%s: %s is %q, vector says %q", v.Name, tag, got, want)
				}
				checked++
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d names checked", checked)
	}
}

// FuzzControlMetadata feeds arbitrary bytes to every parser of the family;
// whatever parses must re-encode to the bytes it consumed.
func FuzzControlMetadata(f *testing.F) {
	codecs := ctlCodecs()
	r := rand.New(rand.NewPCG(5, 6))
	for i, c := range codecs {
		b, _ := c.random(r).Append([]byte{byte(i)})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		c := codecs[int(data[0])%len(codecs)]
		m, n, err := c.parse(data[1:])
		if err != nil {
			if _, ok := CodeOf(err); !ok || n != 0 {
				t.Fatalf("%s: error %v (consumed %d) carries no code", c.typ, err, n)
			}
			return
		}
		out, err := m.Append(nil)
		if err != nil {
			t.Fatalf("%s: re-encode of a parsed value: %v", c.typ, err)
		}
		if n != m.Len() || !bytes.Equal(out, data[1:1+n]) {
			t.Fatalf("%s: re-encoded %x, want %x", c.typ, out, data[1:1+n])
		}
	})
}
