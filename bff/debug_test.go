package bff

import "testing"

func TestDebugAddrSetting(t *testing.T) {
	cases := []struct {
		value, want string
		bad         bool
	}{
		{value: "", want: ""},
		{value: "6060", want: "127.0.0.1:6060"},
		{value: ":6060", want: "127.0.0.1:6060"},
		{value: "127.0.0.1:0", want: "127.0.0.1:0"},
		{value: "10.0.0.5:6060", want: "10.0.0.5:6060"},
		{value: "[::1]:6060", want: "[::1]:6060"},
		{value: "localhost", bad: true},
		{value: "127.0.0.1:http", bad: true},
		{value: "70000", bad: true},
	}
	for _, c := range cases {
		cfg, err := LoadConfig(envOf(map[string]string{"ZWFW_DEBUG_ADDR": c.value}))
		switch {
		case c.bad && err == nil:
			t.Errorf("ZWFW_DEBUG_ADDR=%q accepted as %q", c.value, cfg.DebugAddr)
		case !c.bad && err != nil:
			t.Errorf("ZWFW_DEBUG_ADDR=%q: %v", c.value, err)
		case !c.bad && cfg.DebugAddr != c.want:
			t.Errorf("ZWFW_DEBUG_ADDR=%q listens on %q, want %q", c.value, cfg.DebugAddr, c.want)
		}
	}
}
