#include "nnrpffi_abi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Layout checks against the sizes the ABI fixes (LP64). A mismatch fails the build. */
_Static_assert(sizeof(nf_status) == 16, "status is 16 bytes");
_Static_assert(sizeof(nf_handle) == 24, "handle is 24 bytes");
_Static_assert(sizeof(nf_bytes) == 16, "buffer view is 16 bytes");
_Static_assert(sizeof(nf_caps) == 40, "capabilities are 40 bytes");
_Static_assert(offsetof(nf_caps, transport_slots) == 24, "capabilities transport_slots at 24");
_Static_assert(sizeof(nf_open_req) == 64, "transport open request is 64 bytes");
_Static_assert(offsetof(nf_open_req, max_packet_bytes) == 48, "open max_packet_bytes at 48");
_Static_assert(sizeof(nf_client_sec_req) == 40, "client security request is 40 bytes");
_Static_assert(sizeof(nf_server_sec_req) == 40, "server security request is 40 bytes");
_Static_assert(sizeof(nf_client_connect_req) == 40, "client connect request is 40 bytes");
_Static_assert(sizeof(nf_session_open_req) == 88, "session open request is 88 bytes");
_Static_assert(offsetof(nf_session_open_req, schema_id) == 48, "session open schema_id at 48");
_Static_assert(offsetof(nf_session_open_req, cache_hints) == 72, "session open cache_hints at 72");
_Static_assert(sizeof(nf_submit_req) == 72, "submit request is 72 bytes");
_Static_assert(offsetof(nf_submit_req, payload) == 56, "submit payload at 56");
_Static_assert(sizeof(nf_cancel_req) == 32, "cancel request is 32 bytes");
_Static_assert(sizeof(nf_poll_req) == 40, "poll request is 40 bytes");
_Static_assert(sizeof(nf_frame_header) == 32, "frame header is 32 bytes");
_Static_assert(sizeof(nf_diagnostic) == 48, "diagnostic is 48 bytes");
_Static_assert(sizeof(nf_event) == 200, "event is 200 bytes");
_Static_assert(offsetof(nf_event, payload_owner) == 112, "event payload_owner at 112");
_Static_assert(offsetof(nf_event, payload) == 136, "event payload at 136");
_Static_assert(offsetof(nf_event, diagnostic) == 152, "event diagnostic at 152");
_Static_assert(sizeof(nf_bind_req) == 144, "bind request is 144 bytes");
_Static_assert(offsetof(nf_bind_req, schema_registry) == 104, "bind schema_registry at 104");
_Static_assert(sizeof(nf_accept_begin_req) == 40, "accept begin request is 40 bytes");
_Static_assert(sizeof(nf_accept_wait_req) == 32, "accept wait request is 32 bytes");
_Static_assert(sizeof(nf_accept_claim_req) == 40, "accept claim request is 40 bytes");
_Static_assert(sizeof(nf_accept_result) == 32, "accept result is 32 bytes");
_Static_assert(sizeof(nf_send_result_req) == 40, "send result request is 40 bytes");
_Static_assert(sizeof(nf_frame_send_req) == 48, "runtime frame request is 48 bytes");

#define NF_RESOLVE(field, symbol)                                                   \
	do {                                                                            \
		*(void **)(&api->field) = dlsym(dl, symbol);                                \
		if (api->field == NULL) {                                                   \
			snprintf(err, errlen, "%s: missing symbol %s", path, symbol);           \
			dlclose(dl);                                                            \
			memset(api, 0, sizeof(*api));                                           \
			return -1;                                                              \
		}                                                                           \
	} while (0)

int nf_load(const char *path, nf_api *api, char *err, size_t errlen) {
	memset(api, 0, sizeof(*api));
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		const char *msg = dlerror();
		snprintf(err, errlen, "%s", msg != NULL ? msg : "dlopen failed");
		return -1;
	}
	NF_RESOLVE(runtime_capabilities, "nnrp_runtime_capabilities");
	NF_RESOLVE(client_security_config_create, "nnrp_transport_client_security_config_create");
	NF_RESOLVE(server_security_config_create, "nnrp_transport_server_security_config_create");
	NF_RESOLVE(transport_connect, "nnrp_transport_connect");
	NF_RESOLVE(transport_listen, "nnrp_transport_listen");
	NF_RESOLVE(transport_listener_endpoint, "nnrp_transport_listener_endpoint");
	NF_RESOLVE(transport_close, "nnrp_transport_close");
	NF_RESOLVE(client_connect, "nnrp_client_connect");
	NF_RESOLVE(client_open_session, "nnrp_client_open_session");
	NF_RESOLVE(session_id, "nnrp_session_id");
	NF_RESOLVE(client_submit, "nnrp_client_submit");
	NF_RESOLVE(client_cancel, "nnrp_client_cancel");
	NF_RESOLVE(client_await_events, "nnrp_client_await_events");
	NF_RESOLVE(client_close, "nnrp_client_close");
	NF_RESOLVE(client_close_connection, "nnrp_client_close_connection");
	NF_RESOLVE(server_bind, "nnrp_server_bind");
	NF_RESOLVE(server_accept_begin, "nnrp_server_accept_begin");
	NF_RESOLVE(server_accept_wait, "nnrp_server_accept_wait");
	NF_RESOLVE(server_accept_claim, "nnrp_server_accept_claim");
	NF_RESOLVE(server_accept_release, "nnrp_server_accept_release");
	NF_RESOLVE(server_await_events, "nnrp_server_await_events");
	NF_RESOLVE(server_send_result, "nnrp_server_send_result");
	NF_RESOLVE(runtime_frame_send, "nnrp_runtime_frame_send");
	NF_RESOLVE(server_close, "nnrp_server_close");
	NF_RESOLVE(connection_close, "nnrp_connection_close");
	NF_RESOLVE(buffer_release, "nnrp_buffer_release");
	api->dl = dl;
	return 0;
}

nf_caps nf_call_runtime_capabilities(const nf_api *a) { return a->runtime_capabilities(); }

nf_status nf_call_client_security_config_create(const nf_api *a, nf_client_sec_req r, nf_handle *out) {
	return a->client_security_config_create(r, out);
}

nf_status nf_call_server_security_config_create(const nf_api *a, nf_server_sec_req r, nf_handle *out) {
	return a->server_security_config_create(r, out);
}

nf_status nf_call_transport_connect(const nf_api *a, nf_open_req r, nf_handle *out) {
	return a->transport_connect(r, out);
}

nf_status nf_call_transport_listen(const nf_api *a, nf_open_req r, nf_handle *out) {
	return a->transport_listen(r, out);
}

nf_status nf_call_transport_listener_endpoint(const nf_api *a, nf_handle h, nf_handle *owner, nf_bytes *out) {
	return a->transport_listener_endpoint(h, owner, out);
}

nf_status nf_call_transport_close(const nf_api *a, nf_handle h) { return a->transport_close(h); }

nf_status nf_call_client_connect(const nf_api *a, nf_client_connect_req r, nf_handle *out) {
	return a->client_connect(r, out);
}

nf_status nf_call_client_open_session(const nf_api *a, nf_session_open_req r, nf_handle *out) {
	return a->client_open_session(r, out);
}

nf_status nf_call_session_id(const nf_api *a, nf_handle h, uint32_t *out) { return a->session_id(h, out); }

nf_status nf_call_client_submit(const nf_api *a, nf_submit_req r, nf_handle *out) {
	return a->client_submit(r, out);
}

nf_status nf_call_client_cancel(const nf_api *a, nf_cancel_req r) { return a->client_cancel(r); }

nf_status nf_call_client_await_events(const nf_api *a, nf_poll_req r, nf_event *out, uintptr_t cap, uintptr_t *count) {
	return a->client_await_events(r, out, cap, count);
}

nf_status nf_call_client_close(const nf_api *a, nf_handle h) { return a->client_close(h); }

nf_status nf_call_client_close_connection(const nf_api *a, nf_handle h) { return a->client_close_connection(h); }

nf_status nf_call_server_bind(const nf_api *a, nf_bind_req r, nf_handle *out) { return a->server_bind(r, out); }

nf_status nf_call_server_accept_begin(const nf_api *a, nf_accept_begin_req r, nf_handle *out) {
	return a->server_accept_begin(r, out);
}

nf_status nf_call_server_accept_wait(const nf_api *a, nf_accept_wait_req r) { return a->server_accept_wait(r); }

nf_status nf_call_server_accept_claim(const nf_api *a, nf_accept_claim_req r, nf_accept_result *out) {
	return a->server_accept_claim(r, out);
}

nf_status nf_call_server_accept_release(const nf_api *a, nf_handle h) { return a->server_accept_release(h); }

nf_status nf_call_server_await_events(const nf_api *a, nf_poll_req r, nf_event *out, uintptr_t cap, uintptr_t *count) {
	return a->server_await_events(r, out, cap, count);
}

nf_status nf_call_server_send_result(const nf_api *a, nf_send_result_req r) { return a->server_send_result(r); }

nf_status nf_call_runtime_frame_send(const nf_api *a, nf_frame_send_req r) { return a->runtime_frame_send(r); }

nf_status nf_call_server_close(const nf_api *a, nf_handle h) { return a->server_close(h); }

nf_status nf_call_connection_close(const nf_api *a, nf_handle h) { return a->connection_close(h); }

nf_status nf_call_buffer_release(const nf_api *a, nf_handle h) { return a->buffer_release(h); }
