package bff

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// secrets are the keys zwfw itself holds: the access-token signing key, the
// SM4 key for personal data and the blind-index key.
type secrets struct {
	JWT        []byte
	SM4        []byte
	BlindIndex []byte
}

type secretsFile struct {
	JWT        string `json:"jwt"`
	SM4        string `json:"sm4"`
	BlindIndex string `json:"blind_index"`
}

// loadSecrets reads the keys from the configuration. Only with the embedded
// MongoDB may they be missing: then they are generated once and kept in
// <data dir>/secrets.json (mode 0600), next to the data they protect, so a
// restart can still read what it wrote. Secrets never live in the repository.
func loadSecrets(cfg Config) (secrets, bool, error) {
	if cfg.JWTSecret != "" || cfg.SM4Key != "" || cfg.BlindIndexKey != "" || !cfg.EmbeddedMongo() {
		s, err := parseSecrets(secretsFile{JWT: cfg.JWTSecret, SM4: cfg.SM4Key, BlindIndex: cfg.BlindIndexKey})
		return s, false, err
	}
	path := filepath.Join(cfg.DataDir, "secrets.json")
	b, err := os.ReadFile(path)
	if err == nil {
		var f secretsFile
		if err := json.Unmarshal(b, &f); err != nil {
			return secrets{}, false, fmt.Errorf("%s: %w", path, err)
		}
		s, err := parseSecrets(f)
		return s, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return secrets{}, false, err
	}
	f := secretsFile{JWT: randomHex(32), SM4: randomHex(16), BlindIndex: randomHex(32)}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return secrets{}, false, err
	}
	out, _ := json.MarshalIndent(f, "", "  ")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return secrets{}, false, err
	}
	s, err := parseSecrets(f)
	return s, true, err
}

func parseSecrets(f secretsFile) (secrets, error) {
	var s secrets
	var err error
	if s.JWT, err = decodeKey("ZWFW_JWT_SECRET", f.JWT, 32, 0); err != nil {
		return s, err
	}
	if s.SM4, err = decodeKey("ZWFW_SM4_KEY", f.SM4, 16, 16); err != nil {
		return s, err
	}
	if s.BlindIndex, err = decodeKey("ZWFW_BLIND_INDEX_KEY", f.BlindIndex, 32, 0); err != nil {
		return s, err
	}
	return s, nil
}

func decodeKey(name, hexKey string, min, exact int) ([]byte, error) {
	b, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, fmt.Errorf("%s: want hex: %w", name, err)
	}
	if exact > 0 && len(b) != exact {
		return nil, fmt.Errorf("%s: want %d bytes (%d hex digits), got %d", name, exact, exact*2, len(b))
	}
	if len(b) < min {
		return nil, fmt.Errorf("%s: want at least %d bytes (%d hex digits), got %d", name, min, min*2, len(b))
	}
	return b, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
