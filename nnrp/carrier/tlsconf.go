package carrier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ALPN is the application protocol name of NNRP/1.
const ALPN = "nnrp/1"

// ServerTLSConfig returns the server TLS configuration for the TLS and QUIC
// carriers. ALPN is chosen per connection (nnrp/INTEROP.md, C§8.2): a client
// that offers "nnrp/1" gets it selected; a client that offers no protocol
// (the official runtime, which fails when the server selects one) gets none.
// Both TLS 1.2 and 1.3 are allowed on TCP; QUIC always uses TLS 1.3.
func ServerTLSConfig(certs ...tls.Certificate) *tls.Config {
	noALPN := &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
	withALPN := noALPN.Clone()
	withALPN.NextProtos = []string{ALPN}
	cfg := noALPN.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if slices.Contains(hello.SupportedProtos, ALPN) {
			return withALPN, nil
		}
		return noALPN, nil
	}
	return cfg
}

// DevCertificate is a development certificate chain accepted by the
// official client (ERRATA.md 1): a private CA and an end-entity certificate
// (CA:FALSE) whose subjectAltName lists the given hosts. Clients trust the
// CA. A self-signed DevCertificate (DevCertificateOptions.SelfSigned) has no
// separate CA: the leaf signs itself and is its own trust anchor.
type DevCertificate struct {
	// CA is the certificate clients trust: the development CA, or the leaf
	// itself when self-signed.
	CA      *x509.Certificate
	CADER   []byte
	LeafDER []byte
	// KeyPKCS8 is the leaf's private key, PKCS#8 DER.
	KeyPKCS8 []byte
	// TLS is the leaf with its chain, ready for ServerTLSConfig.
	TLS tls.Certificate
	// SelfSigned reports a leaf that signed itself (CA == the leaf).
	SelfSigned bool
}

// DevCertificateOptions configures NewDevCertificateWith.
type DevCertificateOptions struct {
	// Hosts are the subjectAltName entries (DNS names or IP addresses);
	// empty means "localhost", "127.0.0.1" and "::1".
	Hosts []string
	// SelfSigned makes the leaf sign itself instead of being issued by a
	// development CA. It stays an end-entity certificate (CA:FALSE) with a
	// SAN, which the official client accepts when it trusts that very
	// certificate (a self-signed CA:TRUE certificate it rejects).
	SelfSigned bool
}

// NewDevCertificate creates a CA and a leaf for hosts (DNS names or IP
// addresses; default "localhost", "127.0.0.1" and "::1"), ECDSA P-256, valid
// for one year.
func NewDevCertificate(hosts ...string) (*DevCertificate, error) {
	return NewDevCertificateWith(DevCertificateOptions{Hosts: hosts})
}

// NewDevCertificateWith creates development certificate material as o
// says: ECDSA P-256 keys, valid for one year.
func NewDevCertificateWith(o DevCertificateOptions) (*DevCertificate, error) {
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	now := time.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: hosts[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if o.SelfSigned {
		leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, leafTmpl, &key.PublicKey, key)
		if err != nil {
			return nil, fmt.Errorf("carrier: creating self-signed leaf certificate: %w", err)
		}
		leaf, err := x509.ParseCertificate(leafDER)
		if err != nil {
			return nil, err
		}
		return &DevCertificate{
			CA: leaf, CADER: leafDER, LeafDER: leafDER, KeyPKCS8: keyDER, SelfSigned: true,
			TLS: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key},
		}, nil
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "nnrp-gpu development CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("carrier: creating CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("carrier: creating leaf certificate: %w", err)
	}
	return &DevCertificate{
		CA: ca, CADER: caDER, LeafDER: leafDER, KeyPKCS8: keyDER,
		TLS: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key},
	}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// RootPool returns a pool trusting only the development CA (the leaf when
// self-signed).
func (d *DevCertificate) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(d.CA)
	return p
}

// DevCertificateFiles are the paths WriteFiles wrote.
type DevCertificateFiles struct {
	CAPEM, CADER     string // trust anchor for clients
	CertPEM, KeyPEM  string // server chain and key (PEM)
	CertDER, KeyDER  string // leaf and PKCS#8 key (DER), for the official runtime
	ChainDescription string
}

// WriteFiles writes the certificate material to dir (created 0700) and
// returns the paths.
func (d *DevCertificate) WriteFiles(dir string) (DevCertificateFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return DevCertificateFiles{}, err
	}
	f := DevCertificateFiles{
		CAPEM: filepath.Join(dir, "ca.pem"), CADER: filepath.Join(dir, "ca.der"),
		CertPEM: filepath.Join(dir, "cert.pem"), KeyPEM: filepath.Join(dir, "key.pem"),
		CertDER: filepath.Join(dir, "cert.der"), KeyDER: filepath.Join(dir, "key.der"),
		ChainDescription: "leaf (CA:FALSE, SAN " + sanList(d) + ") signed by a private development CA",
	}
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.LeafDER})
	if d.SelfSigned {
		f.ChainDescription = "self-signed leaf (CA:FALSE, SAN " + sanList(d) + "); clients trust the leaf itself"
	} else {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.CADER})...)
	}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.CAPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.CADER}), 0o644},
		{f.CADER, d.CADER, 0o644},
		{f.CertPEM, chain, 0o644},
		{f.CertDER, d.LeafDER, 0o644},
		{f.KeyPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: d.KeyPKCS8}), 0o600},
		{f.KeyDER, d.KeyPKCS8, 0o600},
	} {
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return DevCertificateFiles{}, err
		}
	}
	return f, nil
}

func sanList(d *DevCertificate) string {
	leaf, err := x509.ParseCertificate(d.LeafDER)
	if err != nil {
		return "?"
	}
	var names []string
	names = append(names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return fmt.Sprint(names)
}
