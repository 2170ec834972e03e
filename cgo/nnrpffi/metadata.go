package nnrpffi

import (
	"encoding/binary"
	"fmt"
)

// MessageType is the common-header message type of the packet behind an event.
type MessageType uint8

// Message types that this binding sends or decodes.
const (
	MsgSessionClose     MessageType = 0x09
	MsgFrameSubmit      MessageType = 0x10
	MsgFrameCancel      MessageType = 0x11
	MsgResultPush       MessageType = 0x12
	MsgResultDrop       MessageType = 0x13
	MsgFlowUpdate       MessageType = 0x17
	MsgResultHint       MessageType = 0x18
	MsgCancel           MessageType = 0x30
	MsgAbort            MessageType = 0x31
	MsgProgress         MessageType = 0x37
	MsgPartialResult    MessageType = 0x38
	MsgResultDropReason MessageType = 0x40
)

// Metadata lengths fixed by NNRP/1.
const (
	FrameSubmitMetadataLen      = 72
	ResultPushMetadataLen       = 64
	ResultDropReasonMetadataLen = 32
	PartialResultMetadataLen    = 40
	ProgressMetadataLen         = 32
	SessionCloseMetadataLen     = 24
)

// Profiles and the stock schema of the official runtime.
const (
	ProfileTensor uint16 = 1
	ProfileToken  uint16 = 2

	// SchemaTokenDelta / SchemaTokenDeltaVersion is the only schema the official
	// server's stock registry installs; it accepts it under profile 1 and 2 and
	// rejects schema (0, 0) with SessionErrSchemaUnsupported.
	SchemaTokenDelta        uint32 = 0x1001
	SchemaTokenDeltaVersion uint32 = 3
)

// PayloadKinds is the payload_kind_bitmap of FRAME_SUBMIT and RESULT_PUSH.
type PayloadKinds uint32

// Payload kind bits.
const (
	PayloadTensor          PayloadKinds = 0x01
	PayloadTokenChunk      PayloadKinds = 0x02
	PayloadAudioChunk      PayloadKinds = 0x04
	PayloadVideoChunk      PayloadKinds = 0x08
	PayloadStructuredEvent PayloadKinds = 0x10
	PayloadToolDelta       PayloadKinds = 0x20
	PayloadOpaqueBytes     PayloadKinds = 0x40
)

// BudgetPolicy is the budget_policy bit set of FRAME_SUBMIT (and the
// applied_budget_policy of RESULT_PUSH).
type BudgetPolicy uint8

// Budget policy bits.
const (
	AllowPartial    BudgetPolicy = 0x01
	AllowStaleReuse BudgetPolicy = 0x02
	AllowDegraded   BudgetPolicy = 0x04
	AllowDrop       BudgetPolicy = 0x08
)

// LossTolerance is the loss_tolerance_policy of FRAME_SUBMIT.
type LossTolerance uint8

// Loss tolerance values.
const (
	LossStrict         LossTolerance = 0
	LossBestEffort     LossTolerance = 1
	LossLowLatency     LossTolerance = 2
	LossFireAndForget  LossTolerance = 3
	LossInheritSession LossTolerance = 0xFF
)

// ResultClass is byte 44 of RESULT_PUSH metadata.
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
	return fmt.Sprintf("result_class(%d)", uint8(c))
}

// ResultFlags is result_flags of RESULT_PUSH.
type ResultFlags uint16

// Result flag bits.
const (
	ResultStale    ResultFlags = 0x0001
	ResultFallback ResultFlags = 0x0002
	ResultPartial  ResultFlags = 0x0004
)

// Drop reason codes of RESULT_DROP_REASON.
const (
	DropDeadlineExpired    uint16 = 0x0001
	DropSuperseded         uint16 = 0x0002
	DropPeerCancelled      uint16 = 0x0003
	DropBackpressure       uint16 = 0x0004
	DropCapabilityMismatch uint16 = 0x0005
	DropBudgetExceeded     uint16 = 0x0006
	DropObjectInvalidated  uint16 = 0x0007
	DropTransportClosed    uint16 = 0x0008
)

// Source roles and flags of RESULT_DROP_REASON.
const (
	RoleClient uint8 = 1
	RoleServer uint8 = 2

	DropFlagFinal     uint8 = 0x01
	DropFlagRetryable uint8 = 0x02
)

// Flags of PARTIAL_RESULT.
const (
	PartialFlagFinal     uint32 = 0x01
	PartialFlagObjectRef uint32 = 0x02
)

var le = binary.LittleEndian

func shortInput(what string, want, got int) error {
	return fmt.Errorf("nnrp ffi: %s needs %d bytes, got %d", what, want, got)
}

// FrameSubmitMetadata is the 72-byte FRAME_SUBMIT metadata. A client submit
// carries exactly these bytes: every field is the caller's to choose, and the
// library validates them (reserved zero, enum ranges, masks, non-zero
// operation id, tensor fields zero without the tensor payload bit).
type FrameSubmitMetadata struct {
	SrcWidth, SrcHeight     uint16
	TileWidth, TileHeight   uint16
	TileCount, SectionCount uint16
	FrameClass              uint8
	InputProfile            uint8
	TileIndexMode           uint8
	LatencyBudgetMs         uint16
	TargetFPSx100           uint16
	RetryOfFrame            uint32
	TileBaseID              uint32
	CameraBytes             uint32
	TileIndexBytes          uint32
	OperationID             uint64
	SubmitMode              uint8
	BudgetPolicy            BudgetPolicy
	LossTolerance           LossTolerance
	ObjectRefMask           uint32
	DependencyFrameID       uint32
	PayloadKinds            PayloadKinds
	PayloadFrameCount       uint16
}

// TensorSubmit returns the metadata of an inline tensor submit with an opaque
// body: payload kind TENSOR, no tiles, loss tolerance "inherit session".
func TensorSubmit(latencyBudgetMs uint16, policy BudgetPolicy) FrameSubmitMetadata {
	return FrameSubmitMetadata{
		LatencyBudgetMs: latencyBudgetMs,
		BudgetPolicy:    policy,
		LossTolerance:   LossInheritSession,
		PayloadKinds:    PayloadTensor,
	}
}

// TokenSubmit returns the metadata of a token-chunk submit with an opaque
// body (tile index mode 1, as the official builders write for non-tensor
// frames).
func TokenSubmit(latencyBudgetMs uint16, policy BudgetPolicy) FrameSubmitMetadata {
	return FrameSubmitMetadata{
		TileIndexMode:   1,
		LatencyBudgetMs: latencyBudgetMs,
		BudgetPolicy:    policy,
		LossTolerance:   LossInheritSession,
		PayloadKinds:    PayloadTokenChunk,
	}
}

// Put writes the 72 bytes into b[:72]; reserved fields are zero.
func (m *FrameSubmitMetadata) Put(b []byte) {
	_ = b[FrameSubmitMetadataLen-1]
	clear(b[:FrameSubmitMetadataLen])
	le.PutUint16(b[0:], m.SrcWidth)
	le.PutUint16(b[2:], m.SrcHeight)
	le.PutUint16(b[4:], m.TileWidth)
	le.PutUint16(b[6:], m.TileHeight)
	le.PutUint16(b[8:], m.TileCount)
	le.PutUint16(b[10:], m.SectionCount)
	b[12] = m.FrameClass
	b[13] = m.InputProfile
	b[14] = m.TileIndexMode
	le.PutUint16(b[16:], m.LatencyBudgetMs)
	le.PutUint16(b[18:], m.TargetFPSx100)
	le.PutUint32(b[20:], m.RetryOfFrame)
	le.PutUint32(b[24:], m.TileBaseID)
	le.PutUint32(b[28:], m.CameraBytes)
	le.PutUint32(b[32:], m.TileIndexBytes)
	le.PutUint64(b[40:], m.OperationID)
	b[52] = m.SubmitMode
	b[53] = uint8(m.BudgetPolicy)
	b[54] = uint8(m.LossTolerance)
	le.PutUint32(b[56:], m.ObjectRefMask)
	le.PutUint32(b[60:], m.DependencyFrameID)
	le.PutUint32(b[64:], uint32(m.PayloadKinds))
	le.PutUint16(b[68:], m.PayloadFrameCount)
}

// ParseFrameSubmitMetadata reads the fields of b[:72]. It does not validate
// them: the library already has.
func ParseFrameSubmitMetadata(b []byte) (FrameSubmitMetadata, error) {
	if len(b) < FrameSubmitMetadataLen {
		return FrameSubmitMetadata{}, shortInput("FRAME_SUBMIT metadata", FrameSubmitMetadataLen, len(b))
	}
	return FrameSubmitMetadata{
		SrcWidth:          le.Uint16(b[0:]),
		SrcHeight:         le.Uint16(b[2:]),
		TileWidth:         le.Uint16(b[4:]),
		TileHeight:        le.Uint16(b[6:]),
		TileCount:         le.Uint16(b[8:]),
		SectionCount:      le.Uint16(b[10:]),
		FrameClass:        b[12],
		InputProfile:      b[13],
		TileIndexMode:     b[14],
		LatencyBudgetMs:   le.Uint16(b[16:]),
		TargetFPSx100:     le.Uint16(b[18:]),
		RetryOfFrame:      le.Uint32(b[20:]),
		TileBaseID:        le.Uint32(b[24:]),
		CameraBytes:       le.Uint32(b[28:]),
		TileIndexBytes:    le.Uint32(b[32:]),
		OperationID:       le.Uint64(b[40:]),
		SubmitMode:        b[52],
		BudgetPolicy:      BudgetPolicy(b[53]),
		LossTolerance:     LossTolerance(b[54]),
		ObjectRefMask:     le.Uint32(b[56:]),
		DependencyFrameID: le.Uint32(b[60:]),
		PayloadKinds:      PayloadKinds(le.Uint32(b[64:])),
		PayloadFrameCount: le.Uint16(b[68:]),
	}, nil
}

// ResultPushMetadata is the 64-byte RESULT_PUSH metadata. The server side
// sends exactly these bytes; the library checks reserved fields, flag / policy
// / payload-kind masks, the class range, and that a result without the tensor
// payload bit has all six tile fields zero. It does not check the class
// against the submit's budget policy, nor covered + dropped = tile count, nor
// reused_frame_id against the class.
type ResultPushMetadata struct {
	StatusCode          uint16
	Flags               ResultFlags
	SectionCount        uint16
	TileCount           uint16
	ActiveProfileID     uint16
	InferenceMs         uint16
	QueueMs             uint16
	ServerTotalMs       uint16
	TileBaseID          uint32
	TileIndexBytes      uint32
	Class               ResultClass
	AppliedBudgetPolicy BudgetPolicy
	ReusedFrameID       uint32
	CoveredTileCount    uint16
	DroppedTileCount    uint16
	PayloadKinds        PayloadKinds
	PayloadFrameCount   uint16
}

// Put writes the 64 bytes into b[:64]; reserved fields are zero.
func (m *ResultPushMetadata) Put(b []byte) {
	_ = b[ResultPushMetadataLen-1]
	clear(b[:ResultPushMetadataLen])
	le.PutUint16(b[0:], m.StatusCode)
	le.PutUint16(b[2:], uint16(m.Flags))
	le.PutUint16(b[4:], m.SectionCount)
	le.PutUint16(b[6:], m.TileCount)
	le.PutUint16(b[8:], m.ActiveProfileID)
	le.PutUint16(b[12:], m.InferenceMs)
	le.PutUint16(b[14:], m.QueueMs)
	le.PutUint16(b[16:], m.ServerTotalMs)
	le.PutUint32(b[20:], m.TileBaseID)
	le.PutUint32(b[24:], m.TileIndexBytes)
	b[44] = uint8(m.Class)
	b[45] = uint8(m.AppliedBudgetPolicy)
	le.PutUint32(b[48:], m.ReusedFrameID)
	le.PutUint16(b[52:], m.CoveredTileCount)
	le.PutUint16(b[54:], m.DroppedTileCount)
	le.PutUint32(b[56:], uint32(m.PayloadKinds))
	le.PutUint16(b[60:], m.PayloadFrameCount)
}

// ParseResultPushMetadata reads the fields of b[:64] without validating them.
func ParseResultPushMetadata(b []byte) (ResultPushMetadata, error) {
	if len(b) < ResultPushMetadataLen {
		return ResultPushMetadata{}, shortInput("RESULT_PUSH metadata", ResultPushMetadataLen, len(b))
	}
	return ResultPushMetadata{
		StatusCode:          le.Uint16(b[0:]),
		Flags:               ResultFlags(le.Uint16(b[2:])),
		SectionCount:        le.Uint16(b[4:]),
		TileCount:           le.Uint16(b[6:]),
		ActiveProfileID:     le.Uint16(b[8:]),
		InferenceMs:         le.Uint16(b[12:]),
		QueueMs:             le.Uint16(b[14:]),
		ServerTotalMs:       le.Uint16(b[16:]),
		TileBaseID:          le.Uint32(b[20:]),
		TileIndexBytes:      le.Uint32(b[24:]),
		Class:               ResultClass(b[44]),
		AppliedBudgetPolicy: BudgetPolicy(b[45]),
		ReusedFrameID:       le.Uint32(b[48:]),
		CoveredTileCount:    le.Uint16(b[52:]),
		DroppedTileCount:    le.Uint16(b[54:]),
		PayloadKinds:        PayloadKinds(le.Uint32(b[56:])),
		PayloadFrameCount:   le.Uint16(b[60:]),
	}, nil
}

// DropReason is the 32-byte RESULT_DROP_REASON metadata plus its diagnostic
// body. DiagnosticBytes is derived from Diagnostic when sending.
type DropReason struct {
	OperationID    uint64
	ResultSequence uint64
	Code           uint16 // non-zero, see Drop* constants
	SourceRole     uint8  // RoleServer for a server
	Flags          uint8  // DropFlagFinal | DropFlagRetryable
	Diagnostic     []byte
}

func (d *DropReason) append(b []byte) []byte {
	var m [ResultDropReasonMetadataLen]byte
	le.PutUint64(m[0:], d.OperationID)
	le.PutUint64(m[8:], d.ResultSequence)
	le.PutUint16(m[16:], d.Code)
	m[18] = d.SourceRole
	m[19] = d.Flags
	le.PutUint32(m[20:], uint32(len(d.Diagnostic)))
	b = append(b, m[:]...)
	return append(b, d.Diagnostic...)
}

func parseDropReason(b []byte) (DropReason, error) {
	if len(b) < ResultDropReasonMetadataLen {
		return DropReason{}, shortInput("RESULT_DROP_REASON metadata", ResultDropReasonMetadataLen, len(b))
	}
	n := int(le.Uint32(b[20:]))
	if n != len(b)-ResultDropReasonMetadataLen {
		return DropReason{}, fmt.Errorf("nnrp ffi: RESULT_DROP_REASON declares %d diagnostic bytes, payload has %d", n, len(b)-ResultDropReasonMetadataLen)
	}
	return DropReason{
		OperationID:    le.Uint64(b[0:]),
		ResultSequence: le.Uint64(b[8:]),
		Code:           le.Uint16(b[16:]),
		SourceRole:     b[18],
		Flags:          b[19],
		Diagnostic:     b[ResultDropReasonMetadataLen:],
	}, nil
}

// PartialResult is the 40-byte PARTIAL_RESULT metadata plus its body.
type PartialResult struct {
	OperationID    uint64
	ResultSequence uint64
	ObjectID       uint64
	DeltaSequence  uint64
	Flags          uint32 // PartialFlagFinal | PartialFlagObjectRef
	Body           []byte
}

func (p *PartialResult) append(b []byte) []byte {
	var m [PartialResultMetadataLen]byte
	le.PutUint64(m[0:], p.OperationID)
	le.PutUint64(m[8:], p.ResultSequence)
	le.PutUint64(m[16:], p.ObjectID)
	le.PutUint64(m[24:], p.DeltaSequence)
	le.PutUint32(m[32:], uint32(len(p.Body)))
	le.PutUint32(m[36:], p.Flags)
	b = append(b, m[:]...)
	return append(b, p.Body...)
}

func parsePartialResult(b []byte) (PartialResult, error) {
	if len(b) < PartialResultMetadataLen {
		return PartialResult{}, shortInput("PARTIAL_RESULT metadata", PartialResultMetadataLen, len(b))
	}
	n := int(le.Uint32(b[32:]))
	if n != len(b)-PartialResultMetadataLen {
		return PartialResult{}, fmt.Errorf("nnrp ffi: PARTIAL_RESULT declares %d body bytes, payload has %d", n, len(b)-PartialResultMetadataLen)
	}
	return PartialResult{
		OperationID:    le.Uint64(b[0:]),
		ResultSequence: le.Uint64(b[8:]),
		ObjectID:       le.Uint64(b[16:]),
		DeltaSequence:  le.Uint64(b[24:]),
		Flags:          le.Uint32(b[36:]),
		Body:           b[PartialResultMetadataLen:],
	}, nil
}

// Progress is the 32-byte PROGRESS metadata plus its body.
type Progress struct {
	OperationID      uint64
	ProgressSequence uint64
	StageCode        uint16
	PercentX100      uint16 // 0..10000, or 0xFFFF unknown
	ObjectID         uint64
	Body             []byte
}

func (p *Progress) append(b []byte) []byte {
	var m [ProgressMetadataLen]byte
	le.PutUint64(m[0:], p.OperationID)
	le.PutUint64(m[8:], p.ProgressSequence)
	le.PutUint16(m[16:], p.StageCode)
	le.PutUint16(m[18:], p.PercentX100)
	le.PutUint64(m[20:], p.ObjectID)
	le.PutUint32(m[28:], uint32(len(p.Body)))
	b = append(b, m[:]...)
	return append(b, p.Body...)
}

func parseProgress(b []byte) (Progress, error) {
	if len(b) < ProgressMetadataLen {
		return Progress{}, shortInput("PROGRESS metadata", ProgressMetadataLen, len(b))
	}
	n := int(le.Uint32(b[28:]))
	if n != len(b)-ProgressMetadataLen {
		return Progress{}, fmt.Errorf("nnrp ffi: PROGRESS declares %d body bytes, payload has %d", n, len(b)-ProgressMetadataLen)
	}
	return Progress{
		OperationID:      le.Uint64(b[0:]),
		ProgressSequence: le.Uint64(b[8:]),
		StageCode:        le.Uint16(b[16:]),
		PercentX100:      le.Uint16(b[18:]),
		ObjectID:         le.Uint64(b[20:]),
		Body:             b[ProgressMetadataLen:],
	}, nil
}

// SessionClose is the 24-byte SESSION_CLOSE metadata a server receives.
type SessionClose struct {
	Reason           uint16 // 1 client_shutdown from the official client
	InFlightPolicy   uint8  // 0 drain, 1 abort
	DrainTimeoutMs   uint32
	LastOperationID  uint64
	SessionErrorCode uint32
	CloseTag         uint32
}

func parseSessionClose(b []byte) (SessionClose, error) {
	if len(b) < SessionCloseMetadataLen {
		return SessionClose{}, shortInput("SESSION_CLOSE metadata", SessionCloseMetadataLen, len(b))
	}
	return SessionClose{
		Reason:           le.Uint16(b[0:]),
		InFlightPolicy:   b[2],
		DrainTimeoutMs:   le.Uint32(b[4:]),
		LastOperationID:  le.Uint64(b[8:]),
		SessionErrorCode: le.Uint32(b[16:]),
		CloseTag:         le.Uint32(b[20:]),
	}, nil
}
