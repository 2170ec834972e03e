package server

import (
	"sync/atomic"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Stats are the engine's counters. Fields are updated atomically and may be
// read at any time (e.g. by a Prometheus collector).
type Stats struct {
	ConnectionsOpened atomic.Int64
	ConnectionsClosed atomic.Int64
	HandshakeFailures atomic.Int64 // carrier/hello/auth failures and timeouts
	AuthRejected      atomic.Int64
	SlowConsumers     atomic.Int64 // connections closed because the peer stopped reading

	SessionsOpened   atomic.Int64
	SessionsResumed  atomic.Int64
	SessionsRejected atomic.Int64
	SessionsClosed   atomic.Int64

	FramesReceived atomic.Int64 // FRAME_SUBMITs admitted as operations
	FramesRejected atomic.Int64 // FRAME_SUBMITs answered with ERROR (no operation created)
	BytesReceived  atomic.Int64
	// ResultsSent counts RESULT_PUSH by result class.
	ResultsSent [4]atomic.Int64
	// DropsSent counts RESULT_DROP (index 0) and RESULT_DROP_REASON by
	// reason code (1..9; 10 = any other code).
	DropsSent [11]atomic.Int64
	// LateAnswers counts application answers for frames that already had
	// their terminal answer (discarded).
	LateAnswers atomic.Int64
	// ProtocolErrors counts ERRORs sent, by error code (0..12; 13 = other).
	ProtocolErrors [14]atomic.Int64
}

func (s *Stats) countDrop(r wire.DropReason) {
	i := int(r)
	if i > 9 {
		i = 10
	}
	s.DropsSent[i].Add(1)
}

func (s *Stats) countError(c wire.ErrorCode) {
	i := int(c)
	if c > 12 {
		i = 13
	}
	s.ProtocolErrors[i].Add(1)
}
