package carrier

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func listen(t *testing.T, kind Kind, dev *DevCertificate) Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if kind == Unix {
		addr = filepath.Join(t.TempDir(), "nnrp.sock")
	}
	var cfg *tls.Config
	if kind == TLS || kind == QUIC {
		cfg = ServerTLSConfig(dev.TLS)
	}
	l, err := Listen(kind, addr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func endpoint(l Listener) Endpoint {
	if l.Kind() == Unix {
		return Endpoint{Kind: Unix, Address: l.Addr().String()}
	}
	return Endpoint{Kind: l.Kind(), Address: l.Addr().String(), ServerName: "localhost"}
}

// echoOnce serves one connection: it echoes everything until EOF.
func echoOnce(t *testing.T, l Listener) <-chan error {
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept(context.Background())
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Handshake(ctx); err != nil {
			done <- err
			return
		}
		_, err = io.Copy(c, c)
		done <- err
	}()
	return done
}

func TestEcho(t *testing.T) {
	dev, err := NewDevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []Kind{TCP, TLS, QUIC, Unix} {
		for _, alpn := range []bool{false, true} {
			if alpn && (kind == TCP || kind == Unix) {
				continue
			}
			name := kind.String()
			if alpn {
				name += "+alpn"
			}
			t.Run(name, func(t *testing.T) {
				l := listen(t, kind, dev)
				defer l.Close()
				served := echoOnce(t, l)
				cfg := &tls.Config{RootCAs: dev.RootPool()}
				if alpn {
					cfg.NextProtos = []string{ALPN}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				c, err := Dial(ctx, endpoint(l), DialOptions{TLS: cfg})
				if err != nil {
					t.Fatal(err)
				}
				if c.Kind() != kind {
					t.Fatalf("kind %v, want %v", c.Kind(), kind)
				}
				if st := c.TLSState(); (st != nil) != (kind == TLS || kind == QUIC) {
					t.Fatalf("TLS state %v for %v", st, kind)
				} else if st != nil {
					want := ""
					if alpn {
						want = ALPN
					}
					if st.NegotiatedProtocol != want {
						t.Fatalf("negotiated ALPN %q, want %q", st.NegotiatedProtocol, want)
					}
				}
				msg := bytes.Repeat([]byte("nnrp"), 300000) // 1.2 MB, more than any socket buffer
				go func() { _, _ = c.Write(msg) }()
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatal("echo differs")
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-served:
					if err != nil {
						t.Fatalf("server side: %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("server did not see the close")
				}
			})
		}
	}
}

func TestAcceptCancel(t *testing.T) {
	dev, err := NewDevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []Kind{TCP, QUIC, Unix} {
		l := listen(t, kind, dev)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := l.Accept(ctx); err == nil {
			t.Fatalf("%v: Accept returned a connection", kind)
		}
		if kind != QUIC {
			// The listener stays usable after a cancelled Accept.
			served := echoOnce(t, l)
			c, err := Dial(context.Background(), endpoint(l), DialOptions{})
			if err != nil {
				t.Fatalf("%v: dial after cancelled accept: %v", kind, err)
			}
			_ = c.Close()
			if err := <-served; err != nil {
				t.Fatalf("%v: server side: %v", kind, err)
			}
		}
		_ = l.Close()
	}
}

func TestTLSRejectsUntrustedClientGracefully(t *testing.T) {
	// A client that does not trust the certificate fails its handshake; the
	// listener keeps serving others (unlike the reference runtime).
	dev, err := NewDevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewDevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []Kind{TLS, QUIC} {
		l := listen(t, kind, dev)
		served := echoOnce(t, l)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if _, err := Dial(ctx, endpoint(l), DialOptions{TLS: &tls.Config{RootCAs: other.RootPool()}}); err == nil {
			t.Fatalf("%v: untrusted handshake succeeded", kind)
		}
		if kind == TLS {
			// The TLS listener handed the failed connection to echoOnce,
			// whose handshake error ended it; serve the next one.
			if err := <-served; err == nil {
				t.Fatal("server handshake with an untrusting client succeeded")
			}
			served = echoOnce(t, l)
		}
		c, err := Dial(ctx, endpoint(l), DialOptions{TLS: &tls.Config{RootCAs: dev.RootPool()}})
		cancel()
		if err != nil {
			t.Fatalf("%v: trusted client after a failed one: %v", kind, err)
		}
		_ = c.Close()
		if err := <-served; err != nil {
			t.Fatalf("%v: server side: %v", kind, err)
		}
		_ = l.Close()
	}
}

func TestUnixStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	// A stale socket file (no listener) is replaced.
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	_ = ul.Close()
	l, err := Listen(Unix, path, nil, nil)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	// A live one is not.
	if _, err := Listen(Unix, path, nil, nil); err == nil {
		t.Fatal("live socket replaced")
	}
	_ = l.Close()
	// A regular file is never deleted.
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(Unix, path, nil, nil); err == nil {
		t.Fatal("regular file replaced")
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		def  Kind
		want Endpoint
		bad  bool
	}{
		{in: "tcp://127.0.0.1:7000", want: Endpoint{TCP, "127.0.0.1:7000", "127.0.0.1"}},
		{in: "nnrp://h:1", want: Endpoint{TCP, "h:1", "h"}},
		{in: "nnrp://h:1", def: QUIC, want: Endpoint{QUIC, "h:1", "h"}},
		{in: "nnrps://h:1", want: Endpoint{QUIC, "h:1", "h"}},
		{in: "nnrps://h:1", def: TLS, want: Endpoint{TLS, "h:1", "h"}},
		{in: "nnrps://h:1", def: TCP, bad: true},
		{in: "unix:///run/x.sock", want: Endpoint{Unix, "/run/x.sock", ""}},
		{in: "unix://", bad: true},
		{in: "http://h:1", bad: true},
		{in: "tcp://nohost", bad: true},
	} {
		got, err := ParseEndpoint(tc.in, tc.def)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted", tc.in)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
