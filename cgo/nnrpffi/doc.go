// Package nnrpffi is a Go binding to the official NNRP/1 runtime library
// (libnnrp_ffi.so, SDK 1.0.0-preview.4.22, C ABI 4.4.0), for interop tests and
// benchmarks only: the official client against our server, our client against
// the official server, over TCP, TLS and QUIC.
//
// # Loading
//
// Load opens a library with dlopen(RTLD_NOW|RTLD_LOCAL) and resolves each
// entry point with dlsym; nothing links against it, so the package builds
// without it. The npm "tcp" artifact carries TCP and TCP+TLS, the "quic"
// artifact carries QUIC; both can be loaded into one process. The C
// declarations in nnrpffi_abi.h are this package's own, written from the
// published ABI; nnrpffi_abi.c checks every struct size and key offset at
// compile time. The library never receives a Go pointer: request bytes are
// copied into C memory for the duration of each call.
//
// # Client
//
//	conn, _ := lib.Dial(nnrpffi.DialOptions{Endpoint: "quic://127.0.0.1:4433",
//		TLS: &nnrpffi.ClientTLS{ServerName: "localhost", RootCertDER: root}})
//	sess, _ := conn.OpenSession(nnrpffi.SessionOptions{Profile: wire.ProfileToken,
//		SchemaID: nnrpffi.SchemaTokenDelta, SchemaVersion: nnrpffi.SchemaTokenDeltaVersion, MaxInFlight: 16})
//	f, _ := sess.Submit(&nnrpffi.SubmitRequest{Metadata: nnrpffi.TokenSubmit(50, wire.AllowDrop), Body: body})
//	events, _ := sess.Await(time.Second, 1) // Result / Drop / Partial / Progress
//	_ = sess.Close()                        // SESSION_CLOSE, waits for the ack
//	_ = conn.Close()
//
// Call sequence: [nnrp_transport_client_security_config_create] →
// nnrp_transport_connect → nnrp_client_connect (consumes the transport
// connection; the config is closed with nnrp_transport_close) →
// nnrp_client_open_session (runs the hello on first use) → nnrp_session_id →
// nnrp_client_submit / nnrp_client_cancel / nnrp_client_await_events (scope =
// the session handle; every payload_owner released with nnrp_buffer_release)
// → nnrp_client_close → nnrp_client_close_connection.
//
// Metadata blocks are package wire's types (wire.FrameSubmit,
// wire.ResultPush, wire.ResultDropReason, wire.PartialResult, wire.Progress,
// wire.SessionClose), encoded with their Append and decoded with their
// parsers; a tensor body comes from wire.SubmitBuilder (TensorRequest).
//
// What the client controls: every field of the 72-byte FRAME_SUBMIT metadata
// (wire and then the library validate it), the frame id (non-zero,
// increasing), header flags, view id, route id, trace id and the body. In SESSION_OPEN: profile,
// schema, priority, default deadline, max in flight, requested session id,
// lease TTL hint (allow_resume and cache hints exist in the ABI but are not
// exposed here). Not expressible: session flags other than allow_resume,
// SESSION_OPEN auth / extension blocks, CLIENT_HELLO contents, ALPN.
//
// # Server
//
// Call sequence: [nnrp_transport_server_security_config_create] →
// nnrp_transport_listen → nnrp_transport_listener_endpoint →
// nnrp_server_bind (consumes the listener) → per session
// nnrp_server_accept_begin → nnrp_server_accept_wait (polled) →
// nnrp_server_accept_claim → nnrp_server_await_events → nnrp_server_send_result
// or nnrp_runtime_frame_send → nnrp_server_close (acks a received
// SESSION_CLOSE) → nnrp_connection_close on the server handle.
//
// What the server controls: every field of the 64-byte RESULT_PUSH metadata
// (result class, applied budget policy, reused frame id, tile / covered /
// dropped counts, flags, status, timings, payload kinds) and the body;
// RESULT_DROP_REASON (code, role, flags, sequence, diagnostic), PARTIAL_RESULT
// and PROGRESS through nnrp_runtime_frame_send. The library checks less
// than wire's send-side rules (it would carry, say, a token-chunk result
// without typed payload frames, R7); this binding sends only metadata
// wire accepts. Not expressible: a plain
// RESULT_DROP, SERVER_HELLO_ACK / SESSION_OPEN_ACK contents beyond the bind
// options, the client's requested profile / schema / deadline (no getter;
// only an admission-policy callback would see SESSION_OPEN), and a
// certificate chain (one certificate only). After a RESULT_DROP_REASON the
// library keeps its operation handle until the session closes.
//
// # Timing
//
// Every call blocks the calling thread until the library's worker runtime
// finishes it. Calls without a timeout (open session, submit, send, close)
// use the library's fixed 30 s; a timeout_ms of 0 also means 30 s, so this
// package never passes 0 for a Go timeout (at least 1 ms). The library
// serialises calls on one session, so submitting while another goroutine
// awaits the same session waits for that await to return.
package nnrpffi
