package wire

// OperationScoped is metadata that names an operation and is therefore
// correlated with the header frame_id (C§2.3): CANCEL, ABORT,
// PRIORITY_UPDATE, DEADLINE, EXPIRE_AT, SUPERSEDE (through old_operation_id),
// BUDGET_UPDATE, PROGRESS, PARTIAL_RESULT, RESULT_DROP_REASON, ROUTE_HINT,
// EXECUTION_HINT, OBJECT_REF and OBJECT_RELEASE. The session layer checks
// every such packet with
//
//	CheckOperationFrame(&p.Header, m.CorrelatedOperation(), bound)
//
// RESULT_PUSH, RESULT_DROP and FRAME_CANCEL name their operation only through
// the header frame_id and are not OperationScoped.
type OperationScoped interface {
	Message
	// CorrelatedOperation returns the operation_id the header frame_id must
	// be bound to; 0 means the message is session-level.
	CorrelatedOperation() uint64
}

// CheckOperationFrame enforces the operation correlation rule of C§2.3 for a
// packet with header h that names operation opID:
//
//   - opID == 0 (session-level): h.FrameID must be 0;
//   - otherwise bound(opID) must report the operation as known (ok) and its
//     frame, the frame_id of the FRAME_SUBMIT that created it, must equal
//     h.FrameID.
//
// bound looks an operation up in the session's binding table; nil means no
// operation is known. Which operations bound still reports after their
// terminal result, and whether a message is acceptable for a terminal
// operation, is session policy (D§10). A DEADLINE may precede the
// FRAME_SUBMIT of its operation (C§7.3); a session that accepts this defers
// the check until the submit binds the operation.
//
// Both failures are *MessageError with CodeInvalidState: the packet is
// well-formed but does not fit the session state. Rust peers reject it.
func CheckOperationFrame(h *Header, opID uint64, bound func(opID uint64) (frameID uint32, ok bool)) error {
	if h == nil {
		return errCode(0, CodeInvalidState, "header", "no header to correlate operation %d with", opID)
	}
	if opID == 0 {
		if h.FrameID != 0 {
			return errCode(h.Type, CodeInvalidState, "frame_id",
				"session-level message (operation_id 0) has frame_id %d, want 0", h.FrameID)
		}
		return nil
	}
	if bound == nil {
		return errCode(h.Type, CodeInvalidState, "operation_id", "unknown operation %d", opID)
	}
	frame, ok := bound(opID)
	if !ok {
		return errCode(h.Type, CodeInvalidState, "operation_id", "unknown operation %d", opID)
	}
	if frame != h.FrameID {
		return errCode(h.Type, CodeInvalidState, "frame_id",
			"operation %d is bound to frame %d, header has frame %d", opID, frame, h.FrameID)
	}
	return nil
}
