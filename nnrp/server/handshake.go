package server

import (
	"context"
	"fmt"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// What the server accepts in the handshake. The accepted bitmaps are always
// intersected with what the client offered (C§3.3: a superset is a protocol
// violation for the reference client).
const (
	serverProfiles     = 0x3  // tensor (1) and token (2)
	serverPayloadKinds = 0x7F // the engine carries every kind; models check per frame
	serverCodecs       = 0x1  // raw only (no LZ4)
	serverDtypes       = 0xFF // fp16 … uint16; the model decides per frame
	serverLayouts      = 0x3  // NHWC, NCHW
	serverCacheObjects = 0x1FF
)

// handleHandshake processes packets before the connection is established
// (C§3.1, C§3.4): probes are answered, the first other packet must be a
// valid CLIENT_HELLO.
func (c *conn) handleHandshake(p *wire.Packet) error {
	switch p.Header.Type {
	case wire.TypeTransportProbe:
		return c.answerProbe(p)
	case wire.TypeClientHello:
	default:
		c.srv.stats.HandshakeFailures.Add(1)
		return c.fatal(wire.CodeInvalidState, fmt.Sprintf("expected CLIENT_HELLO, got %s", p.Header.Type))
	}
	if p.Header.SessionID != 0 {
		c.srv.stats.HandshakeFailures.Add(1)
		return c.fatal(wire.CodeMalformedHeader, "CLIENT_HELLO must be connection-scoped (session_id 0)")
	}
	hello, err := wire.Decode(p, wire.ParseClientHello)
	if err != nil {
		c.srv.stats.HandshakeFailures.Add(1)
		code, diag := protocolError(err) // unsupported_version or malformed_body (C§3.4)
		return c.fatal(code, diag)
	}
	auth, ext, err := hello.SplitBody(p.Body)
	if err != nil {
		c.srv.stats.HandshakeFailures.Add(1)
		return c.fatal(wire.CodeMalformedBody, err.Error())
	}
	// No control extension is critical to this server: an unknown critical
	// entry is refused, unknown non-critical entries are skipped (C§3.6).
	if err := wire.CheckControlExtensions(ext, func(uint16) bool { return false }); err != nil {
		c.srv.stats.HandshakeFailures.Add(1)
		code, diag := protocolError(err)
		return c.fatal(code, diag)
	}
	profiles := hello.SupportedProfileBitmap & serverProfiles
	if profiles == 0 {
		c.srv.stats.HandshakeFailures.Add(1)
		return c.fatal(wire.CodeUnsupportedCapability,
			fmt.Sprintf("no common profile: client offers 0x%x, server supports tensor and token (0x%x)", hello.SupportedProfileBitmap, serverProfiles))
	}
	kinds := hello.SupportedPayloadKindBitmap & serverPayloadKinds
	if kinds == 0 {
		c.srv.stats.HandshakeFailures.Add(1)
		return c.fatal(wire.CodeUnsupportedCapability, "no common payload kind")
	}
	hc := &ClientHelloContext{Hello: hello, Auth: copyBytes(auth), Extensions: wire.ControlExtensions(copyBytes(ext)),
		Carrier: c.c.Kind(), RemoteAddr: c.c.RemoteAddr()}
	if st := c.c.TLSState(); st != nil {
		hc.ALPN = st.NegotiatedProtocol
	}
	if v := c.srv.opts.Auth; v != nil {
		ctx, cancel := context.WithDeadline(c.ctx, c.handshakeDeadline())
		id, err := v.ValidateHello(ctx, hc)
		cancel()
		if err != nil {
			c.srv.stats.AuthRejected.Add(1)
			c.srv.stats.HandshakeFailures.Add(1)
			c.log.Info("nnrp client rejected by the auth validator", "err", err)
			return c.fatal(wire.CodeAuthFailed, "authentication failed")
		}
		c.identity = id
	}
	p0 := &c.srv.profile
	ack := wire.ServerHelloAck{
		SelectedVersionMajor:      wire.VersionMajor,
		SelectedWireFormat:        wire.WireFormat,
		AcceptedProfileBitmap:     profiles,
		AcceptedPayloadKindBitmap: kinds,
		AcceptedCodecBitmap:       hello.SupportedCodecBitmap & serverCodecs,
		AcceptedCompressionBitmap: 0,
		AcceptedDtypeBitmap:       hello.SupportedDtypeBitmap & serverDtypes,
		AcceptedLayoutBitmap:      hello.SupportedLayoutBitmap & serverLayouts,
		MaxLaneCount:              max(hello.MaxLaneCount, 1),
		MaxConcurrentFrames:       p0.MaxConcurrentFrames,
		TargetCadenceX100:         hello.TargetCadenceX100,
		LatencyBudgetMS:           hello.LatencyBudgetMS,
		QualityTier:               hello.QualityTier,
		DegradePolicy:             hello.DegradePolicy,
		MaxBodyBytes:              p0.MaxBodyBytes,
		TokenTTLMS:                uint32(p0.ResumeWindow / time.Millisecond),
	}
	if p0.EnableCache {
		ack.CacheObjectBitmap = uint32(hello.CacheObjectBitmap) & serverCacheObjects
		ack.CacheDigestBitmap = uint32(hello.CacheDigestBitmap) & 0x1
		ack.MaxCacheBytes = p0.CacheBytes
		ack.MaxCacheEntries = 4096
		ack.Flags = wire.ServerCacheEnabled
	}
	b, err := wire.AppendPacket(nil, wire.Header{}, &ack)
	if err != nil {
		return fmt.Errorf("server: building SERVER_HELLO_ACK: %w", err)
	}
	c.send(b)
	c.hello = hc
	c.state = established
	c.timer.Stop()
	c.timerAt = time.Time{}
	if idle := c.srv.profile.IdleTimeout; idle > 0 {
		c.armTimer(time.Now().Add(idle))
	}
	return nil
}

func (c *conn) handshakeDeadline() time.Time {
	return c.lastInbound.Add(c.srv.profile.HandshakeTimeout)
}

func (c *conn) answerProbe(p *wire.Packet) error {
	probe, err := wire.Decode(p, wire.ParseTransportProbe)
	if err != nil {
		// The Rust server closes on a malformed probe (C§3.8).
		code, diag := protocolError(err)
		return c.fatal(code, diag)
	}
	ack := wire.TransportProbeAck{ProbeID: probe.ProbeID, ServerRecvTSUS: uint64(time.Now().UnixMicro())}
	b, err := wire.AppendPacket(nil, wire.Header{}, &ack)
	if err != nil {
		return err
	}
	c.send(b)
	return nil
}

// handleConnectionPacket processes session_id 0 packets after the hello.
func (c *conn) handleConnectionPacket(p *wire.Packet) error {
	h := &p.Header
	switch h.Type {
	case wire.TypeTransportProbe:
		return c.answerProbe(p)
	case wire.TypeSessionOpen:
		c.handleSessionOpen(p)
		return nil
	case wire.TypePing:
		if err := p.CheckHeaderOnly(); err != nil {
			c.sendError(wire.CodeMalformedBody, wire.ScopeConnection, false, 0, 0, err.Error())
			return nil
		}
		c.pong(h)
		return nil
	case wire.TypePong:
		return nil
	case wire.TypeClose:
		// The client is going away (C§4.9): flush and close.
		c.state = closingConn
		return nil
	case wire.TypeClientHello:
		return c.fatal(wire.CodeInvalidState, "second CLIENT_HELLO on one connection")
	case wire.TypeError:
		if m, err := wire.Decode(p, wire.ParseErrorMessage); err == nil {
			c.log.Info("nnrp client reported an error", "code", m.Code, "fatal", m.Fatal == 1, "diagnostic", string(p.Body))
			if m.Fatal == 1 {
				c.state = closingConn
			}
		}
		return nil
	case wire.TypeFlowUpdate:
		if _, err := wire.Decode(p, wire.ParseFlowUpdate); err != nil {
			code, diag := protocolError(err)
			c.sendError(code, wire.ScopeConnection, false, 0, 0, diag)
		}
		return nil
	}
	c.sendError(wire.CodeInvalidState, wire.ScopeConnection, false, 0, h.FrameID,
		fmt.Sprintf("%s is not valid on the connection scope (session_id 0)", h.Type))
	return nil
}

func (c *conn) pong(h *wire.Header) {
	b, err := wire.AppendPacket(nil, wire.Header{Type: wire.TypePong, SessionID: h.SessionID, FrameID: h.FrameID,
		ViewID: h.ViewID, RouteID: h.RouteID, TraceID: h.TraceID}, nil)
	if err == nil {
		c.send(b)
	}
}

func copyBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
