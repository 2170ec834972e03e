package devcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

func TestMaterial(t *testing.T) {
	for _, selfSigned := range []bool{false, true} {
		m, err := New(Options{SelfSigned: selfSigned})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(m.CertDER)
		if err != nil {
			t.Fatal(err)
		}
		if leaf.IsCA || !leaf.BasicConstraintsValid {
			t.Errorf("self-signed=%v: leaf IsCA=%v basicConstraints=%v, want an end-entity certificate", selfSigned, leaf.IsCA, leaf.BasicConstraintsValid)
		}
		if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" || len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("self-signed=%v: SAN %v %v", selfSigned, leaf.DNSNames, leaf.IPAddresses)
		}
		if leaf.NotAfter.Sub(leaf.NotBefore) != 24*time.Hour {
			t.Errorf("validity %v", leaf.NotAfter.Sub(leaf.NotBefore))
		}
		root, err := x509.ParseCertificate(m.RootDER)
		if err != nil {
			t.Fatal(err)
		}
		if selfSigned {
			if !bytes.Equal(m.RootDER, m.CertDER) || len(m.ChainDER) != 1 {
				t.Errorf("self-signed root/chain: %d certificates", len(m.ChainDER))
			}
		} else if !root.IsCA || len(m.ChainDER) != 2 || !bytes.Equal(m.ChainDER[1], m.RootDER) {
			t.Errorf("CA IsCA=%v, chain of %d", root.IsCA, len(m.ChainDER))
		}
		pool, err := m.RootPool()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"localhost", "127.0.0.1"} {
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
				t.Errorf("self-signed=%v: verify %s: %v", selfSigned, name, err)
			}
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool}); err == nil {
			t.Error("leaf verified for a name it does not carry")
		}
		key, err := x509.ParsePKCS8PrivateKey(m.KeyPKCS8DER)
		if err != nil {
			t.Fatal(err)
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok || !ec.PublicKey.Equal(leaf.PublicKey) {
			t.Errorf("PKCS#8 key does not match the leaf")
		}
	}
}

func TestOptions(t *testing.T) {
	m, err := New(Options{Hosts: []string{"nnrp.test", "::1", "10.1.2.3"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(m.CertDER)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "nnrp.test" || len(leaf.IPAddresses) != 2 || leaf.Subject.CommonName != "nnrp.test" {
		t.Errorf("SAN %v %v CN %q", leaf.DNSNames, leaf.IPAddresses, leaf.Subject.CommonName)
	}
	if leaf.NotAfter.Sub(leaf.NotBefore) != time.Hour {
		t.Errorf("validity %v", leaf.NotAfter.Sub(leaf.NotBefore))
	}
	if _, err := New(Options{Validity: -time.Second}); err == nil {
		t.Error("negative validity accepted")
	}
}

// TestGoTLS shows the material works for crypto/tls servers and clients too.
func TestGoTLS(t *testing.T) {
	for _, selfSigned := range []bool{false, true} {
		m, err := New(Options{SelfSigned: selfSigned})
		if err != nil {
			t.Fatal(err)
		}
		pool, err := m.RootPool()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"localhost", "127.0.0.1"} {
			a, b := net.Pipe()
			srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{m.TLSCertificate()}})
			cli := tls.Client(b, &tls.Config{RootCAs: pool, ServerName: name})
			done := make(chan error, 1)
			go func() { done <- srv.Handshake() }()
			if err := cli.Handshake(); err != nil {
				t.Errorf("self-signed=%v %s: client handshake: %v", selfSigned, name, err)
				_ = a.Close() // unblock the server
			}
			if err := <-done; err != nil {
				t.Errorf("self-signed=%v %s: server handshake: %v", selfSigned, name, err)
			}
			// Close the pipe itself: a TLS close_notify on an unread
			// synchronous pipe would wait for its write deadline.
			_ = a.Close()
			_ = b.Close()
		}
	}
}
