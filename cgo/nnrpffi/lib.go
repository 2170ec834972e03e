package nnrpffi

/*
#cgo CFLAGS: -O2 -Wall -Werror
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "nnrpffi_abi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// ABI version this binding is written against. Load refuses another major
// version or an older minor version.
const (
	ABIMajor = 4
	ABIMinor = 4
)

// Transport is an NNRP transport id (also its slot bit minus one).
type Transport uint32

// Transports carried by the official libraries: the tcp artifact carries TCP
// (plain and TLS), the quic artifact carries QUIC.
const (
	TransportQUIC Transport = 1
	TransportTCP  Transport = 2
)

func (t Transport) String() string {
	switch t {
	case TransportQUIC:
		return "quic"
	case TransportTCP:
		return "tcp"
	}
	return fmt.Sprintf("transport(%d)", uint32(t))
}

func (t Transport) scheme() string { return t.String() + "://" }

// transportOf returns the transport named by an endpoint's scheme.
func transportOf(endpoint string) (Transport, error) {
	switch {
	case strings.HasPrefix(endpoint, "tcp://"):
		return TransportTCP, nil
	case strings.HasPrefix(endpoint, "quic://"):
		return TransportQUIC, nil
	}
	return 0, fmt.Errorf("nnrp ffi: endpoint %q: scheme must be tcp:// or quic://", endpoint)
}

// Capabilities is what nnrp_runtime_capabilities reports.
type Capabilities struct {
	ABIMajor, ABIMinor, ABIPatch uint16
	ProtocolMajor, WireFormat    uint8
	SDKMajor, SDKMinor, SDKPatch uint16
	SDKPreview, SDKRevision      uint16
	TransportSlots               uint32 // bit 0 QUIC, bit 1 TCP, bit 2 IPC, bit 3 WebSocket
	Features                     uint64
}

// SDKVersion formats the SDK version, e.g. "1.0.0-preview.4.22".
func (c Capabilities) SDKVersion() string {
	return fmt.Sprintf("%d.%d.%d-preview.%d.%d", c.SDKMajor, c.SDKMinor, c.SDKPatch, c.SDKPreview, c.SDKRevision)
}

// Supports reports whether the library carries transport t.
func (c Capabilities) Supports(t Transport) bool {
	return t >= 1 && t <= 32 && c.TransportSlots&(1<<(t-1)) != 0
}

// Lib is one loaded copy of libnnrp_ffi.so. A process may load the TCP and
// the QUIC artifact side by side: each is opened RTLD_LOCAL and called only
// through the function pointers resolved at Load. A Lib is never unloaded
// (the library runs its own worker threads).
type Lib struct {
	path string
	api  *C.nf_api // C memory, lives as long as the process
	caps Capabilities
	live atomic.Int64
}

var (
	libsMu sync.Mutex
	libs   = map[string]*Lib{}

	// nextID hands out the caller-chosen ids of connections, servers, sessions
	// and accept tickets; one counter for the process keeps them unique even
	// when one library serves both the client and the server side.
	nextID atomic.Uint64
)

func newID() uint64 { return nextID.Add(1) }

// generation is the generation of every handle this binding creates.
const generation = 1

// Load opens the library at path (once per path; later calls return the same
// *Lib), resolves the entry points this package uses, and checks the ABI
// version.
func Load(path string) (*Lib, error) {
	if path == "" {
		return nil, errors.New("nnrp ffi: empty library path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("nnrp ffi: %w", err)
	}
	libsMu.Lock()
	defer libsMu.Unlock()
	if l, ok := libs[abs]; ok {
		return l, nil
	}

	api := (*C.nf_api)(C.calloc(1, C.sizeof_nf_api))
	cpath := C.CString(abs)
	defer C.free(unsafe.Pointer(cpath))
	const errLen = 512
	cerr := (*C.char)(C.calloc(1, errLen))
	defer C.free(unsafe.Pointer(cerr))
	if C.nf_load(cpath, api, cerr, errLen) != 0 {
		C.free(unsafe.Pointer(api))
		return nil, fmt.Errorf("nnrp ffi: load: %s", C.GoString(cerr))
	}
	c := C.nf_call_runtime_capabilities(api)
	caps := Capabilities{
		ABIMajor: uint16(c.abi_major), ABIMinor: uint16(c.abi_minor), ABIPatch: uint16(c.abi_patch),
		ProtocolMajor: uint8(c.protocol_major), WireFormat: uint8(c.protocol_wire_format),
		SDKMajor: uint16(c.sdk_major), SDKMinor: uint16(c.sdk_minor), SDKPatch: uint16(c.sdk_patch),
		SDKPreview: uint16(c.sdk_preview), SDKRevision: uint16(c.sdk_revision),
		TransportSlots: uint32(c.transport_slots), Features: uint64(c.features),
	}
	// The library stays mapped: a half-initialised Rust runtime must not be
	// unmapped, and an unusable version is simply never called again.
	if caps.ABIMajor != ABIMajor || caps.ABIMinor < ABIMinor {
		return nil, fmt.Errorf("nnrp ffi: %s has C ABI %d.%d.%d, need %d.%d or a later minor", abs,
			caps.ABIMajor, caps.ABIMinor, caps.ABIPatch, ABIMajor, ABIMinor)
	}
	if caps.ProtocolMajor != 1 || caps.WireFormat != 0 {
		return nil, fmt.Errorf("nnrp ffi: %s speaks protocol %d wire format %d, need 1/0", abs, caps.ProtocolMajor, caps.WireFormat)
	}
	l := &Lib{path: abs, api: api, caps: caps}
	libs[abs] = l
	return l, nil
}

// Path is the absolute path the library was loaded from.
func (l *Lib) Path() string { return l.path }

// Capabilities returns the library's reported versions, transports and features.
func (l *Lib) Capabilities() Capabilities { return l.caps }

// OpenHandles is the number of native handles this binding currently owns in
// this library (connections, sessions, servers, accept tickets, transport
// objects during setup, and event payload buffers before their release). It
// is zero when everything opened through this Lib has been closed.
func (l *Lib) OpenHandles() int64 { return l.live.Load() }

// statusError is the one place where a C ABI status becomes a Go error.
func statusError(op string, s C.nf_status) error {
	if StatusCode(s.code) == StatusOK {
		return nil
	}
	return &Error{
		Op:           op,
		Code:         StatusCode(s.code),
		Family:       ErrorFamily(s.family),
		ProtocolCode: wire.ErrorCode(s.protocol_code),
		Detail:       uint32(s.detail),
	}
}

func isStatus(err error, c StatusCode) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}

// cBuf is C heap memory holding a copy of Go bytes for the duration of one
// call, so the library never sees a Go pointer.
// sessionHandle is the binding's state of a library session handle, shared
// by client and server sessions.
type sessionHandle struct {
	mu     sync.RWMutex // R: calls on the session; W: closing it
	closed bool
	native bool // the library still holds the handle
}

// release gives the handle's count in live back once the library no longer
// holds it. Called with mu held for writing.
func (h *sessionHandle) release(live *atomic.Int64) {
	if h.native {
		h.native = false
		live.Add(-1)
	}
}

// invalidate closes the handle for the binding because its connection is
// closing, which reclaims it in the library.
func (h *sessionHandle) invalidate(live *atomic.Int64) {
	h.mu.Lock()
	h.closed = true
	h.release(live)
	h.mu.Unlock()
}

// close closes the handle for the binding and calls closeNative to close it
// in the library; the handle is released when that succeeds (otherwise its
// connection's close reclaims it). It returns ErrClosed when called again.
func (h *sessionHandle) close(live *atomic.Int64, closeNative func() error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	h.closed = true
	err := closeNative()
	if err == nil {
		h.release(live)
	}
	return err
}

type cBuf struct {
	p unsafe.Pointer
	n int
}

// newCBuf concatenates parts into C memory.
func newCBuf(parts ...[]byte) cBuf {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n == 0 {
		return cBuf{}
	}
	b := cBuf{p: C.malloc(C.size_t(n)), n: n}
	dst := b.bytes()
	for _, p := range parts {
		dst = dst[copy(dst, p):]
	}
	return b
}

func (b cBuf) bytes() []byte {
	if b.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(b.p), b.n)
}

func (b cBuf) view() C.nf_bytes {
	return C.nf_bytes{ptr: (*C.uint8_t)(b.p), len: C.uintptr_t(b.n)}
}

func (b cBuf) free() {
	if b.p != nil {
		C.free(b.p)
	}
}

// timeoutMs converts a Go timeout for an ABI timeout_ms field, where 0 would
// mean the library's fixed 30 s: it is rounded up to whole milliseconds and
// is at least 1 ms.
func timeoutMs(d time.Duration) C.uint32_t {
	if d <= 0 {
		return 1
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return math.MaxUint32
	}
	return C.uint32_t(ms)
}

// durationMs converts an optional duration (0 = unset) for a u32 millisecond
// field of a request.
func durationMs(what string, d time.Duration) (C.uint32_t, error) {
	if d < 0 || d/time.Millisecond > math.MaxUint32 {
		return 0, fmt.Errorf("nnrp ffi: %s %v out of range", what, d)
	}
	return C.uint32_t(d / time.Millisecond), nil
}

// opHandle is a Go copy of a native operation handle.
type opHandle struct {
	kind, generation, flags uint32
	id                      uint64
}

func opHandleOf(h C.nf_handle) opHandle {
	return opHandle{kind: uint32(h.kind), id: uint64(h.id), generation: uint32(h.generation), flags: uint32(h.flags)}
}

func (h opHandle) c() C.nf_handle {
	return C.nf_handle{kind: C.uint32_t(h.kind), id: C.uint64_t(h.id), generation: C.uint32_t(h.generation), flags: C.uint32_t(h.flags)}
}

func newHandle(kind uint32, id uint64) C.nf_handle {
	return C.nf_handle{kind: C.uint32_t(kind), id: C.uint64_t(id), generation: generation}
}

// closeTransportObject closes a transport connection, listener or security
// config that was not consumed.
func (l *Lib) closeTransportObject(h C.nf_handle) error {
	err := statusError("nnrp_transport_close", C.nf_call_transport_close(l.api, h))
	if err == nil {
		l.live.Add(-1)
	}
	return err
}

// transportOpen is nnrp_transport_connect or nnrp_transport_listen.
type transportOpen struct {
	op   string
	kind C.uint32_t // handle kind it returns
	call func(*C.nf_api, C.nf_open_req, *C.nf_handle) C.nf_status
}

var (
	openConnect = transportOpen{"nnrp_transport_connect", C.NF_KIND_TRANSPORT_CONNECTION,
		func(a *C.nf_api, r C.nf_open_req, h *C.nf_handle) C.nf_status {
			return C.nf_call_transport_connect(a, r, h)
		}}
	openListen = transportOpen{"nnrp_transport_listen", C.NF_KIND_TRANSPORT_LISTENER,
		func(a *C.nf_api, r C.nf_open_req, h *C.nf_handle) C.nf_status {
			return C.nf_call_transport_listen(a, r, h)
		}}
)

// openTransport connects or listens on endpoint. The security config (zero
// handle for plain TCP) is closed once the call has used it; on failure
// nothing stays open.
func (l *Lib) openTransport(o transportOpen, t Transport, endpoint string, config C.nf_handle, maxPacket uint64, timeout C.uint32_t) (C.nf_handle, error) {
	ep := newCBuf([]byte(endpoint))
	defer ep.free()
	req := C.nf_open_req{
		transport_id:     C.uint32_t(t),
		endpoint:         ep.view(),
		config:           config,
		max_packet_bytes: C.uint64_t(maxPacket),
		timeout_ms:       timeout,
	}
	var h C.nf_handle
	err := statusError(o.op, o.call(l.api, req, &h))
	if config.kind != 0 {
		err = errors.Join(err, l.closeTransportObject(config))
	}
	if err != nil {
		if h.kind == o.kind {
			l.live.Add(1)
			err = errors.Join(err, l.closeTransportObject(h))
		}
		return C.nf_handle{}, err
	}
	l.live.Add(1)
	return h, nil
}

// securityConfig creates a client or server security config for transport t.
func (l *Lib) clientSecurityConfig(t Transport, tls *ClientTLS) (C.nf_handle, error) {
	var h C.nf_handle
	if tls.ServerName == "" || len(tls.RootCertDER) == 0 {
		return h, errors.New("nnrp ffi: client TLS needs a server name and a trusted certificate")
	}
	name := newCBuf([]byte(tls.ServerName))
	defer name.free()
	root := newCBuf(tls.RootCertDER)
	defer root.free()
	req := C.nf_client_sec_req{transport_id: C.uint32_t(t), server_name: name.view(), trusted_cert_der: root.view()}
	if err := statusError("nnrp_transport_client_security_config_create",
		C.nf_call_client_security_config_create(l.api, req, &h)); err != nil {
		return h, err
	}
	l.live.Add(1)
	return h, nil
}

func (l *Lib) serverSecurityConfig(t Transport, tls *ServerTLS) (C.nf_handle, error) {
	var h C.nf_handle
	if len(tls.CertDER) == 0 || len(tls.KeyPKCS8DER) == 0 {
		return h, errors.New("nnrp ffi: server TLS needs a certificate and a PKCS#8 key")
	}
	cert := newCBuf(tls.CertDER)
	defer cert.free()
	key := newCBuf(tls.KeyPKCS8DER)
	defer key.free()
	req := C.nf_server_sec_req{transport_id: C.uint32_t(t), cert_der: cert.view(), key_pkcs8_der: key.view()}
	if err := statusError("nnrp_transport_server_security_config_create",
		C.nf_call_server_security_config_create(l.api, req, &h)); err != nil {
		return h, err
	}
	l.live.Add(1)
	return h, nil
}

// rawEvent is one native event copied into Go memory.
type rawEvent struct {
	kind        EventKind
	header      Header
	op          opHandle
	relatedOpID uint64
	payload     []byte
}

// awaitEvents polls a client or server session. Every payload buffer the
// library hands out is copied and released, also when the call fails after
// some events were written.
func (l *Lib) awaitEvents(server bool, scope C.nf_handle, timeout time.Duration, maxEvents int) ([]rawEvent, error) {
	if maxEvents <= 0 {
		maxEvents = 1
	}
	if maxEvents > 1024 {
		maxEvents = 1024
	}
	arr := (*C.nf_event)(C.calloc(C.size_t(maxEvents), C.sizeof_nf_event))
	defer C.free(unsafe.Pointer(arr))
	req := C.nf_poll_req{scope: scope, max_events: C.uint32_t(maxEvents), timeout_ms: timeoutMs(timeout)}
	var count C.uintptr_t
	var st C.nf_status
	op := "nnrp_client_await_events"
	if server {
		op = "nnrp_server_await_events"
		st = C.nf_call_server_await_events(l.api, req, arr, C.uintptr_t(maxEvents), &count)
	} else {
		st = C.nf_call_client_await_events(l.api, req, arr, C.uintptr_t(maxEvents), &count)
	}
	n := min(int(count), maxEvents)
	events := make([]rawEvent, 0, n)
	var errs []error
	for _, ev := range unsafe.Slice(arr, maxEvents)[:n] {
		r := rawEvent{
			kind: EventKind(ev.kind),
			header: Header{
				Present:      ev.header.present != 0,
				VersionMajor: uint8(ev.header.version_major),
				WireFormat:   uint8(ev.header.wire_format),
				Type:         wire.MessageType(ev.header.message_type),
				Flags:        wire.Flags(ev.header.flags),
				SessionID:    uint32(ev.header.session_id),
				FrameID:      uint32(ev.header.frame_id),
				ViewID:       uint16(ev.header.view_id),
				RouteID:      uint16(ev.header.route_id),
				TraceID:      uint64(ev.header.trace_id),
			},
			op:          opHandleOf(ev.operation),
			relatedOpID: uint64(ev.diagnostic.related_operation_id),
		}
		switch {
		case ev.payload.len > math.MaxInt32:
			errs = append(errs, fmt.Errorf("nnrp ffi: event payload of %d bytes is too large", uint64(ev.payload.len)))
		case ev.payload.len > 0 && ev.payload.ptr != nil:
			r.payload = C.GoBytes(unsafe.Pointer(ev.payload.ptr), C.int(ev.payload.len))
		}
		if ev.payload_owner.kind == C.NF_KIND_BUFFER {
			if err := statusError("nnrp_buffer_release", C.nf_call_buffer_release(l.api, ev.payload_owner)); err != nil {
				errs = append(errs, err)
			}
		}
		events = append(events, r)
	}
	// A timeout without an event is no error. The common outcomes build no
	// error value: this is the polling hot path.
	var err error
	if c := StatusCode(st.code); c != StatusOK && (c != StatusWouldBlock || n > 0) {
		err = statusError(op, st)
	}
	if err == nil && len(errs) == 0 {
		return events, nil
	}
	return events, errors.Join(append([]error{err}, errs...)...)
}
