package idempotency

import (
	"crypto/rand"
	"encoding/hex"
)

// newOwner names one claim, so only its holder can answer or release it.
func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
