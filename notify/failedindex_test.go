package notify_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/notify"
	"zwfw/platform/invariants"
	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// failedPIDs pages through the admins' list as the handlers do and returns
// the public ids in order.
func failedPIDs(t *testing.T, svc *notify.Service) []string {
	t.Helper()
	var out []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		list, next, err := svc.Failed(context.Background(), cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			out = append(out, m.PublicID)
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// failedMessage is a stored message in state, updated at at.
func failedMessage(user, subject, pid string, state notify.State, at time.Time) *notify.Message {
	return &notify.Message{ID: notify.DedupID(user, notify.RuleCaseAccepted, subject), PublicID: pid, UserID: user,
		RuleID: notify.RuleCaseAccepted, Kind: notify.KindCase, Subject: subject, Title: "办件已受理", State: state, Inbox: true,
		Attempts: []notify.Attempt{}, CreatedAt: at.Add(-time.Minute), UpdatedAt: at}
}

// ruleMessage is the user's one message of rule.
func ruleMessage(e *env, user, rule string) *notify.Message {
	e.t.Helper()
	var m notify.Message
	err := e.db.Collection(notify.MessagesCollection).FindOne(context.Background(),
		bson.D{{Key: "user_id", Value: user}, {Key: "rule_id", Value: rule}}).Decode(&m)
	if err != nil {
		e.t.Fatalf("message %s/%s: %v", user, rule, err)
	}
	return &m
}

// Every path that makes a message failed puts it in the admins' list: the
// sender giving up (all channels refused; a channel down past its
// retries), a sender's release through the store, a message stored failed.
// TestOnlyKnownPathsSetStateFailed keeps this table complete.
func TestFailedIndexKeptOnEveryFailingPath(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		fail func(e *env) string // returns the public id of the message it made failed
	}{
		{"deliver: every channel refused", func(e *env) string {
			e.runner(e.svc, "r1")
			e.ch.setFail(notify.ChannelSMS, errors.New("isv.SMS_SIGNATURE_ILLEGAL"))
			e.handle(e.svc, e.event("shipment.exception", "shipment:s1", "courier", map[string]any{
				"user_id": "u1", "waybill_number": "SF1", "carrier": "shunfeng", "context": "破损", "at": t0}))
			e.settle()
			return ruleMessage(e, "u1", notify.RuleShipmentException).PublicID
		}},
		{"deliver: a channel down past its retries", func(e *env) string {
			e.runner(e.svc, "r1")
			e.ch.setFail(notify.ChannelSMS, fmt.Errorf("%w: 503", notify.ErrTemporary))
			e.handle(e.svc, e.event("shipment.exception", "shipment:s2", "courier", map[string]any{
				"user_id": "u1", "waybill_number": "SF2", "carrier": "shunfeng", "context": "破损", "at": t0}))
			for i := range 4 {
				e.settle()
				e.clock.Set(t0.Add(time.Duration(i+1) * time.Minute)) // the runner's backoff is 1 min
			}
			e.settle()
			return ruleMessage(e, "u1", notify.RuleShipmentException).PublicID
		}},
		{"store: a sender releases it failed", func(e *env) string {
			ctx := context.Background()
			m := failedMessage("u1", "case:c_rel", "prel", notify.StatePending, t0)
			if _, _, err := e.store.InsertMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := e.store.ClaimMessage(ctx, m.ID, "w1", t0, t0.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if err := e.store.ReleaseMessage(ctx, m.ID, "w1", notify.MessageUpdate{State: notify.StateFailed, At: t0.Add(time.Second)}); err != nil {
				t.Fatal(err)
			}
			return m.PublicID
		}},
		{"store: a message stored failed", func(e *env) string {
			m := failedMessage("u1", "case:c_ins", "pins", notify.StateFailed, t0)
			if _, _, err := e.store.InsertMessage(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			return m.PublicID
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, t0)
			pid := c.fail(e)
			var m notify.Message
			if err := e.db.Collection(notify.MessagesCollection).FindOne(context.Background(), bson.D{{Key: "pid", Value: pid}}).Decode(&m); err != nil ||
				m.State != notify.StateFailed {
				t.Fatalf("the message did not fail: %+v %v", m, err)
			}
			if got := failedPIDs(t, e.svc); !slices.Equal(got, []string{pid}) {
				t.Fatalf("the list: %v, want [%s]", got, pid)
			}
			// It is in the index itself, not found by a scan: the self-check finds nothing to add.
			res := runFailedCheck(t, e.svc, false)
			if res.Examined != 1 || len(res.Findings) != 0 {
				t.Fatalf("self-check: %+v", res)
			}
		})
	}
}

// Only the known paths name StateFailed: a new one that makes a message
// failed must index it (failedindex.go) and join the table above.
func TestOnlyKnownPathsSetStateFailed(t *testing.T) {
	known := map[string]string{
		"Final":           "reads the state",
		"deliver":         "the sender gives up: ReleaseMessage indexes it",
		"InsertMessage":   "indexes a message stored failed",
		"ReleaseMessage":  "indexes a message released failed",
		"failedOf":        "reads the list",
		"unindexedFailed": "finds failed messages to index",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == "StateFailed" {
					found[fn.Name.Name] = true
					if _, ok := known[fn.Name.Name]; !ok {
						t.Errorf("%s: %s names StateFailed: if it makes a message failed, index it first (failedindex.go) and test it",
							fset.Position(id.Pos()), fn.Name.Name)
					}
				}
				return true
			})
		}
	}
	for fn := range known {
		if !found[fn] {
			t.Errorf("%s no longer names StateFailed: update the list", fn)
		}
	}
}

// The list pages newest failed first (public id descending within a
// millisecond) across hours, days, months and full buckets, with messages
// in other states around, and a bad cursor is refused.
func TestFailedListPagesAcrossBuckets(t *testing.T) {
	notify.SetFailedBucketSize(t, 3)
	e := newEnv(t, time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	base := time.Date(2026, 3, 30, 22, 0, 0, 0, time.UTC)
	var want []*notify.Message
	for i := range 61 {
		at := base.Add(time.Duration(i) * 17 * time.Hour / 10) // 1.7 h apart: over a month boundary and many hours
		if i%10 == 3 {
			at = base.Add(time.Duration(i-1) * 17 * time.Hour / 10) // the same millisecond as the one before
		}
		state := notify.StateFailed
		if i%4 == 1 {
			state = []notify.State{notify.StateSent, notify.StateInboxOnly, notify.StateCancelled, notify.StatePending}[i%16/4]
		}
		m := failedMessage(fmt.Sprintf("u%d", i%5), fmt.Sprintf("case:c_%03d", i), fmt.Sprintf("p%03d", (i*37)%101), state, at)
		if _, _, err := e.store.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if state == notify.StateFailed {
			want = append(want, m)
		}
	}
	slices.SortFunc(want, func(a, b *notify.Message) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.PublicID, a.PublicID)
	})
	var wantPIDs []string
	for _, m := range want {
		wantPIDs = append(wantPIDs, m.PublicID)
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, wantPIDs) {
		t.Fatalf("paged: %v\nwant   %v", got, wantPIDs)
	}
	if len(wantPIDs) <= 2*notify.PageSize {
		t.Fatalf("only %d failed: the test should span three pages", len(wantPIDs))
	}
	if _, _, err := e.svc.Failed(ctx, "not a cursor!"); !errors.Is(err, notify.ErrInvalidCursor) {
		t.Fatalf("a bad cursor: %v", err)
	}
}

// A message no longer failed (retried and sent) leaves the list; one
// failed again later shows once, at its new time; an entry noted for a
// failure that did not happen (the sender lost its lease) shows nothing.
func TestFailedListShowsOnlyMessagesFailedNow(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, t0)
	ctx := context.Background()
	coll := e.db.Collection(notify.MessagesCollection)
	var ms []*notify.Message
	for i, pid := range []string{"pa", "pb", "pc"} {
		m := failedMessage("u1", "case:c_"+pid, pid, notify.StateFailed, t0.Add(time.Duration(i)*time.Minute))
		if _, _, err := e.store.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, []string{"pc", "pb", "pa"}) {
		t.Fatalf("the list: %v", got)
	}
	// pa is retried and sent.
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: ms[0].ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: notify.StateSent}, {Key: "channel", Value: notify.ChannelSMS}, {Key: "updated_at", Value: t0.Add(time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, []string{"pc", "pb"}) {
		t.Fatalf("after pa was sent: %v", got)
	}
	// pb is retried and fails again two hours later.
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: ms[1].ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: notify.StatePending}}}}); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(2 * time.Hour)
	if _, ok, err := e.store.ClaimMessage(ctx, ms[1].ID, "w1", later, later.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, []string{"pc"}) {
		t.Fatalf("while pb is sent again: %v", got)
	}
	// A sender that lost its lease notes the failure but cannot record it.
	if err := e.store.ReleaseMessage(ctx, ms[1].ID, "w2", notify.MessageUpdate{State: notify.StateFailed, At: later}); err == nil {
		t.Fatal("a release without the lease succeeded")
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, []string{"pc"}) {
		t.Fatalf("after a lost lease: %v", got)
	}
	if err := e.store.ReleaseMessage(ctx, ms[1].ID, "w1", notify.MessageUpdate{State: notify.StateFailed, At: later}); err != nil {
		t.Fatal(err)
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, []string{"pb", "pc"}) {
		t.Fatalf("pb failed again: %v", got)
	}
}

// Writers of several replicas failing messages at once into the same
// hour lose none, with buckets rolling under them.
func TestFailedIndexConcurrentWritersLoseNothing(t *testing.T) {
	notify.SetFailedBucketSize(t, 4)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, t0)
	var wg sync.WaitGroup
	var want []string
	for r := range 3 {
		store := notify.NewMongoStore(e.db) // a replica
		for i := range 12 {
			pid := fmt.Sprintf("r%d-%02d", r, i)
			want = append(want, pid)
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := failedMessage("u1", "case:"+pid, pid, notify.StateFailed, t0.Add(time.Duration(i)*time.Second))
				if _, _, err := store.InsertMessage(context.Background(), m); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	got := failedPIDs(t, e.svc)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d of %d: %v", len(got), len(want), got)
	}
}

// runFailedCheck runs notify's self-check.
func runFailedCheck(t *testing.T, svc *notify.Service, repair bool) invariants.Result {
	t.Helper()
	rep := invariants.Run(context.Background(), svc.Invariants(), repair, time.Now)
	if len(rep.Results) != 1 || rep.Results[0].Error != "" {
		t.Fatalf("self-check: %+v", rep.Results)
	}
	return rep.Results[0]
}

// seedMessages stores n messages straight into MongoDB, one in failEvery
// failed, one a minute back from newest, without their index entries.
func seedMessages(t testing.TB, db *mongo.Database, n, failEvery int, newest time.Time) []*notify.Message {
	t.Helper()
	var all []*notify.Message
	batch := make([]any, 0, 500)
	for i := range n {
		state := notify.StateSent
		if i%failEvery == 0 {
			state = notify.StateFailed
		}
		m := failedMessage(fmt.Sprintf("u%04d", i%1000), fmt.Sprintf("case:c_%05d", i), fmt.Sprintf("%024x", i), state,
			newest.Add(-time.Duration(i)*time.Minute))
		all = append(all, m)
		batch = append(batch, m)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := mongox.C(db, notify.MessagesCollection).InsertMany(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return all
}

// Messages failed before the index (or loaded in bulk) are indexed once at
// start-up; one written behind the store's back later is found and added
// by the daily self-check.
func TestFailedIndexBackfillAndSelfCheck(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	newest := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	all := seedMessages(t, db, 300, 7, newest)
	e := &env{t: t, db: db, clock: &clock{t: newest}, ch: newChannels(), world: &world{bookings: map[string]time.Time{}},
		store: notify.NewMongoStore(db), ppl: people{}}
	if err := e.store.EnsureIndexes(ctx); err != nil { // start-up
		t.Fatal(err)
	}
	e.svc = e.newService("replica-1")
	var want []string
	for _, m := range all {
		if m.State == notify.StateFailed {
			want = append(want, m.PublicID)
		}
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, want) {
		t.Fatalf("after start-up: %d listed, want %d", len(got), len(want))
	}
	if err := notify.NewMongoStore(db).EnsureIndexes(ctx); err != nil { // a second start indexes nothing twice
		t.Fatal(err)
	}
	if got := failedPIDs(t, e.svc); !slices.Equal(got, want) {
		t.Fatalf("after a second start-up: %d listed, want %d", len(got), len(want))
	}
	late := failedMessage("u1", "case:c_late", "plate", notify.StateFailed, newest.Add(time.Minute))
	if _, err := db.Collection(notify.MessagesCollection).InsertOne(ctx, late); err != nil {
		t.Fatal(err)
	}
	res := runFailedCheck(t, e.svc, false)
	if res.Examined != len(want)+1 || len(res.Findings) != 1 || res.Findings[0].Subject != "message:plate" || res.Findings[0].Repaired {
		t.Fatalf("self-check: %+v", res)
	}
	if res := runFailedCheck(t, e.svc, true); len(res.Findings) != 1 || !res.Findings[0].Repaired {
		t.Fatalf("self-check with repair: %+v", res)
	}
	if res := runFailedCheck(t, e.svc, true); len(res.Findings) != 0 {
		t.Fatalf("self-check after the repair: %+v", res)
	}
	if got := failedPIDs(t, e.svc); len(got) != len(want)+1 || got[0] != "plate" {
		t.Fatalf("after the repair: %v...", got[:3])
	}
}

// With 5,000 messages a page of the list is read by _id alone: the months,
// the month's days, the day's directory, the hours' buckets, one find per
// message.
func TestFailedListReadsByIDOnly(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	newest := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	all := seedMessages(t, db, 5_000, 5, newest) // a failed message every 5 minutes: 12 an hour
	if _, err := notify.NewMongoStore(db).ReindexFailed(ctx); err != nil {
		t.Fatal(err)
	}
	client, rec := testenv.FindRecordingClient(t)
	svc := notify.NewService(notify.Deps{Store: notify.NewMongoStore(client.Database(db.Name())), Logger: testenv.QuietLogger()})
	cursor := ""
	for page := range 3 {
		rec.Take()
		list, next, err := svc.Failed(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != notify.PageSize || list[0].PublicID != all[page*notify.PageSize*5].PublicID {
			t.Fatalf("page %d: %d, starting at %s", page, len(list), list[0].PublicID)
		}
		filters := rec.Take()
		// 20 messages span at most 3 hours of one day: the months, the
		// month's days, the day's directory, 3 buckets, a message each.
		if limit := 1 + 1 + 1 + 3 + notify.PageSize; len(filters) > limit {
			t.Errorf("page %d: %d finds, want at most %d", page, len(filters), limit)
		}
		for _, f := range filters {
			_, doc, _ := strings.Cut(f, " ")
			var d bson.D
			if err := bson.UnmarshalExtJSON([]byte(doc), false, &d); err != nil || len(d) != 1 || d[0].Key != "_id" {
				t.Errorf("a find not by _id alone: %s", f)
				continue
			}
			if _, ok := d[0].Value.(string); !ok {
				t.Errorf("a find not by one _id: %s", f)
			}
		}
		cursor = next
	}
}
