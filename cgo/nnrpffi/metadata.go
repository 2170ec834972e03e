package nnrpffi

import (
	"fmt"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Message metadata is encoded and decoded with package wire: the binding
// sends exactly what wire's Append writes for the given values (so a value
// that breaks NNRP/1's send-side rules, e.g. a result whose class the
// metadata contradicts, is refused before it reaches the library) and
// decodes what the library delivers with wire's parsers.

// The stock schema of the official runtime.
const (
	// SchemaTokenDelta / SchemaTokenDeltaVersion is the only schema the
	// official server's stock registry installs; it accepts it under profile
	// 1 and 2 and rejects schema (0, 0) with wire.SessionSchemaUnsupported.
	// The official client opens sessions with it by default.
	SchemaTokenDelta        uint32 = 0x1001
	SchemaTokenDeltaVersion uint32 = 3
)

// TensorSubmit returns the metadata of an inline tensor submit without
// tiles: payload kind TENSOR, loss tolerance "inherit session". The official
// runtime carries any body under it; a spec-conformant server expects a
// structured tensor body (see TensorRequest).
func TensorSubmit(latencyBudgetMs uint16, policy wire.BudgetPolicy) wire.FrameSubmit {
	return wire.FrameSubmit{
		LatencyBudgetMS:   latencyBudgetMs,
		BudgetPolicy:      policy,
		LossTolerance:     wire.LossToleranceInheritSession,
		PayloadKindBitmap: wire.PayloadTensor,
	}
}

// TokenSubmit returns the metadata of a token-chunk submit with an opaque
// body (tile index mode RAW_U16, as the official builders write for
// non-tensor frames).
func TokenSubmit(latencyBudgetMs uint16, policy wire.BudgetPolicy) wire.FrameSubmit {
	return wire.FrameSubmit{
		TileIndexMode:     wire.TileIndexRawU16,
		LatencyBudgetMS:   latencyBudgetMs,
		BudgetPolicy:      policy,
		LossTolerance:     wire.LossToleranceInheritSession,
		PayloadKindBitmap: wire.PayloadTokenChunk,
	}
}

// TensorRequest turns a wire.SubmitBuilder (tiles, sections, typed frames
// and the caller's metadata fields) into a SubmitRequest whose metadata and
// body are exactly the bytes the builder writes. The builder's header
// supplies the header flags, view id, route id and trace id; its session
// and frame ids are ignored (the library sets them). Meta.OperationID 0
// keeps Submit's default (the frame id).
func TensorRequest(b *wire.SubmitBuilder) (*SubmitRequest, error) {
	opID := b.Meta.OperationID
	bb := *b
	if opID == 0 {
		// The builder needs a non-zero operation id; Submit replaces this
		// placeholder with the frame id.
		bb.Meta.OperationID = 1
	}
	pkt, err := bb.Append(nil)
	if err != nil {
		return nil, fmt.Errorf("nnrp ffi: tensor request: %w", err)
	}
	p, _, err := wire.ParsePacket(pkt, 0)
	if err != nil {
		return nil, fmt.Errorf("nnrp ffi: tensor request: %w", err)
	}
	m, _, err := wire.ParseFrameSubmit(p.Meta)
	if err != nil {
		return nil, fmt.Errorf("nnrp ffi: tensor request: %w", err)
	}
	m.OperationID = opID
	h := b.Header
	return &SubmitRequest{Metadata: m, Body: p.Body, HeaderFlags: h.Flags, ViewID: h.ViewID, RouteID: h.RouteID, TraceID: h.TraceID}, nil
}

// appendMeta encodes m (validated by wire) into a Go scratch buffer; callers
// copy it into C memory together with the body.
func appendMeta(scratch []byte, m wire.Message) ([]byte, error) {
	b, err := m.Append(scratch[:0])
	if err != nil {
		return nil, fmt.Errorf("nnrp ffi: %w", err)
	}
	return b, nil
}
