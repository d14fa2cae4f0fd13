package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/url"
	"sort"
	"strings"
)

// Alipay's RSA2 signatures, written here apart from the SDK so that the two
// check each other:
//
//	content = the parameters sorted by name, "name=value" joined by "&",
//	          raw (not URL-encoded), empty values and the excluded names left out
//	sign    = base64(RSA-PKCS#1 v1.5(SHA-256(content)))
//
// A request excludes only sign; a notify or a sync return excludes sign and
// sign_type. A gateway response signs the exact bytes of its
// "<method>_response" JSON value.

// SignContent is the string a signature over values covers, leaving out
// the names in exclude.
func SignContent(values url.Values, exclude ...string) string {
	skip := map[string]bool{}
	for _, k := range exclude {
		skip[k] = true
	}
	keys := make([]string, 0, len(values))
	for k, vs := range values {
		if skip[k] || len(vs) == 0 || vs[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(values.Get(k))
	}
	return b.String()
}

// rsa2Sign signs content with key: base64 of RSA-SHA256 PKCS#1 v1.5.
func rsa2Sign(key *rsa.PrivateKey, content []byte) string {
	sum := sha256.Sum256(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // only fails for keys too small for SHA-256, which ours are not
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// rsa2Verify checks a base64 RSA2 signature over content.
func rsa2Verify(pub *rsa.PublicKey, content []byte, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return errors.New("sign is not base64")
	}
	sum := sha256.Sum256(content)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// signParams sets sign_type=RSA2 and sign on a notify or sync-return form,
// signed with the gateway key over everything but sign and sign_type.
func (s *Server) signParams(form url.Values) {
	form.Del("sign")
	form.Set("sign_type", "RSA2")
	form.Set("sign", rsa2Sign(s.gwKey, []byte(SignContent(form, "sign", "sign_type"))))
}

// SignNotification signs a notify form with the gateway ("Alipay") key,
// setting sign_type and sign, exactly as the fake signs the notifies it
// sends. Tests use it to make notifies the fake would never send (another
// app's, say) that still verify.
func (s *Server) SignNotification(form url.Values) { s.signParams(form) }

// VerifyNotification checks a notify or sync-return form's signature
// against the Alipay public key, as a merchant does.
func (s *Server) VerifyNotification(form url.Values) error {
	return rsa2Verify(&s.gwKey.PublicKey, []byte(SignContent(form, "sign", "sign_type")), form.Get("sign"))
}

// AppPrivateKeyPEM is the app's private key (PKCS#1 PEM, "RSA PRIVATE
// KEY"), what zwfw signs requests with (ALIPAY_APP_PRIVATE_KEY).
func (s *Server) AppPrivateKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.appKey)}))
}

// AppPublicKeyPEM is the app's public key (PKIX PEM), what the merchant
// uploads to the open platform; the gateway verifies requests with it.
func (s *Server) AppPublicKeyPEM() string { return publicPEM(&s.appKey.PublicKey) }

// AlipayPublicKeyPEM is the gateway's public key (PKIX PEM, "PUBLIC KEY"),
// what zwfw verifies responses and notifies with (ALIPAY_PUBLIC_KEY).
func (s *Server) AlipayPublicKeyPEM() string { return publicPEM(&s.gwKey.PublicKey) }

func publicPEM(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an RSA public key always marshals
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
