package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseSessionMigrate)
	registerMessage(ParseSessionMigrateAck)
}

func randomSessionMigrate(r *rand.Rand) SessionMigrate {
	old := TransportID(1 + rBelow(r, uint32(0xFFFFFFFE)))
	return SessionMigrate{
		OldTransportID: old, NewTransportID: old%4 + 1, // 1–4, never equal to old
		LastResultFrameID: r64(r), ClientMigrateTSUS: r64(r),
	}
}

func randomSessionMigrateAck(r *rand.Rand) SessionMigrateAck {
	return SessionMigrateAck{AcceptCode: r32(r), ResumeFromFrameID: r64(r), GraceWindowMS: r32(r),
		ServerMigrateTSUS: r64(r)}
}

func TestSessionMigrateCodec(t *testing.T) {
	checkMessage(t, ParseSessionMigrate, randomSessionMigrate)
}

func TestSessionMigrateAckCodec(t *testing.T) {
	checkMessage(t, ParseSessionMigrateAck, randomSessionMigrateAck)
}

func TestSessionMigrateRejects(t *testing.T) {
	base := SessionMigrate{OldTransportID: TransportTCP, NewTransportID: TransportQUIC, LastResultFrameID: 7}
	ctlRejects(t, base, ParseSessionMigrate, []ctlCase[SessionMigrate]{
		{name: "old 0", mod: func(m *SessionMigrate) { m.OldTransportID = 0 }},
		{name: "new 0", mod: func(m *SessionMigrate) { m.NewTransportID = 0 }},
		{name: "same transport", mod: func(m *SessionMigrate) { m.NewTransportID = TransportTCP }},
	})
}

func TestSessionMigrateAckLayout(t *testing.T) {
	m := SessionMigrateAck{AcceptCode: 1, ResumeFromFrameID: 0x0807060504030201, GraceWindowMS: 0x0c0b0a09,
		ServerMigrateTSUS: 0x1817161514131211}
	b, err := m.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The u64 resume cursor sits unaligned at offset 4.
	want := ctlHex(t, "01000000 0102030405060708 090a0b0c 1112131415161718")
	if string(b) != string(want) {
		t.Fatalf("Append = %x, want %x", b, want)
	}
}

func TestSessionMigrateAckCheckForRequest(t *testing.T) {
	req := SessionMigrate{OldTransportID: TransportTCP, NewTransportID: TransportQUIC, LastResultFrameID: 10}
	for _, a := range []SessionMigrateAck{
		{ResumeFromFrameID: 10},
		{ResumeFromFrameID: 11},
		{AcceptCode: 3}, // a rejection carries no cursor
	} {
		if err := a.CheckForRequest(&req); err != nil {
			t.Errorf("%+v: %v", a, err)
		}
	}
	expectReject(t, "cursor before last result", (&SessionMigrateAck{ResumeFromFrameID: 9}).CheckForRequest(&req),
		CodeMalformedBody)
}
