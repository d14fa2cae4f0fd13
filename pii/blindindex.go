package pii

import (
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strings"
	"sync"
	"unicode"

	"github.com/emmansun/gmsm/sm3"
)

// MinBlindIndexKeySize is the shortest blind-index key accepted. A short key
// would let anyone who reads the database brute-force the indexes: there are
// only about 10^10 mobile numbers.
const MinBlindIndexKeySize = 16

// BlindIndexKeySize is the length of keys made by GenerateBlindIndexKey.
const BlindIndexKeySize = 32

// BlindIndex computes keyed blind indexes with HMAC-SM3 (GB/T 32905), so an
// encrypted field can be found by exact match: store Index(field, value)
// next to the ciphertext and query by it.
//
// An index is a deterministic function of key, field and value; it leaks
// equality and nothing else. The format is fixed: changing it, or the key,
// means recomputing every stored index.
//
// A BlindIndex is safe for concurrent use.
type BlindIndex struct {
	// pool keeps keyed HMAC states; Reset restores the keyed state more
	// cheaply than hmac.New re-hashing the key each time.
	pool sync.Pool
}

// NewBlindIndex returns a BlindIndex using key. It panics if key is shorter
// than MinBlindIndexKeySize: that is a configuration bug that must not reach
// production silently (callers validate configured keys, see ParseKeyHex).
func NewBlindIndex(key []byte) *BlindIndex {
	if len(key) < MinBlindIndexKeySize {
		panic("pii: blind index key must be at least 16 bytes")
	}
	k := append([]byte(nil), key...) // the caller may reuse its slice
	return &BlindIndex{pool: sync.Pool{New: func() any { return hmac.New(sm3.New, k) }}}
}

// Index returns the lower-case hex HMAC-SM3 of value, domain-separated by
// field: the same phone number gives different indexes under "phone" and
// "emergency_phone". Index does not normalize value; do that first (see
// NormalizeIDNumber, NormalizePhone) so that equal values index equally.
func (b *BlindIndex) Index(field, value string) string {
	mac := b.pool.Get().(hash.Hash)
	defer b.pool.Put(mac)
	mac.Reset()
	// The field is length-prefixed so ("ab", "c") and ("a", "bc") differ.
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(field)))
	mac.Write(n[:])
	mac.Write([]byte(field))
	mac.Write([]byte(value))
	var sum [sm3.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0]))
}

// NormalizeIDNumber puts a resident ID number in its canonical stored form:
// white space removed, full-width digits made ASCII and the check character
// x upper-cased. It does not validate; call ValidateIDNumber on the result.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(normalizeASCII(s, false))
}

// NormalizePhone puts a mainland mobile number in its canonical stored form:
// white space and '-' removed, full-width digits made ASCII and a +86, 0086
// or 86 country prefix dropped. It does not validate; call ValidatePhone.
func NormalizePhone(s string) string {
	s = normalizeASCII(s, true)
	for _, p := range []string{"+86", "0086", "86"} {
		// Only a prefix followed by a full 11-digit mobile number is a country
		// code; otherwise leave the input alone for the validator to reject.
		if rest, ok := strings.CutPrefix(s, p); ok && len(rest) == 11 && rest[0] == '1' {
			return rest
		}
	}
	return s
}

// NormalizeUSCC puts a unified social credit code in its canonical stored
// form: white space removed, full-width characters made ASCII, upper case.
// It does not validate; call ValidateUSCC on the result.
func NormalizeUSCC(s string) string {
	return strings.ToUpper(normalizeASCII(s, false))
}

// normalizeASCII drops white space (and '-' if dropDash) and maps full-width
// forms (U+FF01..U+FF5E), which Chinese input methods produce, to ASCII.
func normalizeASCII(s string, dropDash bool) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFF01 - '!'
		}
		switch {
		case unicode.IsSpace(r): // includes the ideographic space U+3000
			continue
		case dropDash && r == '-':
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
