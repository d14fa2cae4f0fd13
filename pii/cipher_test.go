package pii

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
)

// testKey returns a fixed 16-byte key filled with b, so tests are repeatable.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, SM4KeySize) }

func newTestCipher(t testing.TB, keys map[byte][]byte, current byte) *Cipher {
	t.Helper()
	c, err := NewCipher(keys, current)
	if err != nil {
		t.Fatalf("NewCipher: %v", err)
	}
	return c
}

// decodeBlob and encodeBlob let tests reach the bytes behind an encrypted value.
func decodeBlob(t *testing.T, enc string) []byte {
	t.Helper()
	b, err := encoding.DecodeString(strings.TrimPrefix(enc, prefixV1))
	if err != nil {
		t.Fatalf("decode %q: %v", enc, err)
	}
	return b
}

func encodeBlob(b []byte) string { return prefixV1 + encoding.EncodeToString(b) }

// The construction is standard SM4-GCM: the AEAD we build reproduces the
// GB/T 36624-2018 appendix C.5 test vector.
func TestCipherIsStandardSM4GCM(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{0: make([]byte, 16)}, 0)
	got := c.aeads[0].Seal(nil, make([]byte, 12), make([]byte, 16), nil)
	const want = "7de2aa7f1110188218063be1bfeb6d89b851b5f39493752be508f1bb4482c557"
	if hex.EncodeToString(got) != want {
		t.Fatalf("SM4-GCM(0^16, 0^12, 0^16) = %x, want %s", got, want)
	}
}

func TestCipherRoundTrip(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1)
	tests := []struct {
		name, plaintext string
	}{
		{"id number", "110101199003071234"},
		{"phone", "13812345678"},
		{"chinese address", "北京市朝阳区建国路88号院3号楼2单元501室"},
		{"one byte", "a"},
		{"NUL and invalid UTF-8 are kept byte for byte", "a\x00b\xff\xfe"},
		{"long value", strings.Repeat("长", 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := c.Encrypt(tt.plaintext)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !strings.HasPrefix(enc, "v1:") {
				t.Errorf("encrypted value %q lacks the v1: prefix", enc)
			}
			// Safe to store anywhere: only the prefix and base64url characters.
			if i := strings.IndexFunc(enc[3:], func(r rune) bool {
				return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
			}); i >= 0 {
				t.Errorf("encrypted value has a non-base64url character at %d: %q", i, enc)
			}
			if len(tt.plaintext) > 4 && strings.Contains(enc, tt.plaintext) { // short ones may occur by chance
				t.Errorf("encrypted value contains the plaintext")
			}
			got, err := c.Decrypt(enc)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if got != tt.plaintext {
				t.Errorf("Decrypt(Encrypt(%q)) = %q", tt.plaintext, got)
			}
			// Field-bound values round-trip the same way.
			enc, err = c.EncryptField("address", tt.plaintext)
			if err != nil {
				t.Fatalf("EncryptField: %v", err)
			}
			if got, err := c.DecryptField("address", enc); err != nil || got != tt.plaintext {
				t.Errorf("DecryptField(EncryptField(%q)) = %q, %v", tt.plaintext, got, err)
			}
		})
	}
}

func TestCipherEmptyStaysEmpty(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1)
	for name, f := range map[string]func(string) (string, error){
		"Encrypt":      c.Encrypt,
		"Decrypt":      c.Decrypt,
		"EncryptField": func(s string) (string, error) { return c.EncryptField("phone", s) },
		"DecryptField": func(s string) (string, error) { return c.DecryptField("phone", s) },
	} {
		if got, err := f(""); got != "" || err != nil {
			t.Errorf("%s(\"\") = %q, %v; want \"\", nil", name, got, err)
		}
	}
}

func TestCipherNonceIsFreshEachTime(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1)
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for range 100 {
		enc, err := c.Encrypt("13812345678")
		if err != nil {
			t.Fatal(err)
		}
		if seen[enc] {
			t.Fatalf("the same plaintext encrypted twice to the same value %q", enc)
		}
		seen[enc] = true
		nonce := string(decodeBlob(t, enc)[1 : 1+nonceSize])
		if nonces[nonce] {
			t.Fatalf("nonce repeated")
		}
		nonces[nonce] = true
	}
}

func TestCipherDetectsTampering(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1)
	enc, err := c.EncryptField("id_number", "110101199003071234")
	if err != nil {
		t.Fatal(err)
	}
	blob := decodeBlob(t, enc)

	// Flipping any bit of any byte - key id, nonce, ciphertext or tag - is
	// caught; the key id byte names a key we do not have.
	for i := range blob {
		for bit := range 8 {
			b := bytes.Clone(blob)
			b[i] ^= 1 << bit
			got, err := c.DecryptField("id_number", encodeBlob(b))
			want := ErrCiphertextAuth
			if i == 0 {
				want = ErrUnknownKeyID
			}
			if !errors.Is(err, want) || got != "" {
				t.Fatalf("byte %d bit %d flipped: got %q, %v; want error %v", i, bit, got, err, want)
			}
		}
	}

	malformed := []struct{ name, enc string }{
		{"no prefix", strings.TrimPrefix(enc, "v1:")},
		{"unknown version", "v2:" + strings.TrimPrefix(enc, "v1:")},
		{"upper-case prefix", "V1:" + strings.TrimPrefix(enc, "v1:")},
		{"not base64", enc[:10] + "!" + enc[11:]},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(enc) + "+/"},
		{"padding", enc + "=="},
		{"prefix only", "v1:"},
		{"CR inside (the base64 decoder would skip it)", enc[:20] + "\r" + enc[20:]},
		{"LF at the end", enc + "\n"},
		{"shorter than key id + nonce + tag", encodeBlob(blob[:minBlob-1])},
		{"plain text", "110101199003071234"},
	}
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := c.DecryptField("id_number", tt.enc); !errors.Is(err, ErrCiphertextMalformed) || got != "" {
				t.Errorf("got %q, %v; want ErrCiphertextMalformed", got, err)
			}
		})
	}

	truncated := []struct{ name, enc string }{
		{"tag cut short", encodeBlob(blob[:len(blob)-1])},
		{"extra byte appended", encodeBlob(append(bytes.Clone(blob), 0))},
	}
	for _, tt := range truncated {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := c.DecryptField("id_number", tt.enc); !errors.Is(err, ErrCiphertextAuth) || got != "" {
				t.Errorf("got %q, %v; want ErrCiphertextAuth", got, err)
			}
		})
	}
}

func TestCipherBindsTheField(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1)
	phone, err := c.EncryptField("phone", "13812345678")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.Encrypt("13812345678")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, field, enc string
		wantErr          error
	}{
		{"same field", "phone", phone, nil},
		{"phone swapped into the ID-number field", "id_number", phone, ErrCiphertextAuth},
		{"field name differs only in case", "Phone", phone, ErrCiphertextAuth},
		{"field-bound value read without a field", "", phone, ErrCiphertextAuth},
		{"unbound value read as a field", "phone", plain, ErrCiphertextAuth},
		{"unbound value read unbound", "", plain, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.DecryptField(tt.field, tt.enc)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got != "13812345678" {
				t.Errorf("got %q", got)
			}
			if tt.wantErr != nil && got != "" {
				t.Errorf("got %q along with an error", got)
			}
		})
	}
}

func TestCipherWrongKey(t *testing.T) {
	enc, err := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1).Encrypt("13812345678")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		keys    map[byte][]byte
		current byte
		wantErr error
	}{
		{"same key id, other key bytes", map[byte][]byte{1: testKey(2)}, 1, ErrCiphertextAuth},
		{"key id not loaded", map[byte][]byte{2: testKey(1)}, 2, ErrUnknownKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newTestCipher(t, tt.keys, tt.current).Decrypt(enc)
			if !errors.Is(err, tt.wantErr) || got != "" {
				t.Errorf("got %q, %v; want %v", got, err, tt.wantErr)
			}
		})
	}
}

func TestCipherKeyRotation(t *testing.T) {
	before := newTestCipher(t, map[byte][]byte{1: testKey(1)}, 1)
	old, err := before.EncryptField("phone", "13812345678")
	if err != nil {
		t.Fatal(err)
	}

	// Rotation step 1: add key 2 and make it current; key 1 stays for reading.
	during := newTestCipher(t, map[byte][]byte{1: testKey(1), 2: testKey(2)}, 2)
	if got, err := during.DecryptField("phone", old); err != nil || got != "13812345678" {
		t.Fatalf("old value under the rotated cipher: %q, %v", got, err)
	}
	fresh, err := during.EncryptField("phone", "13812345678")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := KeyID(old); err != nil || id != 1 {
		t.Errorf("KeyID(old) = %d, %v; want 1", id, err)
	}
	if id, err := KeyID(fresh); err != nil || id != 2 || during.CurrentKeyID() != 2 {
		t.Errorf("KeyID(new) = %d, %v; want the current key 2", id, err)
	}

	// Step 2: once everything is re-encrypted, drop key 1. Stragglers fail
	// loudly instead of decrypting to garbage.
	after := newTestCipher(t, map[byte][]byte{2: testKey(2)}, 2)
	if got, err := after.DecryptField("phone", fresh); err != nil || got != "13812345678" {
		t.Errorf("new value after rotation: %q, %v", got, err)
	}
	if _, err := after.DecryptField("phone", old); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("old value after its key was dropped: err = %v, want ErrUnknownKeyID", err)
	}
	if _, err := KeyID("garbage"); !errors.Is(err, ErrCiphertextMalformed) {
		t.Errorf("KeyID(garbage) err = %v", err)
	}
}

func TestNewCipherRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[byte][]byte
		current byte
	}{
		{"no keys", nil, 0},
		{"current key missing", map[byte][]byte{1: testKey(1)}, 2},
		{"key too short", map[byte][]byte{1: testKey(1)[:15]}, 1},
		{"key too long (32 bytes is not SM4)", map[byte][]byte{1: bytes.Repeat([]byte{1}, 32)}, 1},
		{"nil key", map[byte][]byte{1: nil}, 1},
		{"an old key is bad", map[byte][]byte{1: testKey(1), 2: {1, 2, 3}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := NewCipher(tt.keys, tt.current); err == nil || c != nil {
				t.Errorf("NewCipher = %v, %v; want an error", c, err)
			}
		})
	}
}

// The Cipher keeps no reference to the caller's key slice.
func TestCipherIgnoresLaterChangesToTheKeySlice(t *testing.T) {
	key := testKey(7)
	c := newTestCipher(t, map[byte][]byte{1: key}, 1)
	enc, _ := c.Encrypt("13812345678")
	clear(key)
	if got, err := newTestCipher(t, map[byte][]byte{1: testKey(7)}, 1).Decrypt(enc); err != nil || got != "13812345678" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestCipherConcurrentUse(t *testing.T) {
	c := newTestCipher(t, map[byte][]byte{1: testKey(1), 2: testKey(2)}, 2)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				plain := strings.Repeat("x", g*i%50+1)
				enc, err := c.EncryptField("f", plain)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := c.DecryptField("f", enc); err != nil || got != plain {
					t.Errorf("got %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEncrypt(b *testing.B) {
	c := newTestCipher(b, map[byte][]byte{1: testKey(1)}, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.EncryptField("id_number", "110101199003071234"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	c := newTestCipher(b, map[byte][]byte{1: testKey(1)}, 1)
	enc, err := c.EncryptField("id_number", "110101199003071234")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DecryptField("id_number", enc); err != nil {
			b.Fatal(err)
		}
	}
}
