package wire

import "fmt"

// MessageType is the header's message_type byte (C§2).
type MessageType uint8

// Message types of nnrp-1-preview4 (C§2). Every other value is rejected by
// the header parser.
const (
	TypeClientHello           MessageType = 0x01
	TypeServerHelloAck        MessageType = 0x02
	TypeSessionPatch          MessageType = 0x03
	TypeSessionPatchAck       MessageType = 0x04
	TypeClose                 MessageType = 0x05
	TypeError                 MessageType = 0x06
	TypeSessionOpen           MessageType = 0x07
	TypeSessionOpenAck        MessageType = 0x08
	TypeSessionClose          MessageType = 0x09
	TypeSessionCloseAck       MessageType = 0x0a
	TypeFrameSubmit           MessageType = 0x10
	TypeFrameCancel           MessageType = 0x11
	TypeResultPush            MessageType = 0x12
	TypeResultDrop            MessageType = 0x13
	TypeCachePut              MessageType = 0x14
	TypeCacheAck              MessageType = 0x15
	TypeCacheInvalidate       MessageType = 0x16
	TypeFlowUpdate            MessageType = 0x17
	TypeResultHint            MessageType = 0x18
	TypeTransportProbe        MessageType = 0x19
	TypeTransportProbeAck     MessageType = 0x1a
	TypeSessionMigrate        MessageType = 0x1b
	TypeSessionMigrateAck     MessageType = 0x1c
	TypePing                  MessageType = 0x20
	TypePong                  MessageType = 0x21
	TypeCancel                MessageType = 0x30
	TypeAbort                 MessageType = 0x31
	TypePriorityUpdate        MessageType = 0x32
	TypeDeadline              MessageType = 0x33
	TypeExpireAt              MessageType = 0x34
	TypeSupersede             MessageType = 0x35
	TypeBudgetUpdate          MessageType = 0x36
	TypeProgress              MessageType = 0x37
	TypePartialResult         MessageType = 0x38
	TypeBackpressure          MessageType = 0x39
	TypeCreditUpdate          MessageType = 0x3a
	TypeCapabilityNegotiation MessageType = 0x3b
	TypeDegradeProfile        MessageType = 0x3c
	TypeRouteHint             MessageType = 0x3d
	TypeExecutionHint         MessageType = 0x3e
	TypeTraceContext          MessageType = 0x3f
	TypeResultDropReason      MessageType = 0x40
	TypeObjectDeclare         MessageType = 0x41
	TypeObjectRef             MessageType = 0x42
	TypeObjectRelease         MessageType = 0x43
	TypeObjectPatch           MessageType = 0x44
	TypeObjectDelta           MessageType = 0x45
	TypeCacheReference        MessageType = 0x46
	TypeCacheMiss             MessageType = 0x47
	TypeErrorRecoverable      MessageType = 0x48
	TypeRetryAfter            MessageType = 0x49
)

// typeInfo describes one registered message type.
type typeInfo struct {
	name    string
	metaLen int // exact fixed metadata length
	known   bool
}

var registry [256]typeInfo

func init() {
	for _, e := range []struct {
		t       MessageType
		name    string
		metaLen int
	}{
		{TypeClientHello, "CLIENT_HELLO", 64},
		{TypeServerHelloAck, "SERVER_HELLO_ACK", 80},
		{TypeSessionPatch, "SESSION_PATCH", 36},
		{TypeSessionPatchAck, "SESSION_PATCH_ACK", 48},
		{TypeClose, "CLOSE", 0},
		{TypeError, "ERROR", 32},
		{TypeSessionOpen, "SESSION_OPEN", 48},
		{TypeSessionOpenAck, "SESSION_OPEN_ACK", 56},
		{TypeSessionClose, "SESSION_CLOSE", 24},
		{TypeSessionCloseAck, "SESSION_CLOSE_ACK", 16},
		{TypeFrameSubmit, "FRAME_SUBMIT", 72},
		{TypeFrameCancel, "FRAME_CANCEL", 0},
		{TypeResultPush, "RESULT_PUSH", 64},
		{TypeResultDrop, "RESULT_DROP", 0},
		{TypeCachePut, "CACHE_PUT", 40},
		{TypeCacheAck, "CACHE_ACK", 40},
		{TypeCacheInvalidate, "CACHE_INVALIDATE", 32},
		{TypeFlowUpdate, "FLOW_UPDATE", 32},
		{TypeResultHint, "RESULT_HINT", 16},
		{TypeTransportProbe, "TRANSPORT_PROBE", 16},
		{TypeTransportProbeAck, "TRANSPORT_PROBE_ACK", 16},
		{TypeSessionMigrate, "SESSION_MIGRATE", 24},
		{TypeSessionMigrateAck, "SESSION_MIGRATE_ACK", 24},
		{TypePing, "PING", 0},
		{TypePong, "PONG", 0},
		{TypeCancel, "CANCEL", 32},
		{TypeAbort, "ABORT", 32},
		{TypePriorityUpdate, "PRIORITY_UPDATE", 32},
		{TypeDeadline, "DEADLINE", 32},
		{TypeExpireAt, "EXPIRE_AT", 32},
		{TypeSupersede, "SUPERSEDE", 32},
		{TypeBudgetUpdate, "BUDGET_UPDATE", 40},
		{TypeProgress, "PROGRESS", 32},
		{TypePartialResult, "PARTIAL_RESULT", 40},
		{TypeBackpressure, "BACKPRESSURE", 32},
		{TypeCreditUpdate, "CREDIT_UPDATE", 32},
		{TypeCapabilityNegotiation, "CAPABILITY_NEGOTIATION", 32},
		{TypeDegradeProfile, "DEGRADE_PROFILE", 32},
		{TypeRouteHint, "ROUTE_HINT", 32},
		{TypeExecutionHint, "EXECUTION_HINT", 32},
		{TypeTraceContext, "TRACE_CONTEXT", 32},
		{TypeResultDropReason, "RESULT_DROP_REASON", 32},
		{TypeObjectDeclare, "OBJECT_DECLARE", 48},
		{TypeObjectRef, "OBJECT_REF", 48},
		{TypeObjectRelease, "OBJECT_RELEASE", 32},
		{TypeObjectPatch, "OBJECT_PATCH", 40},
		{TypeObjectDelta, "OBJECT_DELTA", 40},
		{TypeCacheReference, "CACHE_REFERENCE", 56},
		{TypeCacheMiss, "CACHE_MISS", 32},
		{TypeErrorRecoverable, "ERROR_RECOVERABLE", 32},
		{TypeRetryAfter, "RETRY_AFTER", 32},
	} {
		registry[e.t] = typeInfo{name: e.name, metaLen: e.metaLen, known: true}
	}
}

// Known reports whether t is a registered message type.
func (t MessageType) Known() bool { return registry[t].known }

// MetaLen returns the fixed metadata length of t, or -1 if t is unknown.
func (t MessageType) MetaLen() int {
	if !registry[t].known {
		return -1
	}
	return registry[t].metaLen
}

// HeaderOnly reports whether t carries neither metadata nor body
// (FRAME_CANCEL, RESULT_DROP, PING, PONG; C§2.2).
func (t MessageType) HeaderOnly() bool {
	switch t {
	case TypeFrameCancel, TypeResultDrop, TypePing, TypePong:
		return true
	}
	return false
}

func (t MessageType) String() string {
	if registry[t].known {
		return registry[t].name
	}
	return fmt.Sprintf("MESSAGE_TYPE(0x%02x)", uint8(t))
}

// KnownTypes returns every registered message type in ascending order.
func KnownTypes() []MessageType {
	var ts []MessageType
	for i := range registry {
		if registry[i].known {
			ts = append(ts, MessageType(i))
		}
	}
	return ts
}
