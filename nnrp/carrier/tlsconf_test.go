package carrier

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"testing"
	"time"
)

// TestDevCertificateShapes checks both kinds of development material: an
// end-entity leaf (CA:FALSE) with the SAN the official client checks, issued
// by a separate CA or signed by itself, and what a client must trust.
func TestDevCertificateShapes(t *testing.T) {
	for _, selfSigned := range []bool{false, true} {
		d, err := NewDevCertificateWith(DevCertificateOptions{Hosts: []string{"localhost", "127.0.0.1"}, SelfSigned: selfSigned})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(d.LeafDER)
		if err != nil {
			t.Fatal(err)
		}
		if leaf.IsCA || !leaf.BasicConstraintsValid {
			t.Errorf("self-signed=%v: leaf IsCA=%v basicConstraints=%v, want an end-entity certificate", selfSigned, leaf.IsCA, leaf.BasicConstraintsValid)
		}
		if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" || len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("self-signed=%v: SAN %v %v", selfSigned, leaf.DNSNames, leaf.IPAddresses)
		}
		if d.SelfSigned != selfSigned {
			t.Errorf("SelfSigned = %v, want %v", d.SelfSigned, selfSigned)
		}
		if selfSigned {
			if !bytes.Equal(d.CADER, d.LeafDER) || len(d.TLS.Certificate) != 1 ||
				leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) != nil {
				t.Errorf("self-signed: trust anchor is not the leaf, or the chain has %d certificates", len(d.TLS.Certificate))
			}
		} else {
			if !d.CA.IsCA || bytes.Equal(d.CADER, d.LeafDER) || len(d.TLS.Certificate) != 2 || leaf.CheckSignatureFrom(d.CA) != nil {
				t.Errorf("CA-issued: CA IsCA=%v, chain of %d certificates", d.CA.IsCA, len(d.TLS.Certificate))
			}
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: d.RootPool(), DNSName: "localhost"}); err != nil {
			t.Errorf("self-signed=%v: leaf does not verify against RootPool: %v", selfSigned, err)
		}

		files, err := d.WriteFiles(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		chainPEM, err := os.ReadFile(files.CertPEM)
		if err != nil {
			t.Fatal(err)
		}
		var blocks int
		for rest := chainPEM; ; blocks++ {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
		}
		if want := len(d.TLS.Certificate); blocks != want {
			t.Errorf("self-signed=%v: cert.pem holds %d certificates, want %d", selfSigned, blocks, want)
		}
	}
	d, err := NewDevCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if d.SelfSigned || d.CA == nil || !d.CA.IsCA {
		t.Error("NewDevCertificate no longer issues the leaf from a CA")
	}
}

// TestSelfSignedDevCertificateServes runs a Go TLS and QUIC client against a
// server presenting a self-signed development leaf it trusts directly.
func TestSelfSignedDevCertificateServes(t *testing.T) {
	d, err := NewDevCertificateWith(DevCertificateOptions{SelfSigned: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []Kind{TLS, QUIC} {
		l := listen(t, kind, d)
		served := echoOnce(t, l)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := Dial(ctx, endpoint(l), DialOptions{TLS: &tls.Config{RootCAs: d.RootPool()}})
		cancel()
		if err != nil {
			t.Fatalf("%v: dial: %v", kind, err)
		}
		msg := []byte("self-signed")
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := readFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%v: echo %q %v", kind, got, err)
		}
		_ = c.Close()
		if err := <-served; err != nil {
			t.Fatalf("%v: server side: %v", kind, err)
		}
		_ = l.Close()
	}
}

func readFull(c Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
