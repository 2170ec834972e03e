/*
 * C declarations for the parts of the NNRP/1 runtime C ABI 4.4 (libnnrp_ffi.so,
 * SDK 1.0.0-preview.4.22) that package nnrpffi uses. Written for this package
 * from the published facts of the ABI (field order, widths, by-value passing);
 * names are local to this package (prefix nf_). x86-64 / aarch64 LP64 layout.
 *
 * The library is never linked: nf_load() opens it with dlopen(RTLD_NOW |
 * RTLD_LOCAL) and fills a table of function pointers; every call goes through
 * one of the nf_call_* trampolines below, because Go cannot call a C function
 * pointer directly.
 */
#ifndef NNRPFFI_ABI_H
#define NNRPFFI_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Every entry point returns this 16-byte value. */
typedef struct nf_status {
	uint32_t code;          /* 0 ok, 1 invalid argument, 2 invalid handle, 3 invalid state,
	                           4 protocol error, 5 would block, 6 callback rejected, 0xffff internal */
	uint32_t family;        /* error family: 1 session, 2 cache, 3 schema, 4 transport, ... */
	uint32_t protocol_code; /* protocol error code when family says so (e.g. 0x0001xxxx) */
	uint32_t detail;        /* implementation detail code */
} nf_status;

/* Opaque handle, 24 bytes (u32 kind, 4 padding, u64 id, u32 generation, u32 flags).
   Transport handles carry a per-library cookie in flags: pass them back unchanged. */
typedef struct nf_handle {
	uint32_t kind;
	uint64_t id;
	uint32_t generation;
	uint32_t flags;
} nf_handle;

enum {
	NF_KIND_INVALID = 0,
	NF_KIND_CONNECTION = 1,
	NF_KIND_SESSION = 2,
	NF_KIND_OPERATION = 3,
	NF_KIND_BUFFER = 5,
	NF_KIND_TRANSPORT_CONNECTION = 10,
	NF_KIND_TRANSPORT_LISTENER = 11,
	NF_KIND_SECURITY_CONFIG = 12,
	NF_KIND_SERVER_ACCEPT = 13
};

/* Borrowed byte range (pointer + usize length); also used for u16 / u32 arrays. */
typedef struct nf_bytes {
	const uint8_t *ptr;
	uintptr_t len;
} nf_bytes;

typedef struct nf_u16s {
	const uint16_t *ptr;
	uintptr_t len;
} nf_u16s;

typedef struct nf_u32s {
	const uint32_t *ptr;
	uintptr_t len;
} nf_u32s;

/* nnrp_runtime_capabilities() result, 40 bytes, returned by value. */
typedef struct nf_caps {
	uint16_t abi_major, abi_minor, abi_patch, pad0;
	uint8_t protocol_major, protocol_wire_format;
	uint16_t sdk_major, sdk_minor, sdk_patch, sdk_preview, sdk_revision, pad1;
	uint32_t transport_slots; /* bit 0 QUIC, bit 1 TCP, bit 2 IPC, bit 3 WebSocket */
	uint64_t features;
} nf_caps;

/* Transport open (connect / listen), 64 bytes. transport_id: 1 QUIC, 2 TCP. flags and
   pad must be 0. config: a security-config handle, or all-zero for plain TCP. 0 for
   max_packet_bytes means 64 MiB, 0 for timeout_ms means 30 s. */
typedef struct nf_open_req {
	uint32_t transport_id;
	uint32_t flags;
	nf_bytes endpoint;        /* UTF-8 "tcp://host:port" or "quic://host:port" */
	nf_handle config;
	uint64_t max_packet_bytes;
	uint32_t timeout_ms;
	uint32_t pad;
} nf_open_req;

/* Client security config, 40 bytes: server name (UTF-8) + the one trusted certificate (DER). */
typedef struct nf_client_sec_req {
	uint32_t transport_id;
	uint32_t flags;
	nf_bytes server_name;
	nf_bytes trusted_cert_der;
} nf_client_sec_req;

/* Server security config, 40 bytes: one certificate (DER) + its PKCS#8 private key (DER). */
typedef struct nf_server_sec_req {
	uint32_t transport_id;
	uint32_t flags;
	nf_bytes cert_der;
	nf_bytes key_pkcs8_der;
} nf_server_sec_req;

/* Client role over a transport connection (the transport handle is consumed), 40 bytes. */
typedef struct nf_client_connect_req {
	uint64_t connection_id; /* caller-chosen, non-zero */
	uint32_t generation;    /* non-zero */
	uint32_t pad;
	nf_handle transport;
} nf_client_connect_req;

/* SESSION_OPEN request, 88 bytes. */
typedef struct nf_session_open_req {
	nf_handle connection;
	uint32_t requested_session_id;
	uint64_t session_handle_id; /* caller-chosen, non-zero */
	uint32_t generation;
	uint16_t profile_id;
	uint8_t priority_class;
	uint8_t allow_resume;       /* 0 or 1 */
	uint32_t schema_id;
	uint32_t schema_version;
	uint32_t default_deadline_ms;
	uint16_t max_in_flight;     /* non-zero */
	uint16_t pad;
	uint32_t lease_ttl_hint_ms;
	uint32_t resume_token_bytes;
	nf_u32s cache_hints;
} nf_session_open_req;

/* FRAME_SUBMIT, 72 bytes. payload = 72-byte FRAME_SUBMIT metadata followed by the body. */
typedef struct nf_submit_req {
	nf_handle session;
	uint64_t operation_id;  /* must equal the metadata's operation_id */
	uint32_t frame_id;      /* non-zero, strictly increasing per session */
	uint32_t header_flags;  /* common-header flag bits (mask 0x3f) */
	uint16_t view_id;
	uint16_t route_id;
	uint64_t trace_id;
	nf_bytes payload;
} nf_submit_req;

/* FRAME_CANCEL, 32 bytes. */
typedef struct nf_cancel_req {
	nf_handle session;
	uint32_t frame_id;
} nf_cancel_req;

/* Event polling, 40 bytes. scope is a session handle. max_events 0 means 16; timeout_ms
   0 means 30 s; flags and pad must be 0. */
typedef struct nf_poll_req {
	nf_handle scope;
	uint32_t max_events;
	uint32_t timeout_ms;
	uint32_t flags;
	uint32_t pad;
} nf_poll_req;

/* Wire header of the packet behind an event, 32 bytes. */
typedef struct nf_frame_header {
	uint8_t present;
	uint8_t version_major;
	uint8_t wire_format;
	uint8_t message_type;
	uint32_t flags;
	uint32_t session_id;
	uint32_t frame_id;
	uint16_t view_id;
	uint16_t route_id;
	uint64_t trace_id;
} nf_frame_header;

typedef struct nf_diagnostic {
	nf_status status;
	uint64_t related_connection_id;
	uint32_t related_session_id;
	uint64_t related_operation_id;
	uint32_t related_frame_id;
} nf_diagnostic;

/* One event, 200 bytes. payload_owner (kind BUFFER) owns payload and must be released
   with nnrp_buffer_release; an event without payload has an all-zero owner. */
typedef struct nf_event {
	uint32_t kind;
	nf_frame_header header;
	nf_handle connection;
	nf_handle session;
	nf_handle operation;
	nf_handle payload_owner;
	nf_bytes payload;
	nf_diagnostic diagnostic;
} nf_event;

/* Application admission policy sink (null begin = accept every session). */
typedef uint32_t (*nf_policy_begin_fn)(void *user_data, uint64_t request_id, nf_bytes session_open_metadata);
typedef struct nf_policy_sink {
	void *user_data;
	nf_policy_begin_fn begin;
} nf_policy_sink;

/* Server role over a transport listener (the listener handle is consumed), 144 bytes. */
typedef struct nf_bind_req {
	uint64_t server_id;  /* caller-chosen, non-zero */
	uint32_t generation;
	uint32_t pad;
	nf_handle listener;
	nf_u16s profiles;    /* non-empty: profile ids (1 tensor, 2 token) */
	nf_u32s cache_objects;
	uint64_t max_cache_objects;
	uint32_t max_cache_object_bytes;
	uint32_t resume_token_bytes;
	uint16_t max_in_flight;          /* non-zero */
	uint16_t granted_credit;         /* <= max_in_flight */
	uint32_t lease_ttl_ms;
	uint32_t resume_window_ms;
	nf_handle schema_registry;       /* all-zero: the stock registry (token delta 0x1001 v3) */
	nf_policy_sink policy;
} nf_bind_req;

/* Accept ticket begin / claim, 40 bytes each; wait, 32 bytes. */
typedef struct nf_accept_begin_req {
	nf_handle server;
	uint64_t accept_handle_id;
	uint32_t generation;
	uint32_t pad;
} nf_accept_begin_req;

typedef struct nf_accept_wait_req {
	nf_handle accept;
	uint32_t timeout_ms; /* 0 means 30 s */
	uint32_t flags;      /* 0 */
} nf_accept_wait_req;

typedef struct nf_accept_claim_req {
	nf_handle accept;
	uint64_t session_handle_id;
	uint32_t generation;
	uint32_t pad;
} nf_accept_claim_req;

typedef struct nf_accept_result {
	nf_handle session;
	uint32_t active_transport_id;
	uint32_t pad;
} nf_accept_result;

/* RESULT_PUSH, 40 bytes. payload = 64-byte RESULT_PUSH metadata followed by the body. */
typedef struct nf_send_result_req {
	nf_handle operation;
	nf_bytes payload;
} nf_send_result_req;

/* Preview-4 runtime frame (e.g. RESULT_DROP_REASON, PARTIAL_RESULT, PROGRESS), 48 bytes.
   payload = that message's metadata followed by its tail (diagnostics / body). */
typedef struct nf_frame_send_req {
	nf_handle handle; /* session or operation */
	uint32_t message_type;
	uint32_t frame_id;
	nf_bytes payload;
} nf_frame_send_req;

/* Function-pointer table filled by nf_load. */
typedef struct nf_api {
	void *dl;
	nf_caps (*runtime_capabilities)(void);
	nf_status (*client_security_config_create)(nf_client_sec_req, nf_handle *);
	nf_status (*server_security_config_create)(nf_server_sec_req, nf_handle *);
	nf_status (*transport_connect)(nf_open_req, nf_handle *);
	nf_status (*transport_listen)(nf_open_req, nf_handle *);
	nf_status (*transport_listener_endpoint)(nf_handle, nf_handle *, nf_bytes *);
	nf_status (*transport_close)(nf_handle);
	nf_status (*client_connect)(nf_client_connect_req, nf_handle *);
	nf_status (*client_open_session)(nf_session_open_req, nf_handle *);
	nf_status (*session_id)(nf_handle, uint32_t *);
	nf_status (*client_submit)(nf_submit_req, nf_handle *);
	nf_status (*client_cancel)(nf_cancel_req);
	nf_status (*client_await_events)(nf_poll_req, nf_event *, uintptr_t, uintptr_t *);
	nf_status (*client_close)(nf_handle);
	nf_status (*client_close_connection)(nf_handle);
	nf_status (*server_bind)(nf_bind_req, nf_handle *);
	nf_status (*server_accept_begin)(nf_accept_begin_req, nf_handle *);
	nf_status (*server_accept_wait)(nf_accept_wait_req);
	nf_status (*server_accept_claim)(nf_accept_claim_req, nf_accept_result *);
	nf_status (*server_accept_release)(nf_handle);
	nf_status (*server_await_events)(nf_poll_req, nf_event *, uintptr_t, uintptr_t *);
	nf_status (*server_send_result)(nf_send_result_req);
	nf_status (*runtime_frame_send)(nf_frame_send_req);
	nf_status (*server_close)(nf_handle);
	nf_status (*connection_close)(nf_handle);
	nf_status (*buffer_release)(nf_handle);
} nf_api;

/* Opens the library at path and resolves every entry point. Returns 0 on success;
   otherwise writes a message into err (NUL-terminated, at most errlen bytes). */
int nf_load(const char *path, nf_api *api, char *err, size_t errlen);

nf_caps nf_call_runtime_capabilities(const nf_api *a);
nf_status nf_call_client_security_config_create(const nf_api *a, nf_client_sec_req r, nf_handle *out);
nf_status nf_call_server_security_config_create(const nf_api *a, nf_server_sec_req r, nf_handle *out);
nf_status nf_call_transport_connect(const nf_api *a, nf_open_req r, nf_handle *out);
nf_status nf_call_transport_listen(const nf_api *a, nf_open_req r, nf_handle *out);
nf_status nf_call_transport_listener_endpoint(const nf_api *a, nf_handle h, nf_handle *owner, nf_bytes *out);
nf_status nf_call_transport_close(const nf_api *a, nf_handle h);
nf_status nf_call_client_connect(const nf_api *a, nf_client_connect_req r, nf_handle *out);
nf_status nf_call_client_open_session(const nf_api *a, nf_session_open_req r, nf_handle *out);
nf_status nf_call_session_id(const nf_api *a, nf_handle h, uint32_t *out);
nf_status nf_call_client_submit(const nf_api *a, nf_submit_req r, nf_handle *out);
nf_status nf_call_client_cancel(const nf_api *a, nf_cancel_req r);
nf_status nf_call_client_await_events(const nf_api *a, nf_poll_req r, nf_event *out, uintptr_t cap, uintptr_t *count);
nf_status nf_call_client_close(const nf_api *a, nf_handle h);
nf_status nf_call_client_close_connection(const nf_api *a, nf_handle h);
nf_status nf_call_server_bind(const nf_api *a, nf_bind_req r, nf_handle *out);
nf_status nf_call_server_accept_begin(const nf_api *a, nf_accept_begin_req r, nf_handle *out);
nf_status nf_call_server_accept_wait(const nf_api *a, nf_accept_wait_req r);
nf_status nf_call_server_accept_claim(const nf_api *a, nf_accept_claim_req r, nf_accept_result *out);
nf_status nf_call_server_accept_release(const nf_api *a, nf_handle h);
nf_status nf_call_server_await_events(const nf_api *a, nf_poll_req r, nf_event *out, uintptr_t cap, uintptr_t *count);
nf_status nf_call_server_send_result(const nf_api *a, nf_send_result_req r);
nf_status nf_call_runtime_frame_send(const nf_api *a, nf_frame_send_req r);
nf_status nf_call_server_close(const nf_api *a, nf_handle h);
nf_status nf_call_connection_close(const nf_api *a, nf_handle h);
nf_status nf_call_buffer_release(const nf_api *a, nf_handle h);

#endif
