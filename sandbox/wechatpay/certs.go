package wechatpay

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
	"time"

	gopkcs12 "software.sslmate.com/src/go-pkcs12"
)

// pki is what the fake generates at start-up for the mutual-TLS /secapi/
// routes: a private CA, the API server's certificate, and the merchant's
// API client certificate as the PKCS#12 file WeChat Pay hands out
// (apiclient_cert.p12, password = mch_id).
type pki struct {
	roots      *x509.CertPool // trusts ca: the client's RootCAs and the server's ClientCAs
	caPEM      []byte         // ca, for a separate process to trust (WECHATPAY_ROOT_CA_FILE)
	serverCert tls.Certificate
	p12        []byte
}

// Certificate validity. TLS peers check it against their own wall clock,
// while the fake's clock may be set anywhere, so the certificates are valid
// for a wide fixed window instead of one derived from either clock.
var (
	certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)
)

// newPKI generates the keys and certificates.
func newPKI(mchID string) (*pki, error) {
	notBefore, notAfter := certNotBefore, certNotAfter
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "zwfw sandbox WeChat Pay CA", Organization: []string{"zwfw sandbox"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "api.mch.weixin.qq.com (sandbox)"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, srvKey.Public(), caKey)
	if err != nil {
		return nil, err
	}

	// The merchant certificate's subject names the merchant (CN = mch_id),
	// which is how the server ties a TLS client to a merchant.
	cliKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cliDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: mchID, OrganizationalUnit: []string{"WeChat Pay merchant (sandbox)"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, cliKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	cli, err := x509.ParseCertificate(cliDER)
	if err != nil {
		return nil, err
	}
	// LegacyDES (3DES + SHA-1 MAC) is what golang.org/x/crypto/pkcs12 — the
	// SDK's decoder — can read; the modern AES encodings it cannot.
	p12, err := gopkcs12.LegacyDES.Encode(cliKey, cli, nil, mchID)
	if err != nil {
		return nil, fmt.Errorf("encode merchant p12: %w", err)
	}

	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &pki{
		roots:      roots,
		caPEM:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		serverCert: tls.Certificate{Certificate: [][]byte{srvDER, caDER}, PrivateKey: srvKey},
		p12:        p12,
	}, nil
}

// serial is a random 128-bit certificate serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}
