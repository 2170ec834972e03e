// Package devcert makes throw-away TLS material that the official NNRP client
// accepts (SPEC errata 1): an end-entity certificate (basicConstraints
// CA:FALSE) whose subjectAltName lists the server names, either issued by a
// fresh CA or self-signed, with an ECDSA P-256 key in PKCS#8.
//
// The official client trusts exactly one certificate and checks the server
// name against the subjectAltName only (the common name is ignored); it
// rejects a self-signed CA:TRUE certificate and a leaf without SAN. The
// official server presents a single certificate, so the client must trust
// either that leaf (self-signed) or its direct issuer.
//
// The package is pure Go (crypto/x509) and usable without cgo, by Go servers
// and clients as well as by the nnrpffi binding.
package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Options configures New. The zero value issues a leaf for "localhost" and
// 127.0.0.1 from a fresh CA, valid for 24 hours.
type Options struct {
	// Hosts are the subjectAltName entries: IP literals become IP SANs,
	// everything else DNS SANs. Empty means {"localhost", "127.0.0.1"}.
	Hosts []string
	// SelfSigned makes the leaf sign itself (still CA:FALSE); the client then
	// trusts the leaf. Otherwise a CA is created and the client trusts it.
	SelfSigned bool
	// Validity is how long the certificates are valid from one minute ago;
	// 0 means 24 hours.
	Validity time.Duration
}

// Material is a server certificate, its key and the certificate a client
// must trust.
type Material struct {
	// RootDER is the certificate a client trusts: the CA, or the leaf itself
	// when self-signed.
	RootDER []byte
	// CertDER is the server's end-entity certificate.
	CertDER []byte
	// ChainDER is what a server may present: the leaf, then the CA (just the
	// leaf when self-signed).
	ChainDER [][]byte
	// KeyPKCS8DER is the leaf's private key in PKCS#8 DER.
	KeyPKCS8DER []byte

	key *ecdsa.PrivateKey
}

// New creates fresh material.
func New(o Options) (*Material, error) {
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	validity := o.Validity
	if validity == 0 {
		validity = 24 * time.Hour
	}
	if validity < 0 {
		return nil, errors.New("devcert: negative validity")
	}
	notBefore := time.Now().Add(-time.Minute)
	notAfter := notBefore.Add(validity)

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devcert: leaf key: %w", err)
	}
	leaf := &x509.Certificate{
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"nnrp-gpu dev"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	if leaf.SerialNumber, err = serial(); err != nil {
		return nil, err
	}

	m := &Material{key: leafKey}
	if o.SelfSigned {
		if m.CertDER, err = x509.CreateCertificate(rand.Reader, leaf, leaf, &leafKey.PublicKey, leafKey); err != nil {
			return nil, fmt.Errorf("devcert: self-signed leaf: %w", err)
		}
		m.RootDER = m.CertDER
		m.ChainDER = [][]byte{m.CertDER}
	} else {
		caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("devcert: CA key: %w", err)
		}
		ca := &x509.Certificate{
			Subject:               pkix.Name{CommonName: "nnrp-gpu dev CA", Organization: []string{"nnrp-gpu dev"}},
			NotBefore:             notBefore,
			NotAfter:              notAfter,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
			MaxPathLenZero:        true,
		}
		if ca.SerialNumber, err = serial(); err != nil {
			return nil, err
		}
		caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
		if err != nil {
			return nil, fmt.Errorf("devcert: CA: %w", err)
		}
		caCert, err := x509.ParseCertificate(caDER)
		if err != nil {
			return nil, fmt.Errorf("devcert: CA: %w", err)
		}
		if m.CertDER, err = x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey); err != nil {
			return nil, fmt.Errorf("devcert: leaf: %w", err)
		}
		m.RootDER = caDER
		m.ChainDER = [][]byte{m.CertDER, caDER}
	}
	if m.KeyPKCS8DER, err = x509.MarshalPKCS8PrivateKey(leafKey); err != nil {
		return nil, fmt.Errorf("devcert: key: %w", err)
	}
	return m, nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("devcert: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never zero
}

// TLSCertificate is the chain and key for a crypto/tls server.
func (m *Material) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: m.ChainDER, PrivateKey: m.key}
}

// RootPool is a pool holding only RootDER, for a crypto/tls client.
func (m *Material) RootPool() (*x509.CertPool, error) {
	root, err := x509.ParseCertificate(m.RootDER)
	if err != nil {
		return nil, fmt.Errorf("devcert: root: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return pool, nil
}
