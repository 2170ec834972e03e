package wire

import "encoding/binary"

// Cache lifecycle messages CACHE_PUT, CACHE_ACK and CACHE_INVALIDATE
// (optional feature cache.lifecycle; C§7.9, D§11.3). All three are
// session-scoped: the server tracks cached objects per session.

// CachePutFlags is CACHE_PUT.flags (D§11.3; names from nnrp-cs).
type CachePutFlags uint32

// Cache put flag bits.
const (
	CachePinned   CachePutFlags = 0x1
	CacheReusable CachePutFlags = 0x2

	knownCachePutFlags CachePutFlags = 0x3
)

// CacheAckStatus is CACHE_ACK.status (C§7.9).
type CacheAckStatus uint32

// Cache ack statuses.
const (
	CacheStatusAccepted CacheAckStatus = 0
	CacheStatusRejected CacheAckStatus = 1
	CacheStatusReplaced CacheAckStatus = 2
)

var cacheAckStatusNames = []string{"accepted", "rejected", "replaced"}

func (s CacheAckStatus) String() string { return ctlEnumName(cacheAckStatusNames, uint64(s), "status") }

// InvalidateScope is CACHE_INVALIDATE.invalidate_scope (C§7.9).
type InvalidateScope uint32

// Invalidation scopes.
const (
	InvalidateWholeSession InvalidateScope = 0
	InvalidateNamespace    InvalidateScope = 1
	InvalidateObjectKind   InvalidateScope = 2 // cache_key_hi holds the kind
	InvalidateObjectKey    InvalidateScope = 3
)

var invalidateScopeNames = []string{"whole_session", "namespace", "object_kind", "object_key"}

func (s InvalidateScope) String() string {
	return ctlEnumName(invalidateScopeNames, uint64(s), "invalidate_scope")
}

const (
	cachePutLen        = 40
	cacheAckLen        = 40
	cacheInvalidateLen = 32
)

// CachePut is the metadata of CACHE_PUT (type 0x14, 40 bytes, D§11.3). The
// body is the object, ObjectBytes long. The kind must have been negotiated
// in cache_object_bitmap and the size must respect max_cache_bytes; both are
// session checks.
type CachePut struct {
	Namespace   uint32          `json:"cache_namespace"`
	ObjectKind  CacheObjectKind `json:"object_kind"` // u32 on the wire, 1–9
	KeyHi       uint64          `json:"cache_key_hi"`
	KeyLo       uint64          `json:"cache_key_lo"`
	TTLMS       uint32          `json:"ttl_ms"`
	ObjectBytes uint32          `json:"object_bytes"`
	CodecBitmap uint32          `json:"codec_bitmap"`
	Flags       CachePutFlags   `json:"flags"`
}

// Type returns TypeCachePut.
func (*CachePut) Type() MessageType { return TypeCachePut }

// Len returns 40.
func (*CachePut) Len() int { return cachePutLen }

// ExpectedBodyLen returns ObjectBytes.
func (m *CachePut) ExpectedBodyLen() (uint64, bool) { return uint64(m.ObjectBytes), true }

func (m *CachePut) validate() error {
	return firstErr(
		checkCacheObjectKind(TypeCachePut, "object_kind", m.ObjectKind),
		checkMask(TypeCachePut, "flags", m.Flags, knownCachePutFlags),
	)
}

// CheckHeader requires a non-zero header session_id.
func (m *CachePut) CheckHeader(h *Header) error { return ctlSessionScope(TypeCachePut, h, false) }

// Append validates m and appends its 40 bytes to b.
func (m *CachePut) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *CachePut) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, m.Namespace)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.ObjectKind))
	b = binary.LittleEndian.AppendUint64(b, m.KeyHi)
	b = binary.LittleEndian.AppendUint64(b, m.KeyLo)
	b = binary.LittleEndian.AppendUint32(b, m.TTLMS)
	b = binary.LittleEndian.AppendUint32(b, m.ObjectBytes)
	b = binary.LittleEndian.AppendUint32(b, m.CodecBitmap)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	return b
}

// ParseCachePut decodes and validates CACHE_PUT metadata from the start of b.
func ParseCachePut(b []byte) (CachePut, int, error) {
	if len(b) < cachePutLen {
		return CachePut{}, 0, errShort(TypeCachePut, "metadata", cachePutLen, len(b))
	}
	kind := binary.LittleEndian.Uint32(b[4:])
	if err := checkCacheObjectKind(TypeCachePut, "object_kind", kind); err != nil {
		return CachePut{}, 0, err // checked as u32 before narrowing to CacheObjectKind
	}
	m := CachePut{
		Namespace:   binary.LittleEndian.Uint32(b[0:]),
		ObjectKind:  CacheObjectKind(kind),
		KeyHi:       binary.LittleEndian.Uint64(b[8:]),
		KeyLo:       binary.LittleEndian.Uint64(b[16:]),
		TTLMS:       binary.LittleEndian.Uint32(b[24:]),
		ObjectBytes: binary.LittleEndian.Uint32(b[28:]),
		CodecBitmap: binary.LittleEndian.Uint32(b[32:]),
		Flags:       CachePutFlags(binary.LittleEndian.Uint32(b[36:])),
	}
	if err := m.validate(); err != nil {
		return CachePut{}, 0, err
	}
	return m, cachePutLen, nil
}

// CacheAck is the metadata of CACHE_ACK (type 0x15, 40 bytes, D§11.3), the
// answer to CACHE_PUT. No body.
type CacheAck struct {
	Namespace      uint32         `json:"cache_namespace"`
	Status         CacheAckStatus `json:"status"`
	KeyHi          uint64         `json:"cache_key_hi"`
	KeyLo          uint64         `json:"cache_key_lo"`
	AcceptedTTLMS  uint32         `json:"accepted_ttl_ms"`
	MaxObjectBytes uint32         `json:"max_object_bytes"`
	DetailCode     ErrorCode      `json:"detail_code"` // e.g. a 0x0003xxxx cache error
}

// Type returns TypeCacheAck.
func (*CacheAck) Type() MessageType { return TypeCacheAck }

// Len returns 40.
func (*CacheAck) Len() int { return cacheAckLen }

// ExpectedBodyLen returns 0: CACHE_ACK has no body.
func (*CacheAck) ExpectedBodyLen() (uint64, bool) { return 0, true }

func (m *CacheAck) validate() error {
	return checkMax(TypeCacheAck, "status", m.Status, CacheStatusReplaced)
}

// CheckHeader requires a non-zero header session_id.
func (m *CacheAck) CheckHeader(h *Header) error { return ctlSessionScope(TypeCacheAck, h, false) }

// Append validates m and appends its 40 bytes to b.
func (m *CacheAck) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *CacheAck) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, m.Namespace)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Status))
	b = binary.LittleEndian.AppendUint64(b, m.KeyHi)
	b = binary.LittleEndian.AppendUint64(b, m.KeyLo)
	b = binary.LittleEndian.AppendUint32(b, m.AcceptedTTLMS)
	b = binary.LittleEndian.AppendUint32(b, m.MaxObjectBytes)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.DetailCode))
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved
	return b
}

// ParseCacheAck decodes and validates CACHE_ACK metadata from the start of b.
func ParseCacheAck(b []byte) (CacheAck, int, error) {
	if len(b) < cacheAckLen {
		return CacheAck{}, 0, errShort(TypeCacheAck, "metadata", cacheAckLen, len(b))
	}
	m := CacheAck{
		Namespace:      binary.LittleEndian.Uint32(b[0:]),
		Status:         CacheAckStatus(binary.LittleEndian.Uint32(b[4:])),
		KeyHi:          binary.LittleEndian.Uint64(b[8:]),
		KeyLo:          binary.LittleEndian.Uint64(b[16:]),
		AcceptedTTLMS:  binary.LittleEndian.Uint32(b[24:]),
		MaxObjectBytes: binary.LittleEndian.Uint32(b[28:]),
		DetailCode:     ErrorCode(binary.LittleEndian.Uint32(b[32:])),
	}
	if err := checkZero(TypeCacheAck, "reserved", binary.LittleEndian.Uint32(b[36:])); err != nil {
		return CacheAck{}, 0, err
	}
	if err := m.validate(); err != nil {
		return CacheAck{}, 0, err
	}
	return m, cacheAckLen, nil
}

// CacheInvalidate is the metadata of CACHE_INVALIDATE (type 0x16, 32 bytes,
// D§11.3). The identity fields a scope does not use must be zero. No body.
type CacheInvalidate struct {
	Scope      InvalidateScope `json:"invalidate_scope"`
	Namespace  uint32          `json:"cache_namespace"` // 0 for whole_session
	KeyHi      uint64          `json:"cache_key_hi"`    // the kind (≤ 0xFFFFFFFF) for object_kind; key for object_key
	KeyLo      uint64          `json:"cache_key_lo"`    // object_key only
	ReasonCode uint32          `json:"reason_code"`     // free-form
}

// Type returns TypeCacheInvalidate.
func (*CacheInvalidate) Type() MessageType { return TypeCacheInvalidate }

// Len returns 32.
func (*CacheInvalidate) Len() int { return cacheInvalidateLen }

// ExpectedBodyLen returns 0: CACHE_INVALIDATE has no body.
func (*CacheInvalidate) ExpectedBodyLen() (uint64, bool) { return 0, true }

// validate applies the scope enum and the identity rules of D§11.3:
// whole_session ⇒ namespace and both keys 0; namespace ⇒ keys 0;
// object_kind ⇒ cache_key_hi ≤ 0xFFFFFFFF and cache_key_lo 0.
func (m *CacheInvalidate) validate() error {
	const t = TypeCacheInvalidate
	if err := checkMax(t, "invalidate_scope", m.Scope, InvalidateObjectKey); err != nil {
		return err
	}
	var err error
	switch m.Scope {
	case InvalidateWholeSession:
		err = firstErr(m.unused("cache_namespace", uint64(m.Namespace)),
			m.unused("cache_key_hi", m.KeyHi), m.unused("cache_key_lo", m.KeyLo))
	case InvalidateNamespace:
		err = firstErr(m.unused("cache_key_hi", m.KeyHi), m.unused("cache_key_lo", m.KeyLo))
	case InvalidateObjectKind:
		if m.KeyHi > 0xFFFFFFFF {
			return errInvalid(t, "cache_key_hi", "object kind 0x%x does not fit in 32 bits", m.KeyHi)
		}
		err = m.unused("cache_key_lo", m.KeyLo)
	}
	return err
}

// unused rejects a non-zero identity field that m's scope does not use.
func (m *CacheInvalidate) unused(field string, v uint64) error {
	if v != 0 {
		return errInvalid(TypeCacheInvalidate, field, "is 0x%x, must be 0 for %s scope", v, m.Scope)
	}
	return nil
}

// CheckHeader requires a non-zero header session_id.
func (m *CacheInvalidate) CheckHeader(h *Header) error {
	return ctlSessionScope(TypeCacheInvalidate, h, false)
}

// Append validates m and appends its 32 bytes to b.
func (m *CacheInvalidate) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	return m.put(b), nil
}

// put appends the encoding of m without validating it.
func (m *CacheInvalidate) put(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Scope))
	b = binary.LittleEndian.AppendUint32(b, m.Namespace)
	b = binary.LittleEndian.AppendUint64(b, m.KeyHi)
	b = binary.LittleEndian.AppendUint64(b, m.KeyLo)
	b = binary.LittleEndian.AppendUint32(b, m.ReasonCode)
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved
	return b
}

// ParseCacheInvalidate decodes and validates CACHE_INVALIDATE metadata from
// the start of b.
func ParseCacheInvalidate(b []byte) (CacheInvalidate, int, error) {
	if len(b) < cacheInvalidateLen {
		return CacheInvalidate{}, 0, errShort(TypeCacheInvalidate, "metadata", cacheInvalidateLen, len(b))
	}
	m := CacheInvalidate{
		Scope:      InvalidateScope(binary.LittleEndian.Uint32(b[0:])),
		Namespace:  binary.LittleEndian.Uint32(b[4:]),
		KeyHi:      binary.LittleEndian.Uint64(b[8:]),
		KeyLo:      binary.LittleEndian.Uint64(b[16:]),
		ReasonCode: binary.LittleEndian.Uint32(b[24:]),
	}
	if err := checkZero(TypeCacheInvalidate, "reserved", binary.LittleEndian.Uint32(b[28:])); err != nil {
		return CacheInvalidate{}, 0, err
	}
	if err := m.validate(); err != nil {
		return CacheInvalidate{}, 0, err
	}
	return m, cacheInvalidateLen, nil
}
