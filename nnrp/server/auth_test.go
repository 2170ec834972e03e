package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
)

func TestTokenAuth(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	slow := make(chan struct{})
	var v server.AuthFunc = func(ctx context.Context, h *server.ClientHelloContext) (server.Identity, error) {
		if string(h.Auth) == "slow" {
			<-slow // a validator stuck on one client must not hold up others
			return server.Identity{}, errors.New("too late")
		}
		return (&server.TokenValidator{Secret: secret}).ValidateHello(ctx, h)
	}
	h := newHarness(t, server.Profile{}, server.Options{Auth: v}, nil)
	defer close(slow)
	dial := func(auth string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := client.Dial(ctx, h.eps[carrier.TCP], client.Options{Auth: []byte(auth)})
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	go func() { _ = dial("slow") }()
	time.Sleep(20 * time.Millisecond)

	good, err := server.MintToken(secret, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(good); err != nil {
		t.Fatalf("valid token refused (or held up by a slow validation): %v", err)
	}
	expired, _ := server.MintToken(secret, "alice", -time.Hour)
	forged, _ := server.MintToken([]byte("another secret of sufficient size"), "alice", time.Minute)
	for name, tok := range map[string]string{"none": "", "expired": expired, "forged": forged, "garbage": "nnrp1.x"} {
		err := dial(tok)
		if err == nil || !strings.Contains(err.Error(), "auth_failed") {
			t.Errorf("%s token: %v, want ERROR auth_failed", name, err)
		}
	}
	if n := h.srv.Stats().AuthRejected.Load(); n < 4 {
		t.Fatalf("%d rejections counted", n)
	}
}

func TestTokenValidator(t *testing.T) {
	secret := []byte("0123456789abcdef")
	v := &server.TokenValidator{Secret: secret}
	tok, err := server.MintToken(secret, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Validate([]byte(tok))
	if err != nil || id.Subject != "bob" {
		t.Fatalf("%+v %v", id, err)
	}
	// Two hours later (beyond the 30 s leeway) it has expired.
	v.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := v.Validate([]byte(tok)); !errors.Is(err, server.ErrBadToken) {
		t.Fatalf("expired token: %v", err)
	}
	v.Now = nil
	if _, err := server.MintToken(secret, "a.b", time.Hour); err == nil {
		t.Fatal("subject with '.' accepted")
	}
	tampered := []byte(tok)
	tampered[len("nnrp1.")] = 'c' // bob → cob
	if _, err := v.Validate(tampered); !errors.Is(err, server.ErrBadToken) {
		t.Fatalf("tampered token: %v", err)
	}
}
