package nnrpffi

// NativeSessionID asks the library for the wire id behind the session handle;
// after Close it fails with StatusInvalidHandle, which shows the handle is
// gone from the library.
func (s *ClientSession) NativeSessionID() (uint32, error) { return s.conn.lib.sessionIDOf(s.h) }

// NativeSessionID is the server-side counterpart.
func (s *ServerSession) NativeSessionID() (uint32, error) { return s.srv.lib.sessionIDOf(s.h) }
