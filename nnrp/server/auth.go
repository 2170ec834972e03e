package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuthValidator decides whether a connection may proceed, from its
// CLIENT_HELLO. It runs on the connection's own goroutine with the handshake
// deadline in ctx, so a slow validator delays only that client. A non-nil
// error rejects the client with ERROR auth_failed (fatal) and closes it; the
// error text is logged, not sent.
type AuthValidator interface {
	ValidateHello(ctx context.Context, hello *ClientHelloContext) (Identity, error)
}

// AuthFunc adapts a function to AuthValidator.
type AuthFunc func(ctx context.Context, hello *ClientHelloContext) (Identity, error)

// ValidateHello calls f.
func (f AuthFunc) ValidateHello(ctx context.Context, h *ClientHelloContext) (Identity, error) {
	return f(ctx, h)
}

// Identity is what a validator learned about the client.
type Identity struct {
	Subject string
}

// ErrBadToken is returned by TokenValidator for a malformed, forged or
// expired token.
var ErrBadToken = errors.New("server: invalid auth token")

// TokenValidator accepts CLIENT_HELLO auth blocks carrying a token minted by
// MintToken with the same secret:
//
//	nnrp1.<subject>.<expiry unix seconds>.<hex HMAC-SHA256(secret, "nnrp1.<subject>.<expiry>")>
//
// The subject may not contain '.'. Comparison is constant-time.
type TokenValidator struct {
	Secret []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Leeway tolerates clock skew on the expiry (default 30 s).
	Leeway time.Duration
}

const tokenPrefix = "nnrp1."

// MintToken creates a token for subject valid for ttl.
func MintToken(secret []byte, subject string, ttl time.Duration) (string, error) {
	if strings.Contains(subject, ".") || subject == "" {
		return "", fmt.Errorf("server: token subject %q must be non-empty and contain no '.'", subject)
	}
	claim := tokenPrefix + subject + "." + strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)
	return claim + "." + hex.EncodeToString(tokenMAC(secret, claim)), nil
}

func tokenMAC(secret []byte, claim string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(claim))
	return m.Sum(nil)
}

// ValidateHello implements AuthValidator.
func (v *TokenValidator) ValidateHello(_ context.Context, h *ClientHelloContext) (Identity, error) {
	return v.Validate(h.Auth)
}

// Validate checks one token.
func (v *TokenValidator) Validate(token []byte) (Identity, error) {
	if len(v.Secret) == 0 {
		return Identity{}, errors.New("server: token validator has no secret")
	}
	token = bytes.TrimSpace(token)
	if len(token) == 0 {
		return Identity{}, fmt.Errorf("%w: the client sent no auth block", ErrBadToken)
	}
	s := string(token)
	dot := strings.LastIndexByte(s, '.')
	if !strings.HasPrefix(s, tokenPrefix) || dot < 0 {
		return Identity{}, fmt.Errorf("%w: not an nnrp1 token", ErrBadToken)
	}
	claim, macHex := s[:dot], s[dot+1:]
	mac, err := hex.DecodeString(macHex)
	if err != nil || !hmac.Equal(mac, tokenMAC(v.Secret, claim)) {
		return Identity{}, fmt.Errorf("%w: signature mismatch", ErrBadToken)
	}
	parts := strings.Split(claim, ".")
	if len(parts) != 3 {
		return Identity{}, fmt.Errorf("%w: malformed claim", ErrBadToken)
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: malformed expiry", ErrBadToken)
	}
	now, leeway := time.Now, v.Leeway
	if v.Now != nil {
		now = v.Now
	}
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	if now().Add(-leeway).Unix() > exp {
		return Identity{}, fmt.Errorf("%w: expired at %s", ErrBadToken, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return Identity{Subject: parts[1]}, nil
}
