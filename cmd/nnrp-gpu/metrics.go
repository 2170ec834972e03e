package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// serverCollector exports the engine's counters (server.Stats) to
// Prometheus at scrape time.
type serverCollector struct {
	srv   *server.Server
	descs map[string]*prometheus.Desc
}

func newServerCollector(srv *server.Server) *serverCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("nnrp_"+name, help, labels, nil)
	}
	return &serverCollector{srv: srv, descs: map[string]*prometheus.Desc{
		"conns":     d("connections_total", "Connections accepted and closed.", "event"),
		"handshake": d("handshake_failures_total", "Connections that failed the carrier handshake, CLIENT_HELLO or authentication."),
		"auth":      d("auth_rejected_total", "Clients rejected by the auth validator."),
		"slow":      d("slow_consumers_total", "Connections closed because the client stopped reading."),
		"sessions":  d("sessions_total", "Sessions by event.", "event"),
		"frames":    d("frames_received_total", "FRAME_SUBMITs admitted as operations."),
		"rejected":  d("frames_rejected_total", "FRAME_SUBMITs refused with ERROR (no operation created)."),
		"bytes":     d("received_bytes_total", "Bytes of packets received."),
		"results":   d("results_total", "RESULT_PUSH sent, by result class.", "class"),
		"drops":     d("drops_total", "Frames dropped (RESULT_DROP / RESULT_DROP_REASON), by reason.", "reason"),
		"late":      d("late_answers_total", "Answers discarded because the frame was already answered (cancelled, expired)."),
		"errors":    d("protocol_errors_total", "ERROR packets sent, by code.", "code"),
		"buffers":   d("receive_buffers", "Receive buffers held by frames in flight.", "unit"),
	}}
}

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	counter := func(name string, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v), labels...)
	}
	counter("conns", st.ConnectionsOpened.Load(), "opened")
	counter("conns", st.ConnectionsClosed.Load(), "closed")
	counter("handshake", st.HandshakeFailures.Load())
	counter("auth", st.AuthRejected.Load())
	counter("slow", st.SlowConsumers.Load())
	counter("sessions", st.SessionsOpened.Load(), "opened")
	counter("sessions", st.SessionsResumed.Load(), "resumed")
	counter("sessions", st.SessionsRejected.Load(), "rejected")
	counter("sessions", st.SessionsClosed.Load(), "closed")
	counter("frames", st.FramesReceived.Load())
	counter("rejected", st.FramesRejected.Load())
	counter("bytes", st.BytesReceived.Load())
	for i := range st.ResultsSent {
		counter("results", st.ResultsSent[i].Load(), wire.ResultClass(i).String())
	}
	for i := range st.DropsSent {
		name := "other"
		switch {
		case i == 0:
			name = "unspecified"
		case i <= 9:
			name = wire.DropReason(i).String()
		}
		counter("drops", st.DropsSent[i].Load(), name)
	}
	counter("late", st.LateAnswers.Load())
	for i := range st.ProtocolErrors {
		name := "other"
		if i < 13 {
			name = wire.ErrorCode(i).String()
		}
		if v := st.ProtocolErrors[i].Load(); v > 0 || i == int(wire.CodeMalformedHeader) {
			counter("errors", v, name)
		}
	}
	n, b := c.srv.ReceiveBuffers()
	ch <- prometheus.MustNewConstMetric(c.descs["buffers"], prometheus.GaugeValue, float64(n), "buffers")
	ch <- prometheus.MustNewConstMetric(c.descs["buffers"], prometheus.GaugeValue, float64(b), "bytes")
}
