package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseTransportProbe)
	registerMessage(ParseTransportProbeAck)
}

func randomTransportProbe(r *rand.Rand) TransportProbe {
	return TransportProbe{ProbeID: r32(r), ProbePayloadBytes: r32(r), ClientSendTSUS: r64(r)}
}

func randomTransportProbeAck(r *rand.Rand) TransportProbeAck {
	return TransportProbeAck{ProbeID: r32(r), ServerRecvTSUS: r64(r)}
}

func TestTransportProbeCodec(t *testing.T) {
	checkMessage(t, ParseTransportProbe, randomTransportProbe)
	m := TransportProbe{ProbePayloadBytes: 32 << 10}
	if n, ok := m.ExpectedBodyLen(); !ok || n != 32<<10 {
		t.Fatalf("ExpectedBodyLen = %d, %v", n, ok)
	}
}

func TestTransportProbeAckCodec(t *testing.T) {
	checkMessage(t, ParseTransportProbeAck, randomTransportProbeAck)
}

func TestTransportProbeAckRejects(t *testing.T) {
	valid, err := (&TransportProbeAck{ProbeID: 7, ServerRecvTSUS: 100800}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(valid[4:8], []byte{0, 0, 0, 0}) {
		t.Fatalf("reserved word written as %x", valid[4:8])
	}
	for off := 4; off < 8; off++ {
		b := bytes.Clone(valid)
		b[off] = 1
		_, n, err := ParseTransportProbeAck(b)
		expectReject(t, "reserved byte "+itoa(uint64(off)), err, CodeMalformedBody)
		if n != 0 {
			t.Fatalf("failed parse consumed %d bytes", n)
		}
	}
}
