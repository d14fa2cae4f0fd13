package gwserver

import (
	"strings"
	"testing"
	"time"
)

func newGateway(replay bool) *Gateway {
	return New(Options{
		Name: "test", AppKey: "k", AppSecret: "s", MaxSkew: time.Minute, NonceWindow: time.Minute,
		IdempotencyTTL: time.Hour, ReplayRefusals: replay,
		FaultGroups: []string{"a", "b", GroupAll},
		FaultModes:  []string{FaultError, FaultLost, FaultOff}, FaultRate: true,
	})
}

// TestOnceReplay: a refusal is replayed only with ReplayRefusals; a
// success always; another request under the key conflicts.
func TestOnceReplay(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tt := range []struct {
		name   string
		replay bool
		status int
		runs   int // how often fn runs for two identical requests
	}{
		{"success stored", false, 200, 1},
		{"refusal not stored", false, 409, 2},
		{"refusal stored", true, 409, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(tt.replay)
			runs := 0
			fn := func() (int, []byte) { runs++; return tt.status, []byte("x") }
			for range 2 {
				if st, _, rf := g.Once("key", "POST /a", "h", now, fn); rf != nil || st != tt.status {
					t.Fatalf("Once = %d, %v", st, rf)
				}
			}
			if runs != tt.runs {
				t.Errorf("fn ran %d times, want %d", runs, tt.runs)
			}
			if tt.runs == 1 {
				if _, _, rf := g.Once("key", "POST /b", "h", now, fn); rf == nil || rf.Code != CodeIdempotencyKeyConflict {
					t.Errorf("other request under the key: %v, want %s", rf, CodeIdempotencyKeyConflict)
				}
			}
		})
	}
}

func TestSetFaultErrors(t *testing.T) {
	for _, tt := range []struct {
		f    Fault
		want string
	}{
		{Fault{Group: "c", Mode: FaultError}, `group must be a, b or *, not "c"`},
		{Fault{Group: "a", Mode: FaultSlow}, `mode must be error, lost or off, not "slow"`},
		{Fault{Group: "a", Mode: FaultError, Rate: 2}, "rate must be between 0 and 1"},
		{Fault{Group: "a", Mode: FaultError, Status: 302}, "status must be 400-599"},
		{Fault{Group: "a", Mode: FaultError, Count: -1}, "must not be negative"},
	} {
		if err := newGateway(false).SetFault(tt.f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetFault(%+v) = %v, want %q", tt.f, err, tt.want)
		}
	}
}

// TestTakeFault: a rate spreads hits evenly, a count runs out, and the
// group's own fault wins over "*".
func TestTakeFault(t *testing.T) {
	g := newGateway(false)
	_ = g.SetFault(Fault{Group: "a", Mode: FaultError, Rate: 0.5, Count: 2})
	_ = g.SetFault(Fault{Group: GroupAll, Mode: FaultLost})
	var got []string
	for range 6 {
		f, ok := g.TakeFault("a", "GET /a")
		got = append(got, map[bool]string{true: f.Mode, false: "-"}[ok])
	}
	if want := "- error - error lost lost"; strings.Join(got, " ") != want {
		t.Errorf("hits = %q, want %q", strings.Join(got, " "), want)
	}
	if st := g.Stats().Endpoints["GET /a"]; st.Faulted != 4 {
		t.Errorf("faulted = %d, want 4", st.Faulted)
	}
}
