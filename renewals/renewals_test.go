package renewals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/apperr"
	"zwfw/platform/jobs"
)

type memStore map[string]Record

func (m memStore) Get(_ context.Context, id string) (*Record, error) {
	if r, ok := m[id]; ok {
		return &r, nil
	}
	return nil, nil
}

func (m memStore) Put(_ context.Context, r Record) error { m[r.UserID] = r; return nil }

type holder struct {
	licences map[string][]License
	err      error
	calls    []string
}

func (h *holder) Licenses(_ context.Context, id string) ([]License, error) {
	h.calls = append(h.calls, id)
	return h.licences[id], h.err
}

type reminders struct{ scheduled, cancelled []string }

func (r *reminders) ScheduleLicenseReminders(_ context.Context, user, id, _ string, exp time.Time) error {
	r.scheduled = append(r.scheduled, user+"/"+id+"@"+exp.In(shanghai).Format(time.DateOnly))
	return nil
}

func (r *reminders) CancelLicenseReminders(_ context.Context, user, id string, exp time.Time) error {
	r.cancelled = append(r.cancelled, user+"/"+id+"@"+exp.In(shanghai).Format(time.DateOnly))
	return nil
}

type users []string

func (u users) VerifiedUserIDs(_ context.Context, after string, limit int) ([]string, error) {
	var out []string
	for _, id := range u {
		if id > after && len(out) < limit {
			out = append(out, id)
		}
	}
	return out, nil
}

type queue struct{ reqs []jobs.EnqueueRequest }

func (q *queue) Enqueue(_ context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error) {
	q.reqs = append(q.reqs, req)
	return jobs.Job{}, true, nil
}

var now = time.Date(2026, 11, 23, 6, 0, 0, 0, shanghai)

func day(d int) string { return now.AddDate(0, 0, d).Format(time.DateOnly) }

func newTestService(h *holder, r *reminders, u users, q *queue, store memStore) *Service {
	return NewService(Deps{Store: store, Holder: h, Reminders: r, Users: u, Queue: q,
		Options: Options{PageSize: 2, Pause: time.Minute}, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
}

// Only valid licences expiring within the horizon are scheduled; one
// renewed, revoked or gone has its reminders cancelled, once.
func TestObserve(t *testing.T) {
	r := &reminders{}
	s := newTestService(&holder{}, r, nil, &queue{}, memStore{})
	ctx := context.Background()
	first := []License{
		{ID: "L20", Name: "驾驶证", ExpiresOn: day(20), Valid: true},
		{ID: "L90", Name: "身份证", ExpiresOn: day(90), Valid: true},  // beyond the horizon
		{ID: "Lgone", Name: "证", ExpiresOn: day(-1), Valid: false}, // expired
		{ID: "Lever", Name: "社保卡", Valid: true},                    // long-term
		{ID: "L30", Name: "食品经营许可证", ExpiresOn: day(30), Valid: true},
	}
	if _, err := s.Observe(ctx, "u1", first); err != nil {
		t.Fatal(err)
	}
	want := []string{"u1/L20@" + day(20), "u1/L30@" + day(30)}
	slices.Sort(r.scheduled)
	if !slices.Equal(r.scheduled, want) || len(r.cancelled) != 0 {
		t.Fatalf("scheduled %v, cancelled %v", r.scheduled, r.cancelled)
	}
	// Read again at once: nothing to do, nothing written.
	r.scheduled = nil
	if _, err := s.Observe(ctx, "u1", first); err != nil || len(r.scheduled) != 0 {
		t.Fatalf("an unchanged read scheduled %v (%v)", r.scheduled, err)
	}
	// L20 renewed in place (another expiry), L30 revoked.
	second := []License{{ID: "L20", Name: "驾驶证", ExpiresOn: day(40), Valid: true}, {ID: "L30", ExpiresOn: day(30), Valid: false}}
	if _, err := s.Observe(ctx, "u1", second); err != nil {
		t.Fatal(err)
	}
	slices.Sort(r.cancelled)
	if !slices.Equal(r.scheduled, []string{"u1/L20@" + day(40)}) || !slices.Equal(r.cancelled, []string{"u1/L20@" + day(20), "u1/L30@" + day(30)}) {
		t.Fatalf("scheduled %v, cancelled %v", r.scheduled, r.cancelled)
	}
	r.cancelled = nil
	if _, err := s.Observe(ctx, "u1", second); err != nil || len(r.cancelled) != 0 {
		t.Fatalf("a second look cancelled again: %v %v", r.cancelled, err)
	}
}

func runSweep(t *testing.T, s *Service, req jobs.EnqueueRequest) error {
	t.Helper()
	raw, err := bson.Marshal(req.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return s.HandleSweep(context.Background(), &jobs.Job{ID: req.Key, Payload: raw})
}

// The sweep walks the verified users a bounded page per job, skips those
// synced recently, chains the pages a pause apart and then the next day's
// sweep; a province outage fails the page (to be retried), another user's
// error does not.
func TestSweepPages(t *testing.T) {
	h := &holder{licences: map[string][]License{"u2": {{ID: "L", Name: "驾驶证", ExpiresOn: day(20), Valid: true}}}}
	r, q := &reminders{}, &queue{}
	store := memStore{"u3": Record{UserID: "u3", SyncedAt: now.Add(-time.Hour)}}
	s := newTestService(h, r, users{"u1", "u2", "u3", "u4", "u5"}, q, store)
	if err := s.ScheduleSweep(context.Background(), now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for page := 0; page < 3; page++ {
		req := q.reqs[len(q.reqs)-1]
		if err := runSweep(t, s, req); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(h.calls, []string{"u1", "u2", "u4", "u5"}) || !slices.Equal(r.scheduled, []string{"u2/L@" + day(20)}) {
		t.Fatalf("synced %v, scheduled %v", h.calls, r.scheduled)
	}
	var keys []string
	for _, req := range q.reqs {
		keys = append(keys, fmt.Sprintf("%s %s", req.Key, req.RunAt.In(shanghai).Format("01-02 15:04")))
	}
	want := []string{day(0) + ": 11-23 06:00", day(0) + ":u2 11-23 06:01", day(0) + ":u4 11-23 06:01", day(1) + ": 11-24 06:00"}
	if !slices.Equal(keys, want) {
		t.Fatalf("jobs %v, want %v", keys, want)
	}

	s.now = func() time.Time { return now.AddDate(0, 0, 1) } // the next day: nobody fresh
	h.err = apperr.New(apperr.KindUnavailable, "TEST_PROVINCE_DOWN", "省平台不可用")
	if err := runSweep(t, s, q.reqs[3]); !errors.Is(err, h.err) {
		t.Fatalf("a province outage: %v", err)
	}
	h.err = apperr.New(apperr.KindForbidden, "TEST_REALNAME_GONE", "未实名")
	if err := runSweep(t, s, q.reqs[3]); err != nil {
		t.Fatalf("one user's refusal failed the page: %v", err)
	}
}
