package pii

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	if len(a) != SM4KeySize || len(b) != SM4KeySize {
		t.Fatalf("GenerateKey lengths %d, %d; want %d", len(a), len(b), SM4KeySize)
	}
	if bytes.Equal(a, b) {
		t.Error("two generated keys are equal")
	}
	if _, err := NewCipher(map[byte][]byte{1: a}, 1); err != nil {
		t.Errorf("a generated key is not a valid SM4 key: %v", err)
	}
	if k := GenerateBlindIndexKey(); len(k) != BlindIndexKeySize {
		t.Errorf("GenerateBlindIndexKey length %d, want %d", len(k), BlindIndexKeySize)
	}
}

func TestParseKeyHex(t *testing.T) {
	const valid = "00112233445566778899aabbccddeeff"
	tests := []struct {
		name, in string
		wantErr  string // a substring of the error; "" for success
	}{
		{"32 hex digits", valid, ""},
		{"upper-case hex", strings.ToUpper(valid), ""},
		{"surrounding white space", "  " + valid + "\n", ""},
		{"empty", "", "empty"},
		{"blank", "   ", "empty"},
		{"not hex", "zz112233445566778899aabbccddeeff", "not hex: invalid character at position 1"},
		{"odd number of digits", valid[:31], "odd number of digits"},
		{"too short", valid[:30], "must be 16 bytes (32 hex digits), got 15"},
		{"too long", valid + "00", "must be 16 bytes (32 hex digits), got 17"},
		{"base64 instead of hex", "ABEiM0RVZneImaq7zN3u/w==", "not hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKeyHex(tt.in)
			if tt.wantErr == "" {
				if err != nil || hex.EncodeToString(got) != valid {
					t.Fatalf("ParseKeyHex = %x, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			// An error message must not echo the (would-be) secret.
			if len(tt.in) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)[1:9]) {
				t.Errorf("error %q repeats part of the key", err)
			}
		})
	}
}

func TestParseBlindIndexKeyHex(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantLen int // 0: want an error
	}{
		{"32 bytes", strings.Repeat("ab", 32), 32},
		{"16 bytes is the floor", strings.Repeat("ab", 16), 16},
		{"64 bytes", strings.Repeat("ab", 64), 64},
		{"15 bytes", strings.Repeat("ab", 15), 0},
		{"empty", "", 0},
		{"not hex", strings.Repeat("xy", 32), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBlindIndexKeyHex(tt.in)
			if tt.wantLen == 0 {
				if err == nil {
					t.Fatalf("want an error, got %d bytes", len(got))
				}
				return
			}
			if err != nil || len(got) != tt.wantLen {
				t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, tt.wantLen)
			}
		})
	}
}

func TestLoadOrCreateKeyFileCreatesThenReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "keys.json")

	keys, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v; want a new file", created, err)
	}
	if len(keys.SM4) != SM4KeySize || len(keys.BlindIndex) != BlindIndexKeySize {
		t.Fatalf("key lengths %d, %d", len(keys.SM4), len(keys.BlindIndex))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("created directory mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	var onDisk map[string]string
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &onDisk); err != nil {
		t.Fatalf("key file is not JSON: %v", err)
	}
	if onDisk["sm4"] != hex.EncodeToString(keys.SM4) || onDisk["blind_index"] != hex.EncodeToString(keys.BlindIndex) {
		t.Errorf("key file holds %v, not the returned keys", onDisk)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (no temporary left)", len(entries))
	}

	again, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v; want the existing file read", created, err)
	}
	if !bytes.Equal(again.SM4, keys.SM4) || !bytes.Equal(again.BlindIndex, keys.BlindIndex) {
		t.Error("second call returned different keys")
	}
}

// The file format is the one package bff keeps its secrets in, extra fields
// included.
func TestLoadOrCreateKeyFileReadsAnExistingSecretsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	content := `{"jwt": "` + strings.Repeat("11", 32) + `", "sm4": "` + strings.Repeat("22", 16) + `", "blind_index": "` + strings.Repeat("33", 32) + `"}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if !bytes.Equal(keys.SM4, bytes.Repeat([]byte{0x22}, 16)) || !bytes.Equal(keys.BlindIndex, bytes.Repeat([]byte{0x33}, 32)) {
		t.Errorf("keys = %x / %x", keys.SM4, keys.BlindIndex)
	}
}

// A damaged key file is an error and is left alone: replacing it with new
// keys would make everything encrypted under the old ones unreadable.
func TestLoadOrCreateKeyFileNeverReplacesABadFile(t *testing.T) {
	sm4Hex, bidxHex := strings.Repeat("22", 16), strings.Repeat("33", 32)
	tests := []struct {
		name, content, wantErr string
	}{
		{"empty file", "", "unexpected end of JSON input"},
		{"not JSON", "sm4=" + sm4Hex, "invalid character"},
		{"sm4 missing", `{"blind_index":"` + bidxHex + `"}`, "sm4: pii: key is empty"},
		{"blind_index missing", `{"sm4":"` + sm4Hex + `"}`, "blind_index: pii: key is empty"},
		{"sm4 wrong length", `{"sm4":"` + bidxHex + `","blind_index":"` + bidxHex + `"}`, "sm4: pii: key must be 16 bytes"},
		{"blind_index too short", `{"sm4":"` + sm4Hex + `","blind_index":"abcd"}`, "blind_index: pii: key must be at least 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreateKeyFile(path)
			if err == nil || created || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("created=%v err=%v; want an error mentioning %q", created, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Error("the bad key file was modified")
			}
		})
	}
}

func TestLoadOrCreateKeyFileUnusablePath(t *testing.T) {
	// The parent "directory" is a regular file.
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, created, err := LoadOrCreateKeyFile(filepath.Join(parent, "keys.json")); err == nil || created {
		t.Errorf("created=%v err=%v; want an error", created, err)
	}
}

// Instances starting at the same time must end up with the same keys, or
// they would encrypt under different ones.
func TestLoadOrCreateKeyFileConcurrentStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	const n = 8
	var (
		wg      sync.WaitGroup
		results [n]Keys
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() { results[i], created[i], errs[i] = LoadOrCreateKeyFile(path) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		if created[i] {
			creators++
		}
		if !bytes.Equal(results[i].SM4, results[0].SM4) || !bytes.Equal(results[i].BlindIndex, results[0].BlindIndex) {
			t.Errorf("instance %d got different keys", i)
		}
	}
	if creators != 1 {
		t.Errorf("%d instances report creating the file, want exactly 1", creators)
	}
}

func TestKeysNeverPrintTheirSecrets(t *testing.T) {
	k := Keys{SM4: bytes.Repeat([]byte{0xAB}, 16), BlindIndex: bytes.Repeat([]byte{0xCD}, 32)}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", "keys", k)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "keys", k)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", k, k, k, k)
	for _, secret := range []string{"abab", "ABAB", "cdcd", "CDCD", "171"} { // 171 = 0xAB in decimal
		if strings.Contains(out, secret) {
			t.Fatalf("output contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "<redacted>") {
		t.Errorf("output does not say the keys are redacted:\n%s", out)
	}
}
