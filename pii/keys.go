package pii

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// GenerateKey returns a fresh random 16-byte SM4 key.
func GenerateKey() []byte { return randomBytes(SM4KeySize) }

// GenerateBlindIndexKey returns a fresh random 32-byte blind-index key.
func GenerateBlindIndexKey() []byte { return randomBytes(BlindIndexKeySize) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error since Go 1.24: it crashes the
	// program instead of handing out weak keys.
	_, _ = rand.Read(b)
	return b
}

// ParseKeyHex decodes an SM4 key written as 32 hex digits, e.g. from an
// environment variable. Surrounding white space is ignored.
func ParseKeyHex(s string) ([]byte, error) {
	return parseKeyHex(s, SM4KeySize, SM4KeySize)
}

// ParseBlindIndexKeyHex decodes a blind-index key written in hex; it must be
// at least MinBlindIndexKeySize bytes (32 bytes, as generated, recommended).
func ParseBlindIndexKeyHex(s string) ([]byte, error) {
	return parseKeyHex(s, MinBlindIndexKeySize, 0)
}

// parseKeyHex decodes s and checks its length: exactly exact bytes if exact
// is not zero, and at least min bytes. The errors never echo the key.
func parseKeyHex(s string, min, exact int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("pii: key is empty")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		// hex's error quotes the offending byte, part of the secret; say
		// where instead.
		var ie hex.InvalidByteError
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("pii: key is not hex: invalid character at position %d", strings.IndexByte(s, byte(ie))+1)
		}
		return nil, fmt.Errorf("pii: key is not hex: odd number of digits (%d)", len(s))
	}
	if exact > 0 && len(b) != exact {
		return nil, fmt.Errorf("pii: key must be %d bytes (%d hex digits), got %d bytes", exact, exact*2, len(b))
	}
	if len(b) < min {
		return nil, fmt.Errorf("pii: key must be at least %d bytes (%d hex digits), got %d bytes", min, min*2, len(b))
	}
	return b, nil
}

// Keys is the key material of package pii: the SM4 key for Cipher and the
// HMAC-SM3 key for BlindIndex. Its String, GoString and LogValue redact the
// keys, so printing or logging a Keys shows no secret.
type Keys struct {
	SM4        []byte
	BlindIndex []byte
}

// String redacts the keys.
func (k Keys) String() string { return "pii.Keys{SM4:<redacted>, BlindIndex:<redacted>}" }

// GoString redacts the keys, also for %#v.
func (k Keys) GoString() string { return k.String() }

// LogValue redacts the keys in slog output.
func (k Keys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// keyFile is the JSON form of Keys. The field names match the secrets file of
// package bff, so one file can serve both (unknown fields are ignored).
type keyFile struct {
	SM4        string `json:"sm4"`
	BlindIndex string `json:"blind_index"`
}

// LoadOrCreateKeyFile reads Keys from the JSON file at path ({"sm4": hex,
// "blind_index": hex}). If the file does not exist it generates fresh keys,
// writes them there with mode 0600 (creating parent directories with 0700)
// and reports created = true. This is how a development or embedded setup
// gets keys without any secret in the repository; production should pass
// keys in through its secret store instead.
//
// An existing file that is unreadable or incomplete is an error, never a
// reason to generate new keys: that would make all data already encrypted
// under the old keys unreadable.
func LoadOrCreateKeyFile(path string) (keys Keys, created bool, err error) {
	keys, err = readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return keys, false, err
	}
	keys = Keys{SM4: GenerateKey(), BlindIndex: GenerateBlindIndexKey()}
	err = createKeyFile(path, keys)
	if errors.Is(err, fs.ErrExist) {
		// Another process created the file first: use its keys, not ours,
		// or the two would encrypt under different keys.
		keys, err = readKeyFile(path)
		return keys, false, err
	}
	if err != nil {
		return Keys{}, false, err
	}
	return keys, true, nil
}

func readKeyFile(path string) (Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, err
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return Keys{}, fmt.Errorf("pii: key file %s: %w", path, err)
	}
	sm4Key, err := ParseKeyHex(f.SM4)
	if err != nil {
		return Keys{}, fmt.Errorf("pii: key file %s: sm4: %w", path, err)
	}
	bidx, err := ParseBlindIndexKeyHex(f.BlindIndex)
	if err != nil {
		return Keys{}, fmt.Errorf("pii: key file %s: blind_index: %w", path, err)
	}
	return Keys{SM4: sm4Key, BlindIndex: bidx}, nil
}

// createKeyFile writes keys to path only if path does not exist yet, and
// atomically: the complete file is written under a temporary name, then
// hard-linked into place, which fails with fs.ErrExist instead of replacing
// a file another process created meanwhile. A reader thus never sees a
// half-written file and a key file is never overwritten.
func createKeyFile(path string, keys Keys) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pii: key file: %w", err)
	}
	out, err := json.MarshalIndent(keyFile{SM4: hex.EncodeToString(keys.SM4), BlindIndex: hex.EncodeToString(keys.BlindIndex)}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".pii-keys-*.tmp") // created with mode 0600
	if err != nil {
		return fmt.Errorf("pii: key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(out, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pii: key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("pii: key file: %w", err)
	}
	// Make the new name durable; not every system can sync a directory.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
