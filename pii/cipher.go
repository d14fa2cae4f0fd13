package pii

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm4"
)

// SM4KeySize is the length in bytes of an SM4 key.
const SM4KeySize = 16

const (
	// prefixV1 starts every encrypted value. It names the format, so a later
	// format can be introduced without guessing what an old value is.
	prefixV1 = "v1:"
	// formatV1 is the format number bound into the associated data.
	formatV1  = 1
	nonceSize = 12 // the GCM standard nonce size
	tagSize   = 16 // the full GCM tag
	// minBlob is key id + nonce + tag: the size of an encrypted empty value.
	minBlob = 1 + nonceSize + tagSize
)

// encoding is URL-safe base64 without padding, so encrypted values hold no
// characters that need escaping in MongoDB, JSON or URLs. Strict rejects
// non-canonical encodings, so each ciphertext has exactly one text form.
var encoding = base64.RawURLEncoding.Strict()

// Errors returned by Cipher.Decrypt and Cipher.DecryptField. They are meant
// for logs and operators, not for end users: a value that does not decrypt
// is a server-side problem.
var (
	// ErrCiphertextMalformed means the value is not an encrypted value of a
	// known format (wrong prefix, bad base64, too short).
	ErrCiphertextMalformed = errors.New("pii: malformed encrypted value")
	// ErrUnknownKeyID means the value names a key id that the Cipher was not
	// given, e.g. a retired key removed too early.
	ErrUnknownKeyID = errors.New("pii: encrypted value names an unknown key id")
	// ErrCiphertextAuth means authentication failed: the value was tampered
	// with, belongs to another field, or was encrypted under other key bytes.
	ErrCiphertextAuth = errors.New("pii: encrypted value failed authentication")
)

// Cipher encrypts personal data field by field with SM4 in GCM mode.
//
// An encrypted value is "v1:" + base64url(keyID || nonce || ciphertext || tag),
// with a fresh random 12-byte nonce each time. New values use the current key;
// any key the Cipher holds can decrypt, which is how keys are rotated: add the
// new key, make it current, re-encrypt at leisure, then drop the old one.
//
// Random nonces bound the safe use of one key to about 2^32 encryptions;
// rotate long before that.
//
// A Cipher is safe for concurrent use.
type Cipher struct {
	aeads   map[byte]cipher.AEAD
	current byte
}

// NewCipher returns a Cipher holding keys (key id -> 16-byte SM4 key) that
// encrypts with the key whose id is current.
func NewCipher(keys map[byte][]byte, current byte) (*Cipher, error) {
	if len(keys) == 0 {
		return nil, errors.New("pii: NewCipher needs at least one key")
	}
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("pii: current key id %d is not among the keys", current)
	}
	c := &Cipher{aeads: make(map[byte]cipher.AEAD, len(keys)), current: current}
	for id, key := range keys {
		if len(key) != SM4KeySize {
			return nil, fmt.Errorf("pii: key id %d: SM4 key must be %d bytes, got %d", id, SM4KeySize, len(key))
		}
		block, err := sm4.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("pii: key id %d: %w", id, err)
		}
		// The standard NewGCM picks up gmsm's assembly GCM through the
		// gcmAble interface where the CPU supports it.
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("pii: key id %d: %w", id, err)
		}
		c.aeads[id] = aead
	}
	return c, nil
}

// CurrentKeyID is the id of the key new values are encrypted with.
func (c *Cipher) CurrentKeyID() byte { return c.current }

// Encrypt encrypts plaintext with no field binding. The empty string stays
// empty, so optional fields need no special case.
func (c *Cipher) Encrypt(plaintext string) (string, error) {
	return c.EncryptField("", plaintext)
}

// Decrypt decrypts a value made by Encrypt. The empty string stays empty.
func (c *Cipher) Decrypt(enc string) (string, error) {
	return c.DecryptField("", enc)
}

// EncryptField encrypts plaintext bound to field (e.g. "phone"), so the value
// only decrypts with DecryptField for the same field: an encrypted phone
// number copied into the ID-number field fails instead of being shown as an
// ID number. The empty string stays empty.
func (c *Cipher) EncryptField(field, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	aead := c.aeads[c.current]
	blob := make([]byte, 1+nonceSize, minBlob+len(plaintext))
	blob[0] = c.current
	// crypto/rand.Read never fails on supported platforms (it crashes the
	// program rather than return weak bytes); the check is for form's sake.
	if _, err := rand.Read(blob[1:]); err != nil {
		return "", fmt.Errorf("pii: nonce: %w", err)
	}
	blob = aead.Seal(blob, blob[1:], []byte(plaintext), associatedData(c.current, field))
	return prefixV1 + encoding.EncodeToString(blob), nil
}

// DecryptField decrypts a value made by EncryptField for the same field. It
// returns ErrCiphertextMalformed, ErrUnknownKeyID or ErrCiphertextAuth (test
// with errors.Is) and never a partial or garbled plaintext. The empty string
// stays empty.
func (c *Cipher) DecryptField(field, enc string) (string, error) {
	if enc == "" {
		return "", nil
	}
	blob, err := decodeV1(enc)
	if err != nil {
		return "", err
	}
	id := blob[0]
	aead, ok := c.aeads[id]
	if !ok {
		return "", fmt.Errorf("%w: %d", ErrUnknownKeyID, id)
	}
	nonce, sealed := blob[1:1+nonceSize], blob[1+nonceSize:]
	// Decrypt in place: the blob is ours and GCM only releases the plaintext
	// after the tag has been verified.
	plain, err := aead.Open(sealed[:0], nonce, sealed, associatedData(id, field))
	if err != nil {
		return "", ErrCiphertextAuth
	}
	return string(plain), nil
}

// KeyID reports which key id an encrypted value names, without decrypting
// it, so a rotation job can find the values still under an old key.
func KeyID(enc string) (byte, error) {
	blob, err := decodeV1(enc)
	if err != nil {
		return 0, err
	}
	return blob[0], nil
}

// decodeV1 returns the bytes of a "v1:" value, at least minBlob of them.
func decodeV1(enc string) ([]byte, error) {
	rest, ok := strings.CutPrefix(enc, prefixV1)
	if !ok {
		return nil, ErrCiphertextMalformed
	}
	blob, err := encoding.DecodeString(rest)
	// The length check rejects the CR and LF that the base64 decoder
	// silently skips, so each value has exactly one accepted text form.
	if err != nil || len(blob) < minBlob || encoding.EncodedLen(len(blob)) != len(rest) {
		return nil, ErrCiphertextMalformed
	}
	return blob, nil
}

// associatedData authenticates the format and key id along with the field,
// so none of them can be changed without the tag failing. The field comes
// last, after fixed-size parts, so the encoding is unambiguous.
func associatedData(keyID byte, field string) []byte {
	ad := make([]byte, 0, 2+len(field))
	ad = append(ad, formatV1, keyID)
	return append(ad, field...)
}
