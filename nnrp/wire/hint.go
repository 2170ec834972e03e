package wire

import "encoding/binary"

// ExecutorClass is the executor_class registry (C§7.1). It is not validated.
type ExecutorClass uint16

// Executor classes.
const (
	ExecutorUnspecified   ExecutorClass = 0
	ExecutorLocalRuntime  ExecutorClass = 1
	ExecutorRemoteRuntime ExecutorClass = 2
	ExecutorGPUWorker     ExecutorClass = 3
	ExecutorCPUWorker     ExecutorClass = 4
	ExecutorSubagent      ExecutorClass = 5
	ExecutorToolHost      ExecutorClass = 6
	ExecutorModelServer   ExecutorClass = 7
	ExecutorRenderWorker  ExecutorClass = 8
)

var executorClassNames = []string{
	"unspecified", "local_runtime", "remote_runtime", "gpu_worker", "cpu_worker",
	"subagent", "tool_host", "model_server", "render_worker",
}

func (e ExecutorClass) String() string {
	return registryName(executorClassNames, uint64(e), "executor_class")
}

// AffinityClass is the affinity_class registry (C§7.1). It is not validated.
type AffinityClass uint16

// Affinity classes.
const (
	AffinityNone         AffinityClass = 0
	AffinitySameProcess  AffinityClass = 1
	AffinitySameHost     AffinityClass = 2
	AffinitySameGPU      AffinityClass = 3
	AffinitySameNUMA     AffinityClass = 4
	AffinitySameRegion   AffinityClass = 5
	AffinityStorageLocal AffinityClass = 6
)

var affinityClassNames = []string{
	"none", "same_process", "same_host", "same_gpu", "same_numa", "same_region", "storage_local",
}

func (a AffinityClass) String() string {
	return registryName(affinityClassNames, uint64(a), "affinity_class")
}

// HintFlags is the flags word of ROUTE_HINT and EXECUTION_HINT (C§7.7).
type HintFlags uint32

// Hint flags.
const (
	HintMustHonor  HintFlags = 0x1
	HintBestEffort HintFlags = 0x2

	knownHintFlags = HintMustHonor | HintBestEffort
)

const hintLen = 32

// RouteHint is the metadata of ROUTE_HINT (type 0x3d, 32 bytes, C§7.7,
// optional control.route_execution_hint). EXECUTION_HINT shares the layout
// (ExecutionHint). The body is an opaque hint payload of BodyBytes bytes.
type RouteHint struct {
	// OperationID is the operation routed; 0 means session-level. The header
	// frame_id must match it (CheckOperationFrame).
	OperationID    uint64        `json:"operation_id"`
	RouteID        uint32        `json:"route_id"` // preferred route
	Executor       ExecutorClass `json:"executor_class"`
	Affinity       AffinityClass `json:"affinity_class"`
	DeadlineUnixMS uint64        `json:"deadline_unix_ms"` // route-level deadline, absolute
	BodyBytes      uint32        `json:"body_bytes"`
	Flags          HintFlags     `json:"flags"`
}

// ExecutionHint is the metadata of EXECUTION_HINT (type 0x3e, 32 bytes,
// C§7.7, optional). Layout of RouteHint.
type ExecutionHint RouteHint

func (m *RouteHint) check(t MessageType) error {
	return checkMask(t, "flags", m.Flags, knownHintFlags)
}

func (m *RouteHint) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, m.OperationID)
	b = binary.LittleEndian.AppendUint32(b, m.RouteID)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Executor))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Affinity))
	b = binary.LittleEndian.AppendUint64(b, m.DeadlineUnixMS)
	b = binary.LittleEndian.AppendUint32(b, m.BodyBytes)
	return binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
}

func parseHint(t MessageType, b []byte) (RouteHint, int, error) {
	if len(b) < hintLen {
		return RouteHint{}, 0, errShort(t, "metadata", hintLen, len(b))
	}
	m := RouteHint{
		OperationID:    binary.LittleEndian.Uint64(b[0:]),
		RouteID:        binary.LittleEndian.Uint32(b[8:]),
		Executor:       ExecutorClass(binary.LittleEndian.Uint16(b[12:])),
		Affinity:       AffinityClass(binary.LittleEndian.Uint16(b[14:])),
		DeadlineUnixMS: binary.LittleEndian.Uint64(b[16:]),
		BodyBytes:      binary.LittleEndian.Uint32(b[24:]),
		Flags:          HintFlags(binary.LittleEndian.Uint32(b[28:])),
	}
	if err := m.check(t); err != nil {
		return RouteHint{}, 0, err
	}
	return m, hintLen, nil
}

// Type returns TypeRouteHint.
func (*RouteHint) Type() MessageType { return TypeRouteHint }

// Len returns 32.
func (*RouteHint) Len() int { return hintLen }

// ExpectedBodyLen returns BodyBytes.
func (m *RouteHint) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

// CorrelatedOperation returns OperationID.
func (m *RouteHint) CorrelatedOperation() uint64 { return m.OperationID }

func (m *RouteHint) validate() error { return m.check(TypeRouteHint) }

// Append validates m and appends its 32 bytes to b.
func (m *RouteHint) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// ParseRouteHint decodes and validates ROUTE_HINT metadata from the start of
// b.
func ParseRouteHint(b []byte) (RouteHint, int, error) { return parseHint(TypeRouteHint, b) }

// Type returns TypeExecutionHint.
func (*ExecutionHint) Type() MessageType { return TypeExecutionHint }

// Len returns 32.
func (*ExecutionHint) Len() int { return hintLen }

// ExpectedBodyLen returns BodyBytes.
func (m *ExecutionHint) ExpectedBodyLen() (uint64, bool) { return uint64(m.BodyBytes), true }

// CorrelatedOperation returns OperationID.
func (m *ExecutionHint) CorrelatedOperation() uint64 { return m.OperationID }

func (m *ExecutionHint) validate() error { return (*RouteHint)(m).check(TypeExecutionHint) }

// Append validates m and appends its 32 bytes to b.
func (m *ExecutionHint) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return (*RouteHint)(m).put(b), nil
}

// ParseExecutionHint decodes and validates EXECUTION_HINT metadata from the
// start of b.
func ParseExecutionHint(b []byte) (ExecutionHint, int, error) {
	m, n, err := parseHint(TypeExecutionHint, b)
	return ExecutionHint(m), n, err
}
