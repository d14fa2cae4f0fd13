package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
)

// Fingerprint digests what makes two requests "the same": the caller passes
// the method, the concrete path, the query, the content type and the body.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		l := len(p)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
