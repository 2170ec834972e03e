package wire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseSessionPatch)
	registerMessage(ParseSessionPatchAck)
}

func randomSessionPatch(r *rand.Rand) SessionPatch {
	return SessionPatch{
		ProfileID: ProfileID(r16(r)), Mask: rBits(r, knownPatchMask), TargetCadenceX100: r32(r),
		QualityTier: r16(r), DegradePolicy: r16(r), ActiveLaneMask: r64(r), PreferredCodecBitmap: r32(r),
		PreferredCompressionBitmap: r32(r), ProfilePatchBytes: r32(r),
	}
}

func randomSessionPatchAck(r *rand.Rand) SessionPatchAck {
	return SessionPatchAck{
		Status: rBelow(r, PatchRejected+1), RejectReason: rBelow(r, PatchRejectRateLimited+1),
		AppliedMask: rBits(r, knownPatchMask), RejectedMask: rBits(r, knownPatchMask), RetryAfterMS: r32(r),
		EffectiveProfileID: ProfileID(r16(r)), EffectiveTargetCadenceX100: r32(r), EffectiveQualityTier: r16(r),
		EffectiveDegradePolicy: r16(r), EffectiveLaneMask: r64(r), EffectiveCodecBitmap: r32(r),
		EffectiveCompressionBitmap: r32(r), ProfilePatchAckBytes: r32(r),
	}
}

func TestSessionPatchCodec(t *testing.T) { checkMessage(t, ParseSessionPatch, randomSessionPatch) }

func TestSessionPatchAckCodec(t *testing.T) {
	checkMessage(t, ParseSessionPatchAck, randomSessionPatchAck)
}

func TestSessionPatchRejects(t *testing.T) {
	base := SessionPatch{Mask: PatchTargetCadence | PatchProfilePatch, TargetCadenceX100: 3000, ProfilePatchBytes: 16}
	ctlRejects(t, base, ParseSessionPatch, []ctlCase[SessionPatch]{
		{name: "reserved 2", patch: func(b []byte) { b[2] = 1 }},
		{name: "reserved 3", patch: func(b []byte) { b[3] = 1 }},
		{name: "patch_mask 0x80", mod: func(m *SessionPatch) { m.Mask = 0x80 }},
	})
	if n, ok := base.ExpectedBodyLen(); !ok || n != 16 {
		t.Fatalf("ExpectedBodyLen = %d, %v", n, ok)
	}
}

func TestSessionPatchAckRejects(t *testing.T) {
	base := SessionPatchAck{Status: PatchRejected, RejectReason: PatchRejectRateLimited,
		RejectedMask: PatchActiveLaneMask, RetryAfterMS: 100, EffectiveProfileID: ProfileToken}
	ctlRejects(t, base, ParseSessionPatchAck, []ctlCase[SessionPatchAck]{
		{name: "reserved 18", patch: func(b []byte) { b[18] = 1 }},
		{name: "reserved 19", patch: func(b []byte) { b[19] = 1 }},
		{name: "ack_status 3", mod: func(m *SessionPatchAck) { m.Status = 3 }},
		{name: "reject_reason 6", mod: func(m *SessionPatchAck) { m.RejectReason = 6 }},
		{name: "applied mask 0x80", mod: func(m *SessionPatchAck) { m.AppliedMask = 0x80 }},
		{name: "rejected mask 0x100", mod: func(m *SessionPatchAck) { m.RejectedMask = 0x100 }},
	})
}

func TestTensorProfilePatch(t *testing.T) {
	p := TensorProfilePatch{MinWidth: 64, MinHeight: 48, MaxWidth: 1920, MaxHeight: 1080}
	b := p.Append([]byte{0xAB})
	want := []byte{0xAB, 64, 0, 0, 0, 48, 0, 0, 0, 0x80, 7, 0, 0, 0x38, 4, 0, 0}
	if !bytes.Equal(b, want) || len(b)-1 != p.Len() {
		t.Fatalf("Append = %x, want %x", b, want)
	}
	got, n, err := ParseTensorProfilePatch(append(b[1:], 0xEE))
	if err != nil || n != 16 || got != p {
		t.Fatalf("Parse = %+v, %d, %v", got, n, err)
	}
	for cut := range 16 {
		_, n, err := ParseTensorProfilePatch(b[1 : 1+cut])
		if !errors.Is(err, io.ErrUnexpectedEOF) || n != 0 {
			t.Fatalf("parse of %d bytes: %d, %v", cut, n, err)
		}
		expectReject(t, "truncated", err, CodeMalformedBody)
	}
}
