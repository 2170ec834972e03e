package wire

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// Test machinery shared by the runtime-control, runtime-object and
// cache-reference codecs (prefix rt).

// rtCase is one validation rule of a message. mod turns the valid base value
// into one that breaks the rule (Append must refuse it); patch makes the same
// change in the base's encoding (Parse must refuse it). A rule the struct
// cannot express (a reserved field) has no mod.
type rtCase[M any] struct {
	name  string
	mod   func(*M)
	patch func([]byte)
}

// rtAs converts the rules of a shared layout L to the sibling message type N.
func rtAs[L, N any](rules []rtCase[L], conv func(*N) *L) []rtCase[N] {
	out := make([]rtCase[N], len(rules))
	for i, c := range rules {
		out[i] = rtCase[N]{name: c.name, patch: c.patch}
		if mod := c.mod; mod != nil {
			out[i].mod = func(n *N) { mod(conv(n)) }
		}
	}
	return out
}

// rtRejects checks that base is valid and that every case is refused by
// Append (leaving the buffer unchanged) and by Parse (consuming nothing),
// with malformed_body.
func rtRejects[M any, PM interface {
	*M
	Message
}](t *testing.T, base M, parse func([]byte) (M, int, error), cases []rtCase[M]) {
	t.Helper()
	typ := PM(&base).Type()
	valid, err := PM(&base).Append(nil)
	if err != nil {
		t.Fatalf("%s: base value rejected: %v", typ, err)
	}
	if _, _, err := parse(valid); err != nil {
		t.Fatalf("%s: base encoding rejected: %v", typ, err)
	}
	for _, tc := range cases {
		name := typ.String() + " " + tc.name
		if tc.mod != nil {
			m := base
			tc.mod(&m)
			out, err := PM(&m).Append([]byte{0xAB})
			expectReject(t, name+" append", err, CodeMalformedBody)
			if !bytes.Equal(out, []byte{0xAB}) {
				t.Fatalf("%s append: buffer changed to %x on error", name, out)
			}
		}
		b := bytes.Clone(valid)
		tc.patch(b)
		_, n, err := parse(b)
		expectReject(t, name+" parse", err, CodeMalformedBody)
		if n != 0 {
			t.Fatalf("%s parse: failed parse reported %d bytes consumed", name, n)
		}
	}
}

func rtPut16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func rtPut32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func rtPut64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// rtRandomRole returns a standard role or, when private is true, sometimes a
// private one (0x80–0xFF).
func rtRandomRole(r *rand.Rand, private bool) Role {
	if private && r.IntN(2) == 0 {
		return Role(0x80 | r8(r))
	}
	return rBelow(r, RoleConformanceRunner+1)
}

// rtCodec is one of this family's parsers, seen through Message so that
// tests can iterate over all of them.
type rtCodec struct {
	parse  func([]byte) (Message, int, error)
	random func(*rand.Rand) Message
	allocs func(b []byte) float64 // allocations of one parse of b; -1 if it fails
}

func rtCodecOf[M any, PM interface {
	*M
	Message
}](parse func([]byte) (M, int, error), random func(*rand.Rand) M) rtCodec {
	return rtCodec{
		parse: func(b []byte) (Message, int, error) {
			m, n, err := parse(b)
			if err != nil {
				return nil, n, err
			}
			return PM(&m), n, nil
		},
		random: func(r *rand.Rand) Message { m := random(r); return PM(&m) },
		allocs: func(b []byte) float64 {
			var err error
			n := testing.AllocsPerRun(100, func() { _, _, err = parse(b) })
			if err != nil {
				return -1
			}
			return n
		},
	}
}

// rtCodecs lists every message of this family, in message-type order.
func rtCodecs() []rtCodec {
	return []rtCodec{
		rtCodecOf(ParseCancel, randomCancel),
		rtCodecOf(ParseAbort, randomAbort),
		rtCodecOf(ParsePriorityUpdate, randomPriorityUpdate),
		rtCodecOf(ParseDeadline, randomDeadline),
		rtCodecOf(ParseExpireAt, randomExpireAt),
		rtCodecOf(ParseSupersede, randomSupersede),
		rtCodecOf(ParseBudgetUpdate, randomBudgetUpdate),
		rtCodecOf(ParseProgress, randomProgress),
		rtCodecOf(ParsePartialResult, randomPartialResult),
		rtCodecOf(ParseBackpressure, randomBackpressure),
		rtCodecOf(ParseCreditUpdate, randomCreditUpdate),
		rtCodecOf(ParseCapabilityNegotiation, randomCapabilityNegotiation),
		rtCodecOf(ParseDegradeProfile, randomDegradeProfile),
		rtCodecOf(ParseRouteHint, randomRouteHint),
		rtCodecOf(ParseExecutionHint, randomExecutionHint),
		rtCodecOf(ParseTraceContext, randomTraceContext),
		rtCodecOf(ParseResultDropReason, randomResultDropReason),
		rtCodecOf(ParseObjectDeclare, randomObjectDeclare),
		rtCodecOf(ParseObjectRef, randomObjectRef),
		rtCodecOf(ParseObjectRelease, randomObjectRelease),
		rtCodecOf(ParseObjectPatch, randomObjectPatch),
		rtCodecOf(ParseObjectDelta, randomObjectDelta),
		rtCodecOf(ParseCacheReference, randomCacheReference),
		rtCodecOf(ParseCacheMiss, randomCacheMiss),
		rtCodecOf(ParseErrorRecoverable, randomErrorRecoverable),
		rtCodecOf(ParseRetryAfter, randomRetryAfter),
	}
}

// TestRuntimeControlFamily checks that the family covers 0x30–0x49 exactly
// once, that Len matches the registry, and that parsing allocates nothing.
func TestRuntimeControlFamily(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	want := TypeCancel
	for _, c := range rtCodecs() {
		m := c.random(r)
		if m.Type() != want {
			t.Fatalf("codec for %s, want %s next", m.Type(), want)
		}
		want++
		if m.Len() != m.Type().MetaLen() {
			t.Errorf("%s: Len %d, registry says %d", m.Type(), m.Len(), m.Type().MetaLen())
		}
		b, err := m.Append(nil)
		if err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
		if n := c.allocs(b); n != 0 {
			t.Errorf("%s: parse allocates %v times", m.Type(), n)
		}
	}
	if want != TypeRetryAfter+1 {
		t.Fatalf("family ends before %s", want)
	}
}

// FuzzRuntimeControl parses arbitrary metadata as the message selected by the
// first byte; whatever parses must re-encode to the bytes consumed.
func FuzzRuntimeControl(f *testing.F) {
	codecs := rtCodecs()
	r := rand.New(rand.NewPCG(5, 6))
	for i, c := range codecs {
		b, err := c.random(r).Append([]byte{byte(i)})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		c := codecs[int(in[0])%len(codecs)]
		b := in[1:]
		m, n, err := c.parse(b)
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("error without NNRP code: %v", err)
			}
			if n != 0 {
				t.Fatalf("failed parse consumed %d bytes", n)
			}
			return
		}
		if n != m.Len() || n > len(b) {
			t.Fatalf("%s: consumed %d of %d bytes, Len %d", m.Type(), n, len(b), m.Len())
		}
		out, err := m.Append(nil)
		if err != nil {
			t.Fatalf("%s: re-encode of a parsed value: %v", m.Type(), err)
		}
		if !bytes.Equal(out, b[:n]) {
			t.Fatalf("%s: re-encoded\n %x\nparsed\n %x", m.Type(), out, b[:n])
		}
	})
}

func TestOperationScoped(t *testing.T) {
	const op = 0x0102030405060708
	scoped := []OperationScoped{
		&Cancel{OperationID: op}, &Abort{OperationID: op},
		&PriorityUpdate{OperationID: op}, &Deadline{OperationID: op}, &ExpireAt{OperationID: op},
		&Supersede{OldOperationID: op, NewOperationID: op + 1},
		&BudgetUpdate{OperationID: op}, &Progress{OperationID: op}, &PartialResult{OperationID: op},
		&ResultDropReason{OperationID: op}, &RouteHint{OperationID: op}, &ExecutionHint{OperationID: op},
		&ObjectRef{ObjectID: op + 2, OperationID: op}, &ObjectRelease{ObjectID: op + 2, OperationID: op},
	}
	for _, m := range scoped {
		if got := m.CorrelatedOperation(); got != op {
			t.Errorf("%s: CorrelatedOperation = %#x, want %#x", m.Type(), got, op)
		}
	}
	// C§2.3: these are not operation-correlated.
	for _, m := range []Message{
		&Backpressure{}, &CreditUpdate{}, &CapabilityNegotiation{}, &DegradeProfile{},
		&TraceContext{}, &ObjectDeclare{}, &ObjectPatch{}, &ObjectDelta{},
		&CacheReference{}, &CacheMiss{}, &ErrorRecoverable{}, &RetryAfter{},
	} {
		if _, ok := m.(OperationScoped); ok {
			t.Errorf("%s must not be OperationScoped", m.Type())
		}
	}
}

func TestCheckOperationFrame(t *testing.T) {
	bindings := map[uint64]uint32{101: 1, 202: 7}
	bound := func(op uint64) (uint32, bool) { f, ok := bindings[op]; return f, ok }
	for _, tc := range []struct {
		name  string
		frame uint32
		op    uint64
		bound func(uint64) (uint32, bool)
		ok    bool
	}{
		{"session-level", 0, 0, bound, true},
		{"session-level without bindings", 0, 0, nil, true},
		{"session-level with a frame", 1, 0, bound, false},
		{"bound operation", 1, 101, bound, true},
		{"other bound operation", 7, 202, bound, true},
		{"frame of another operation", 7, 101, bound, false},
		{"frame 0 for a bound operation", 0, 101, bound, false},
		{"unknown operation", 1, 303, bound, false},
		{"no binding table", 1, 101, nil, false},
	} {
		h := &Header{Type: TypeCancel, SessionID: 1, FrameID: tc.frame}
		err := CheckOperationFrame(h, tc.op, tc.bound)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		expectReject(t, tc.name, err, CodeInvalidState)
	}
	expectReject(t, "nil header", CheckOperationFrame(nil, 0, bound), CodeInvalidState)
}

func TestRegistryNames(t *testing.T) {
	for _, tc := range []struct {
		names []string
		last  uint64
	}{
		{reasonCodeNames, uint64(ReasonConformanceInjection)},
		{pressureLevelNames, uint64(PressurePaused)},
		{pressureReasonNames, uint64(PressureReasonConformanceInjection)},
		{costModelNames, uint64(CostWeightedUnits)},
		{executorClassNames, uint64(ExecutorRenderWorker)},
		{affinityClassNames, uint64(AffinityStorageLocal)},
		{objectKindNames, uint64(ObjectKindCacheManifest)},
		{memoryLocationNames, uint64(MemoryObjectStore)},
		{ownershipNames, uint64(OwnershipReleaseOnDrop)},
		{releaseReasonNames, uint64(ReleaseConformanceInjection)},
		{reuseScopeNames, uint64(ReuseProfile)},
		{missReasonNames, uint64(MissPermissionDenied)},
	} {
		if uint64(len(tc.names)) != tc.last+1 {
			t.Errorf("table %v has %d names, registry ends at %d", tc.names, len(tc.names), tc.last)
		}
	}
	for _, tc := range []struct{ got, want string }{
		{ReasonUserCancelled.String(), "user_cancelled"},
		{ReasonCode(0x8001).String(), "reason_code(32769)"},
		{PressureHard.String(), "hard"},
		{PressureReasonMemory.String(), "memory_pressure"},
		{CostBandwidthBytes.String(), "bandwidth_bytes"},
		{ExecutorGPUWorker.String(), "gpu_worker"},
		{AffinitySameNUMA.String(), "same_numa"},
		{ObjectKindVideoChunk.String(), "video_chunk"},
		{ObjectKind(13).String(), "object_kind(13)"},
		{MemoryMmapFile.String(), "mmap_file"},
		{OwnershipTransferOnRef.String(), "transfer_on_ref"},
		{ReleaseOwnerClosed.String(), "owner_closed"},
		{ReuseTenant.String(), "tenant"},
		{MissProducerUnavailable.String(), "producer_unavailable"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
