package wire

import "encoding/binary"

const (
	transportProbeLen    = 16
	transportProbeAckLen = 16
)

// TransportProbe is the metadata of TRANSPORT_PROBE (type 0x19, 16 bytes,
// C§3.8): a carrier measurement the server answers on the connection path
// before and after the hello. The body is ProbePayloadBytes of padding.
type TransportProbe struct {
	ProbeID           uint32 `json:"probe_id"`
	ProbePayloadBytes uint32 `json:"probe_payload_bytes"`
	ClientSendTSUS    uint64 `json:"client_send_ts_us"`
}

// Type returns TypeTransportProbe.
func (*TransportProbe) Type() MessageType { return TypeTransportProbe }

// Len returns 16.
func (*TransportProbe) Len() int { return transportProbeLen }

// ExpectedBodyLen returns ProbePayloadBytes.
func (m *TransportProbe) ExpectedBodyLen() (uint64, bool) { return uint64(m.ProbePayloadBytes), true }

// CheckHeader enforces the connection scope of TRANSPORT_PROBE (C§3.8).
func (m *TransportProbe) CheckHeader(h *Header) error {
	return ctlConnectionScope(TypeTransportProbe, h)
}

// Append appends the 16 bytes of m to b. It never fails: every field takes
// any value.
func (m *TransportProbe) Append(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, m.ProbeID)
	b = binary.LittleEndian.AppendUint32(b, m.ProbePayloadBytes)
	b = binary.LittleEndian.AppendUint64(b, m.ClientSendTSUS)
	return b, nil
}

// ParseTransportProbe decodes TRANSPORT_PROBE metadata from the start of b.
func ParseTransportProbe(b []byte) (TransportProbe, int, error) {
	if len(b) < transportProbeLen {
		return TransportProbe{}, 0, errShort(TypeTransportProbe, "metadata", transportProbeLen, len(b))
	}
	return TransportProbe{
		ProbeID:           binary.LittleEndian.Uint32(b[0:]),
		ProbePayloadBytes: binary.LittleEndian.Uint32(b[4:]),
		ClientSendTSUS:    binary.LittleEndian.Uint64(b[8:]),
	}, transportProbeLen, nil
}

// TransportProbeAck is the metadata of TRANSPORT_PROBE_ACK (type 0x1a, 16
// bytes, C§3.8), sent with header session_id 0, frame_id 0 and no body.
type TransportProbeAck struct {
	ProbeID        uint32 `json:"probe_id"`          // echo of the probe
	ServerRecvTSUS uint64 `json:"server_recv_ts_us"` // server receive time, Unix µs
}

// Type returns TypeTransportProbeAck.
func (*TransportProbeAck) Type() MessageType { return TypeTransportProbeAck }

// Len returns 16.
func (*TransportProbeAck) Len() int { return transportProbeAckLen }

// ExpectedBodyLen returns 0: TRANSPORT_PROBE_ACK has no body.
func (*TransportProbeAck) ExpectedBodyLen() (uint64, bool) { return 0, true }

// CheckHeader enforces the connection scope of TRANSPORT_PROBE_ACK (C§3.8).
func (m *TransportProbeAck) CheckHeader(h *Header) error {
	return ctlConnectionScope(TypeTransportProbeAck, h)
}

// Append appends the 16 bytes of m to b. It never fails: the only rule is
// the reserved word, which Append writes as zero.
func (m *TransportProbeAck) Append(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, m.ProbeID)
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved
	b = binary.LittleEndian.AppendUint64(b, m.ServerRecvTSUS)
	return b, nil
}

// ParseTransportProbeAck decodes TRANSPORT_PROBE_ACK metadata from the start
// of b; the reserved u32 at offset 4 must be zero.
func ParseTransportProbeAck(b []byte) (TransportProbeAck, int, error) {
	if len(b) < transportProbeAckLen {
		return TransportProbeAck{}, 0, errShort(TypeTransportProbeAck, "metadata", transportProbeAckLen, len(b))
	}
	m := TransportProbeAck{
		ProbeID:        binary.LittleEndian.Uint32(b[0:]),
		ServerRecvTSUS: binary.LittleEndian.Uint64(b[8:]),
	}
	if err := checkZero(TypeTransportProbeAck, "reserved", binary.LittleEndian.Uint32(b[4:])); err != nil {
		return TransportProbeAck{}, 0, err
	}
	return m, transportProbeAckLen, nil
}
