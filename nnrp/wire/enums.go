package wire

// Registries shared by several message families. Family-local enumerations
// live next to their message.

// ProfileID names a session/payload profile (C§3.7, D§11.6). The handshake
// bitmaps use bit (ProfileID-1).
type ProfileID uint16

// Standard profiles.
const (
	ProfileUnspecified ProfileID = 0
	ProfileTensor      ProfileID = 1
	ProfileToken       ProfileID = 2
)

// Bit returns the profile's bit in a handshake profile bitmap (0 for
// ProfileUnspecified, which has none).
func (p ProfileID) Bit() uint32 {
	if p == 0 || p > 32 {
		return 0
	}
	return 1 << (p - 1)
}

// PayloadKind is a payload-kind bitmap (C§3.7, D§3): one bit per kind. A
// typed payload descriptor carries exactly one bit as a byte.
type PayloadKind uint32

// Payload kinds.
const (
	PayloadTensor          PayloadKind = 0x01
	PayloadTokenChunk      PayloadKind = 0x02
	PayloadAudioChunk      PayloadKind = 0x04
	PayloadVideoChunk      PayloadKind = 0x08
	PayloadStructuredEvent PayloadKind = 0x10
	PayloadToolDelta       PayloadKind = 0x20
	PayloadOpaqueBytes     PayloadKind = 0x40

	knownPayloadKinds PayloadKind = 0x7F
)

// BudgetPolicy is the FRAME_SUBMIT budget_policy / RESULT_PUSH
// applied_budget_policy bit set (D§12).
type BudgetPolicy uint8

// Budget policy bits.
const (
	AllowPartial    BudgetPolicy = 0x01
	AllowStaleReuse BudgetPolicy = 0x02
	AllowDegraded   BudgetPolicy = 0x04
	AllowDrop       BudgetPolicy = 0x08

	knownBudgetPolicy BudgetPolicy = 0x0F
)

// ResultClass is RESULT_PUSH.result_class (D§8.1).
type ResultClass uint8

// Result classes.
const (
	ClassComplete   ResultClass = 0
	ClassPartial    ResultClass = 1
	ClassStaleReuse ResultClass = 2
	ClassDegraded   ResultClass = 3
)

func (c ResultClass) String() string {
	switch c {
	case ClassComplete:
		return "complete"
	case ClassPartial:
		return "partial"
	case ClassStaleReuse:
		return "stale_reuse"
	case ClassDegraded:
		return "degraded"
	}
	return "result_class(" + itoa(uint64(c)) + ")"
}

// Role is a source/producer/consumer role (C§7.1). 0x08–0x7F are reserved;
// 0x80–0xFF are private.
type Role uint8

// Roles.
const (
	RoleUnspecified       Role = 0
	RoleClient            Role = 1
	RoleServer            Role = 2
	RoleRuntime           Role = 3
	RoleSubagent          Role = 4
	RoleTool              Role = 5
	RoleScheduler         Role = 6
	RoleConformanceRunner Role = 7
)

// checkRole accepts the standard roles and the private range (CANCEL, ABORT,
// RESULT_DROP_REASON).
func checkRole(t MessageType, field string, r Role) error {
	if r > RoleConformanceRunner && r < 0x80 {
		return errInvalid(t, field, "reserved role 0x%02x", uint8(r))
	}
	return nil
}

// checkStrictRole accepts only the standard roles 0–7 (object messages).
func checkStrictRole(t MessageType, field string, r Role) error {
	return checkMax(t, field, r, RoleConformanceRunner)
}

// DropReason is RESULT_DROP_REASON.drop_reason_code and
// SUPERSEDE.drop_reason_code (C§7.1, D§9.2).
type DropReason uint16

// Drop reasons. 0 is invalid in RESULT_DROP_REASON.
const (
	DropNone                 DropReason = 0
	DropDeadlineExpired      DropReason = 1
	DropSuperseded           DropReason = 2
	DropPeerCancelled        DropReason = 3
	DropBackpressure         DropReason = 4
	DropCapabilityMismatch   DropReason = 5
	DropBudgetExceeded       DropReason = 6
	DropObjectInvalidated    DropReason = 7
	DropTransportClosed      DropReason = 8
	DropConformanceInjection DropReason = 9
)

func (d DropReason) String() string {
	switch d {
	case DropNone:
		return "none"
	case DropDeadlineExpired:
		return "deadline_expired"
	case DropSuperseded:
		return "superseded"
	case DropPeerCancelled:
		return "peer_cancelled"
	case DropBackpressure:
		return "backpressure"
	case DropCapabilityMismatch:
		return "capability_mismatch"
	case DropBudgetExceeded:
		return "budget_exceeded"
	case DropObjectInvalidated:
		return "object_invalidated"
	case DropTransportClosed:
		return "transport_closed"
	case DropConformanceInjection:
		return "conformance_injection"
	}
	return "drop_reason(" + itoa(uint64(d)) + ")"
}

// StageCode is PROGRESS.stage_code and TRACE_CONTEXT.stage_code (C§7.1).
type StageCode uint16

// Stages.
const (
	StageUnspecified       StageCode = 0
	StageQueued            StageCode = 1
	StageAdmitted          StageCode = 2
	StageInputReceived     StageCode = 3
	StagePreprocessing     StageCode = 4
	StageExecuting         StageCode = 5
	StageWaitingDependency StageCode = 6
	StageProducingPartial  StageCode = 7
	StageFinalizing        StageCode = 8
	StageCompleted         StageCode = 9
	StageDropped           StageCode = 10
	StageFailed            StageCode = 11
)

// CacheObjectKind names a cacheable/inline object (D§11.1). It is a u16 in
// body blocks and a u32 in CACHE_PUT.
type CacheObjectKind uint16

// Cache object kinds.
const (
	ObjectCameraBlock           CacheObjectKind = 1
	ObjectTileIndexBlock        CacheObjectKind = 2
	ObjectTensorSectionTable    CacheObjectKind = 3
	ObjectCodecTable            CacheObjectKind = 4
	ObjectReusableResult        CacheObjectKind = 5
	ObjectPayloadLayoutTemplate CacheObjectKind = 6
	ObjectPromptSegment         CacheObjectKind = 7
	ObjectToolSchema            CacheObjectKind = 8
	ObjectStructuredEventSchema CacheObjectKind = 9

	maxCacheObjectKind = ObjectStructuredEventSchema
)

// checkCacheObjectKind accepts the registered kinds 1–9.
func checkCacheObjectKind[T ~uint16 | ~uint32](t MessageType, field string, k T) error {
	if k == 0 || uint32(k) > uint32(maxCacheObjectKind) {
		return errInvalid(t, field, "unknown cache object kind %d", uint32(k))
	}
	return nil
}

// PriorityClass is the session priority (C§4.1).
type PriorityClass uint8

// Session priority classes.
const (
	PriorityInteractive PriorityClass = 0
	PriorityBalanced    PriorityClass = 1
	PriorityBackground  PriorityClass = 2
)

// TransportID names a carrier (C§3.6, C§4.8).
type TransportID uint32

// Transport ids.
const (
	TransportUnspecified TransportID = 0
	TransportQUIC        TransportID = 1
	TransportTCP         TransportID = 2
	TransportIPC         TransportID = 3
	TransportWebSocket   TransportID = 4
)

// itoa formats v without fmt (used by String methods on hot paths).
func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[i:])
}
