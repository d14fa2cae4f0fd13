package payments

import "testing"

func TestParseYuan(t *testing.T) {
	cases := []struct {
		in   string
		want Fen
		ok   bool
	}{
		{"0.01", 1, true},
		{"0.1", 10, true},
		{"12", 1200, true},
		{"12.3", 1230, true},
		{"12.30", 1230, true},
		{"1000000.00", 100000000, true},
		{"100000000.00", MaxFen, true},
		{"100000000.01", 0, false},
		{"12.345", 0, false},
		{"-1.00", 0, false},
		{"+1.00", 0, false},
		{"1e3", 0, false},
		{" 1.00", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"01.00", 0, false},
		{"", 0, false},
		{"１.00", 0, false}, // full-width digit
	}
	for _, c := range cases {
		got, err := ParseYuan(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestFenYuanRoundTrip(t *testing.T) {
	for _, f := range []Fen{0, 1, 9, 10, 99, 100, 101, 12345, MaxFen} {
		back, err := ParseYuan(f.Yuan())
		if err != nil || back != f {
			t.Errorf("%d -> %q -> %d, %v", f, f.Yuan(), back, err)
		}
	}
	if got := Fen(-150).Yuan(); got != "-1.50" {
		t.Errorf("Fen(-150).Yuan() = %q", got)
	}
}

func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"0.01", "12.3", "1e3", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseYuan(s)
		if err != nil {
			return
		}
		if v < 0 || v > MaxFen {
			t.Fatalf("ParseYuan(%q) = %d out of range", s, v)
		}
		back, err := ParseYuan(v.Yuan())
		if err != nil || back != v {
			t.Fatalf("round trip of %q: %d -> %q -> %d", s, v, v.Yuan(), back)
		}
	})
}
