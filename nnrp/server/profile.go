package server

import (
	"fmt"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// Profile holds the limits the server enforces and advertises. Every limit
// is enforced, not advisory: the official client keeps its whole window of
// submits outstanding whatever the server grants (ERRATA.md 6).
type Profile struct {
	// MaxConcurrentFrames is the most operations a session may have in
	// flight. A SESSION_OPEN asking for more is rejected with
	// session_limit_reached (the reference behaviour, nnrp/INTEROP.md); a
	// submit beyond it is answered with RESULT_DROP_REASON backpressure.
	MaxConcurrentFrames uint16
	// InFlightCredit is the initial granted_operation_credit (default:
	// MaxConcurrentFrames).
	InFlightCredit uint16
	// MaxSections is the most tensor sections per frame (at most 16).
	MaxSections int
	// MaxBodyBytes is the largest packet body accepted (default 32 MiB).
	MaxBodyBytes uint32
	// MaxSessionsPerConn limits sessions multiplexed on one connection.
	MaxSessionsPerConn int
	// HandshakeTimeout bounds carrier handshake + CLIENT_HELLO (+ the auth
	// validator). A client that connects and sends nothing is closed.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection with no inbound packet and no
	// operation in flight for this long (0: never).
	IdleTimeout time.Duration
	// WriteStallTimeout closes a connection whose peer stops reading for
	// this long while results are pending (a slow consumer).
	WriteStallTimeout time.Duration
	// MaxOutboundBytes is the per-connection write backlog above which the
	// connection stops reading new packets and result senders wait.
	MaxOutboundBytes int64
	// DefaultBudget is the server's latency budget for frames that carry
	// none and whose session declared none (ERRATA.md 8). 0 means none.
	DefaultBudget time.Duration
	// DeadlineGrace is how long after a frame's deadline the server itself
	// drops a frame the application has not answered (the application is
	// expected to answer at the deadline with the best result its budget
	// policy allows; this is the safety net that guarantees an answer).
	DeadlineGrace time.Duration
	// EnableCache accepts CACHE_PUT objects and resolves object references
	// from them (per session, bounded by CacheBytes).
	EnableCache bool
	// CacheBytes bounds the cached objects of one session.
	CacheBytes uint32
	// ResumeTokenBytes is the resume token length (0 disables resume).
	ResumeTokenBytes int
	// ResumeWindow is how long a detached resumable session is kept.
	ResumeWindow time.Duration
	// MaxAcceptQueue bounds opened sessions waiting for AcceptSession;
	// beyond it SESSION_OPEN is answered retry_later.
	MaxAcceptQueue int
}

// DefaultProfile returns the product defaults.
func DefaultProfile() Profile {
	return Profile{
		MaxConcurrentFrames: 64,
		MaxSections:         wire.MaxSections,
		MaxBodyBytes:        32 << 20,
		MaxSessionsPerConn:  64,
		HandshakeTimeout:    10 * time.Second,
		IdleTimeout:         10 * time.Minute,
		WriteStallTimeout:   30 * time.Second,
		MaxOutboundBytes:    64 << 20,
		DefaultBudget:       30 * time.Second,
		DeadlineGrace:       50 * time.Millisecond,
		CacheBytes:          16 << 20,
		ResumeTokenBytes:    24,
		ResumeWindow:        2 * time.Minute,
		MaxAcceptQueue:      256,
	}
}

// normalize fills zero fields with defaults and checks ranges.
func (p Profile) normalize() (Profile, error) {
	d := DefaultProfile()
	if p.MaxConcurrentFrames == 0 {
		p.MaxConcurrentFrames = d.MaxConcurrentFrames
	}
	if p.InFlightCredit == 0 || p.InFlightCredit > p.MaxConcurrentFrames {
		p.InFlightCredit = p.MaxConcurrentFrames
	}
	if p.MaxSections == 0 {
		p.MaxSections = d.MaxSections
	}
	if p.MaxSections < 1 || p.MaxSections > wire.MaxSections {
		return p, fmt.Errorf("server: MaxSections %d out of range 1..%d", p.MaxSections, wire.MaxSections)
	}
	if p.MaxBodyBytes == 0 {
		p.MaxBodyBytes = d.MaxBodyBytes
	}
	if uint64(p.MaxBodyBytes)+wire.HeaderLen+128 > wire.DefaultMaxPacket {
		return p, fmt.Errorf("server: MaxBodyBytes %d exceeds the 64 MiB packet limit", p.MaxBodyBytes)
	}
	if p.MaxSessionsPerConn <= 0 {
		p.MaxSessionsPerConn = d.MaxSessionsPerConn
	}
	if p.HandshakeTimeout <= 0 {
		p.HandshakeTimeout = d.HandshakeTimeout
	}
	if p.WriteStallTimeout <= 0 {
		p.WriteStallTimeout = d.WriteStallTimeout
	}
	if p.MaxOutboundBytes <= 0 {
		p.MaxOutboundBytes = d.MaxOutboundBytes
	}
	if p.DeadlineGrace < 0 {
		p.DeadlineGrace = 0
	}
	if p.EnableCache && p.CacheBytes == 0 {
		p.CacheBytes = d.CacheBytes
	}
	if p.ResumeTokenBytes < 0 || p.ResumeTokenBytes > 4096 {
		return p, fmt.Errorf("server: ResumeTokenBytes %d out of range 0..4096", p.ResumeTokenBytes)
	}
	if p.ResumeWindow <= 0 {
		p.ResumeWindow = d.ResumeWindow
	}
	if p.MaxAcceptQueue <= 0 {
		p.MaxAcceptQueue = d.MaxAcceptQueue
	}
	return p, nil
}

// maxPacket is the largest packet the reader accepts.
func (p *Profile) maxPacket() uint64 {
	return wire.HeaderLen + 128 + uint64(p.MaxBodyBytes)
}
