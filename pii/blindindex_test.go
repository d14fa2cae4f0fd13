package pii

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"regexp"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

func testIndexKey(b byte) []byte { return bytes.Repeat([]byte{b}, BlindIndexKeySize) }

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Stored indexes must stay valid forever, so the exact construction is
// pinned: HMAC-SM3(key, uint32be(len(field)) || field || value), lower-case hex.
func TestBlindIndexFormatIsPinned(t *testing.T) {
	key := testIndexKey(0x42)
	bi := NewBlindIndex(key)
	tests := []struct{ field, value, want string }{
		{"phone", "13812345678", "cfda58859e80c9b726762bdc7b1986a3e8ad07697105e320b4988ed7f7f36c3d"},
		{"", "", "bdd3e2ed99ad32c427216644d029b43c6bc2b5595790ddbc392c4a0b35ca510e"},
	}
	for _, tt := range tests {
		if got := bi.Index(tt.field, tt.value); got != tt.want {
			t.Errorf("Index(%q, %q) = %s, want %s", tt.field, tt.value, got, tt.want)
		}
		// The same construction written out by hand.
		mac := hmac.New(sm3.New, key)
		mac.Write([]byte{0, 0, 0, byte(len(tt.field))})
		mac.Write([]byte(tt.field + tt.value))
		if got := hex.EncodeToString(mac.Sum(nil)); got != tt.want {
			t.Errorf("hand-made HMAC-SM3 = %s, want %s", got, tt.want)
		}
	}
}

func TestBlindIndexIsDeterministic(t *testing.T) {
	a, b := NewBlindIndex(testIndexKey(1)), NewBlindIndex(testIndexKey(1))
	for _, v := range []string{"13812345678", "110101199003071234", "张三", ""} {
		first := a.Index("f", v)
		if !lowerHex64.MatchString(first) {
			t.Errorf("Index(%q) = %q, want 64 lower-case hex digits", v, first)
		}
		if again := a.Index("f", v); again != first {
			t.Errorf("Index(%q) changed between calls: %s then %s", v, first, again)
		}
		if other := b.Index("f", v); other != first {
			t.Errorf("Index(%q) differs between two instances with the same key", v)
		}
	}
}

func TestBlindIndexSeparates(t *testing.T) {
	bi := NewBlindIndex(testIndexKey(1))
	tests := []struct {
		name                 string
		field1, value1       string
		field2, value2       string
		otherKeyForTheSecond bool
	}{
		{"same value, different field", "phone", "13812345678", "emergency_phone", "13812345678", false},
		{"field/value boundary moved", "ab", "c", "a", "bc", false},
		{"empty field vs field prefix", "", "phone13812345678", "phone", "13812345678", false},
		{"different value, same field", "phone", "13812345678", "phone", "13812345679", false},
		{"case matters: normalize first", "id", "11010519491231002x", "id", "11010519491231002X", false},
		{"different key", "phone", "13812345678", "phone", "13812345678", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := bi
			if tt.otherKeyForTheSecond {
				other = NewBlindIndex(testIndexKey(2))
			}
			if bi.Index(tt.field1, tt.value1) == other.Index(tt.field2, tt.value2) {
				t.Errorf("(%q, %q) and (%q, %q) share an index", tt.field1, tt.value1, tt.field2, tt.value2)
			}
		})
	}
}

func TestNewBlindIndexKey(t *testing.T) {
	for _, n := range []int{0, 1, MinBlindIndexKeySize - 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBlindIndex with a %d-byte key did not panic", n)
				}
			}()
			NewBlindIndex(make([]byte, n))
		}()
	}
	// A 16-byte key is the floor, and the key slice is copied.
	key := bytes.Repeat([]byte{9}, MinBlindIndexKeySize)
	bi := NewBlindIndex(key)
	want := bi.Index("f", "v")
	clear(key)
	if got := bi.Index("f", "v"); got != want {
		t.Errorf("index changed after the caller cleared its key slice")
	}
}

func TestBlindIndexConcurrentUse(t *testing.T) {
	bi := NewBlindIndex(testIndexKey(1))
	want := bi.Index("phone", "13812345678")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				if got := bi.Index("phone", "13812345678"); got != want {
					t.Errorf("concurrent Index = %s, want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Normalizing first makes the ways people type the same value index alike.
func TestNormalizeIDNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "11010519491231002X"},
		{"11010519491231002x", "11010519491231002X"},
		{"  11010519491231002x\n", "11010519491231002X"},
		{"110105 19491231 002X", "11010519491231002X"},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"},       // full-width IME input
		{"110105\u300019491231002X", "11010519491231002X"}, // ideographic space
		{"", ""},
		{"abc", "ABC"}, // not validated here
	}
	for _, tt := range tests {
		if got := NormalizeIDNumber(tt.in); got != tt.want {
			t.Errorf("NormalizeIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13812345678", "13812345678"},
		{" 138 1234 5678 ", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+86-13812345678", "13812345678"},
		{"008613812345678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"１３８１２３４５６７８", "13812345678"},
		{"86123", "86123"},               // too short to carry a country code: left for the validator
		{"861381234567", "861381234567"}, // 86 + 10 digits: not a country code either
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizePhone(tt.in); got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeUSCC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"91350100M000100Y43", "91350100M000100Y43"},
		{" 91350100m000100y43 ", "91350100M000100Y43"},
		{"９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeUSCC(tt.in); got != tt.want {
			t.Errorf("NormalizeUSCC(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	bi := NewBlindIndex(testIndexKey(1))
	b.ReportAllocs()
	for b.Loop() {
		bi.Index("phone", "13812345678")
	}
}
