package wire

import "encoding/binary"

// ReuseScope is CACHE_REFERENCE.reuse_scope: how widely the referenced entry
// may be reused (C§7.9, D§11.4).
type ReuseScope uint16

// Reuse scopes.
const (
	ReuseOperation  ReuseScope = 0
	ReuseSession    ReuseScope = 1
	ReuseConnection ReuseScope = 2
	ReuseGlobal     ReuseScope = 3
	ReuseTenant     ReuseScope = 4
	ReuseProfile    ReuseScope = 5
)

var reuseScopeNames = []string{"operation", "session", "connection", "global", "tenant", "profile"}

func (s ReuseScope) String() string { return registryName(reuseScopeNames, uint64(s), "reuse_scope") }

// MissReason is CACHE_MISS.miss_reason (C§7.9, D§11.4).
type MissReason uint16

// Miss reasons.
const (
	MissUnknown             MissReason = 0
	MissNotFound            MissReason = 1
	MissExpired             MissReason = 2
	MissInvalidated         MissReason = 3
	MissSchemaMismatch      MissReason = 4
	MissProducerUnavailable MissReason = 5
	MissLeaseRequired       MissReason = 6
	MissPermissionDenied    MissReason = 7
)

var missReasonNames = []string{
	"unknown", "not_found", "expired", "invalidated", "schema_mismatch",
	"producer_unavailable", "lease_required", "permission_denied",
}

func (r MissReason) String() string { return registryName(missReasonNames, uint64(r), "miss_reason") }

// CacheReferenceFlags is the flags word of CACHE_REFERENCE (C§7.9).
type CacheReferenceFlags uint32

// Cache reference flags.
const (
	CacheRefLeaseRequired       CacheReferenceFlags = 0x1
	CacheRefBodyFallbackPresent CacheReferenceFlags = 0x2

	knownCacheReferenceFlags = CacheRefLeaseRequired | CacheRefBodyFallbackPresent
)

const (
	cacheReferenceLen = 56
	cacheMissLen      = 32
)

// CacheReference is the metadata of CACHE_REFERENCE (type 0x46, 56 bytes,
// C§7.9, D§11.4, optional cache.reference): a reference to a cached entry
// named by (CacheNamespace, ProfileID, CacheKeyHi, CacheKeyLo). The body is an
// extension of MetadataBytes bytes. Session-scoped, not
// operation-correlated. A receiver that cannot resolve it answers with the
// CacheMiss built by Miss.
type CacheReference struct {
	CacheNamespace   uint32              `json:"cache_namespace"`
	ProfileID        ProfileID           `json:"profile_id"`
	Scope            ReuseScope          `json:"reuse_scope"`
	CacheKeyHi       uint64              `json:"cache_key_hi"`
	CacheKeyLo       uint64              `json:"cache_key_lo"`
	LeaseID          uint64              `json:"lease_id"` // 0 = none
	ProducerTraceID  uint64              `json:"producer_trace_id"`
	ExpirationHintMS uint32              `json:"expiration_hint_ms"`
	MetadataBytes    uint32              `json:"metadata_bytes"`
	Flags            CacheReferenceFlags `json:"flags"`
}

// Type returns TypeCacheReference.
func (*CacheReference) Type() MessageType { return TypeCacheReference }

// Len returns 56.
func (*CacheReference) Len() int { return cacheReferenceLen }

// ExpectedBodyLen returns MetadataBytes.
func (m *CacheReference) ExpectedBodyLen() (uint64, bool) { return uint64(m.MetadataBytes), true }

// Miss returns the CACHE_MISS that answers m: it echoes the complete cache
// identity (namespace, profile and both keys), as C§7.9 requires, with the
// given reason and no diagnostic.
func (m *CacheReference) Miss(reason MissReason) CacheMiss {
	return CacheMiss{
		CacheNamespace: m.CacheNamespace,
		ProfileID:      m.ProfileID,
		Reason:         reason,
		CacheKeyHi:     m.CacheKeyHi,
		CacheKeyLo:     m.CacheKeyLo,
	}
}

func (m *CacheReference) validate() error {
	return firstErr(
		checkMax(TypeCacheReference, "reuse_scope", m.Scope, ReuseProfile),
		checkMask(TypeCacheReference, "flags", m.Flags, knownCacheReferenceFlags),
	)
}

// Append validates m and appends its 56 bytes to b.
func (m *CacheReference) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint32(b, m.CacheNamespace)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Scope))
	b = binary.LittleEndian.AppendUint64(b, m.CacheKeyHi)
	b = binary.LittleEndian.AppendUint64(b, m.CacheKeyLo)
	b = binary.LittleEndian.AppendUint64(b, m.LeaseID)
	b = binary.LittleEndian.AppendUint64(b, m.ProducerTraceID)
	b = binary.LittleEndian.AppendUint32(b, m.ExpirationHintMS)
	b = binary.LittleEndian.AppendUint32(b, m.MetadataBytes)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Flags))
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved
	return b, nil
}

// ParseCacheReference decodes and validates CACHE_REFERENCE metadata from the
// start of b.
func ParseCacheReference(b []byte) (CacheReference, int, error) {
	if len(b) < cacheReferenceLen {
		return CacheReference{}, 0, errShort(TypeCacheReference, "metadata", cacheReferenceLen, len(b))
	}
	m := CacheReference{
		CacheNamespace:   binary.LittleEndian.Uint32(b[0:]),
		ProfileID:        ProfileID(binary.LittleEndian.Uint16(b[4:])),
		Scope:            ReuseScope(binary.LittleEndian.Uint16(b[6:])),
		CacheKeyHi:       binary.LittleEndian.Uint64(b[8:]),
		CacheKeyLo:       binary.LittleEndian.Uint64(b[16:]),
		LeaseID:          binary.LittleEndian.Uint64(b[24:]),
		ProducerTraceID:  binary.LittleEndian.Uint64(b[32:]),
		ExpirationHintMS: binary.LittleEndian.Uint32(b[40:]),
		MetadataBytes:    binary.LittleEndian.Uint32(b[44:]),
		Flags:            CacheReferenceFlags(binary.LittleEndian.Uint32(b[48:])),
	}
	if err := firstErr(
		m.validate(),
		checkZero(TypeCacheReference, "reserved", binary.LittleEndian.Uint32(b[52:])),
	); err != nil {
		return CacheReference{}, 0, err
	}
	return m, cacheReferenceLen, nil
}

// CacheMiss is the metadata of CACHE_MISS (type 0x47, 32 bytes, C§7.9,
// D§11.4): a CACHE_REFERENCE could not be resolved. It must echo the
// reference's identity (CacheReference.Miss builds it; Echoes checks it). The
// body is a diagnostic of DiagnosticBytes bytes. A miss does not terminate a
// frame: the frame still needs its terminal (D§11.5).
type CacheMiss struct {
	CacheNamespace  uint32     `json:"cache_namespace"`
	ProfileID       ProfileID  `json:"profile_id"`
	Reason          MissReason `json:"miss_reason"`
	CacheKeyHi      uint64     `json:"cache_key_hi"`
	CacheKeyLo      uint64     `json:"cache_key_lo"`
	DiagnosticBytes uint32     `json:"diagnostic_bytes"`
}

// Type returns TypeCacheMiss.
func (*CacheMiss) Type() MessageType { return TypeCacheMiss }

// Len returns 32.
func (*CacheMiss) Len() int { return cacheMissLen }

// ExpectedBodyLen returns DiagnosticBytes.
func (m *CacheMiss) ExpectedBodyLen() (uint64, bool) { return uint64(m.DiagnosticBytes), true }

// Echoes reports whether m names the same cache entry as r: namespace,
// profile and both keys.
func (m *CacheMiss) Echoes(r *CacheReference) bool {
	return m.CacheNamespace == r.CacheNamespace && m.ProfileID == r.ProfileID &&
		m.CacheKeyHi == r.CacheKeyHi && m.CacheKeyLo == r.CacheKeyLo
}

func (m *CacheMiss) validate() error {
	return checkMax(TypeCacheMiss, "miss_reason", m.Reason, MissPermissionDenied)
}

// Append validates m and appends its 32 bytes to b.
func (m *CacheMiss) Append(b []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint32(b, m.CacheNamespace)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.ProfileID))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Reason))
	b = binary.LittleEndian.AppendUint64(b, m.CacheKeyHi)
	b = binary.LittleEndian.AppendUint64(b, m.CacheKeyLo)
	b = binary.LittleEndian.AppendUint32(b, m.DiagnosticBytes)
	b = binary.LittleEndian.AppendUint32(b, 0) // reserved
	return b, nil
}

// ParseCacheMiss decodes and validates CACHE_MISS metadata from the start of
// b.
func ParseCacheMiss(b []byte) (CacheMiss, int, error) {
	if len(b) < cacheMissLen {
		return CacheMiss{}, 0, errShort(TypeCacheMiss, "metadata", cacheMissLen, len(b))
	}
	m := CacheMiss{
		CacheNamespace:  binary.LittleEndian.Uint32(b[0:]),
		ProfileID:       ProfileID(binary.LittleEndian.Uint16(b[4:])),
		Reason:          MissReason(binary.LittleEndian.Uint16(b[6:])),
		CacheKeyHi:      binary.LittleEndian.Uint64(b[8:]),
		CacheKeyLo:      binary.LittleEndian.Uint64(b[16:]),
		DiagnosticBytes: binary.LittleEndian.Uint32(b[24:]),
	}
	if err := firstErr(
		m.validate(),
		checkZero(TypeCacheMiss, "reserved", binary.LittleEndian.Uint32(b[28:])),
	); err != nil {
		return CacheMiss{}, 0, err
	}
	return m, cacheMissLen, nil
}
