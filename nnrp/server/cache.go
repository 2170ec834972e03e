package server

import (
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

// objectKey identifies a cached object (D§11.2).
type objectKey struct {
	kind      uint32
	namespace uint32
	keyHi     uint64
	keyLo     uint64
}

// objectCache holds a session's CACHE_PUT objects, bounded in bytes. Owned
// by the connection's owner goroutine.
type objectCache struct {
	limit   uint32
	used    uint32
	objects map[objectKey][]byte
}

func newObjectCache(limit uint32) *objectCache {
	return &objectCache{limit: limit, objects: map[objectKey][]byte{}}
}

// put stores a copy of data; it reports the CACHE_ACK status.
func (oc *objectCache) put(k objectKey, data []byte) wire.CacheAckStatus {
	old, replaced := oc.objects[k]
	if uint64(oc.used)-uint64(len(old))+uint64(len(data)) > uint64(oc.limit) {
		return wire.CacheStatusRejected
	}
	oc.used = oc.used - uint32(len(old)) + uint32(len(data))
	oc.objects[k] = append([]byte(nil), data...)
	if replaced {
		return wire.CacheStatusReplaced
	}
	return wire.CacheStatusAccepted
}

// get returns a cached object.
func (oc *objectCache) get(k objectKey) ([]byte, bool) {
	b, ok := oc.objects[k]
	return b, ok
}

// ResolveObjectReference implements wire.ObjectReferenceResolver.
func (oc *objectCache) ResolveObjectReference(ref wire.ObjectReference) ([]byte, bool) {
	return oc.get(objectKey{uint32(ref.Kind), ref.Namespace, ref.KeyHi, ref.KeyLo})
}

// has reports whether any object kind is cached under the identity (a
// CACHE_REFERENCE names no kind).
func (oc *objectCache) has(namespace uint32, hi, lo uint64) bool {
	for k := range oc.objects {
		if k.namespace == namespace && k.keyHi == hi && k.keyLo == lo {
			return true
		}
	}
	return false
}

// invalidate applies CACHE_INVALIDATE (D§11.3).
func (oc *objectCache) invalidate(m wire.CacheInvalidate) {
	for k, v := range oc.objects {
		var match bool
		switch m.Scope {
		case wire.InvalidateWholeSession:
			match = true
		case wire.InvalidateNamespace:
			match = k.namespace == m.Namespace
		case wire.InvalidateObjectKind:
			match = k.namespace == m.Namespace && uint64(k.kind) == m.KeyHi
		case wire.InvalidateObjectKey:
			match = k.namespace == m.Namespace && k.keyHi == m.KeyHi && k.keyLo == m.KeyLo
		}
		if match {
			oc.used -= uint32(len(v))
			delete(oc.objects, k)
		}
	}
}

// handleCachePut stores an object when the cache is enabled and the kind was
// negotiated; it always answers CACHE_ACK.
func (c *conn) handleCachePut(s *Session, m wire.CachePut, body []byte) {
	ack := wire.CacheAck{Namespace: m.Namespace, KeyHi: m.KeyHi, KeyLo: m.KeyLo,
		Status: wire.CacheStatusRejected}
	if s.cache != nil {
		ack.MaxObjectBytes = s.cache.limit
		if c.hello.Hello.CacheObjectBitmap&(1<<(m.ObjectKind-1)) == 0 {
			ack.DetailCode = wire.CacheErrSchemaMismatch
		} else {
			ack.Status = s.cache.put(objectKey{uint32(m.ObjectKind), m.Namespace, m.KeyHi, m.KeyLo}, body)
			ack.AcceptedTTLMS = m.TTLMS
		}
	}
	if b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID}, &ack); err == nil {
		c.send(b)
	}
}

// handleCacheReference answers a reference the session cannot resolve with
// CACHE_MISS echoing the identity (C§7.9, C§9.2 S5).
func (c *conn) handleCacheReference(s *Session, m wire.CacheReference) {
	if s.cache != nil && s.cache.has(m.CacheNamespace, m.CacheKeyHi, m.CacheKeyLo) {
		return
	}
	miss := m.Miss(wire.MissNotFound)
	if b, err := wire.AppendPacket(nil, wire.Header{SessionID: s.info.ID}, &miss); err == nil {
		c.send(b)
	}
}
