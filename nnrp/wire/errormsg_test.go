package wire

import (
	"math/rand/v2"
	"testing"
)

func init() { registerMessage(ParseErrorMessage) }

func randomErrorMessage(r *rand.Rand) ErrorMessage {
	return ErrorMessage{
		Code: ErrorCode(r32(r)), Scope: rBelow(r, ErrorScope(3)), Fatal: rBelow(r, uint32(2)),
		RetryAfterMS: r32(r), RelatedSessionID: r32(r), RelatedFrameID: r32(r),
		RelatedViewID: r32(r), DiagnosticBytes: r32(r),
	}
}

func TestErrorMessageCodec(t *testing.T) { checkMessage(t, ParseErrorMessage, randomErrorMessage) }

func TestErrorMessageRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    ErrorMessage
	}{
		{"scope 3", ErrorMessage{Scope: 3}},
		{"is_fatal 2", ErrorMessage{Fatal: 2}},
	} {
		_, err := tc.m.Append(nil)
		expectReject(t, tc.name+" append", err, CodeMalformedBody)
		b := make([]byte, errorMessageLen)
		b[4], b[8] = byte(tc.m.Scope), byte(tc.m.Fatal)
		_, _, err = ParseErrorMessage(b)
		expectReject(t, tc.name+" parse", err, CodeMalformedBody)
	}
}
