package identity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/identity"
	"zwfw/pii"
	"zwfw/platform/jobs"
	"zwfw/platform/testenv"
	"zwfw/province"
)

// fakeWeChatPhone answers getPhoneNumber codes it issued, once each.
type fakeWeChatPhone struct {
	mu    sync.Mutex
	codes map[string]string
	n     int
}

func (f *fakeWeChatPhone) issue(phone string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	code := fmt.Sprintf("phonecode-%d", f.n)
	f.codes[code] = phone
	return code
}

func (f *fakeWeChatPhone) PhoneNumber(_ context.Context, code string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	phone, ok := f.codes[code]
	if !ok {
		return "", "", identity.ErrLoginProof
	}
	delete(f.codes, code)
	return "86", phone, nil
}

// fakeProvince verifies any name with a valid ID number.
type fakeProvince struct{ identity.Province }

func (fakeProvince) VerifyRealName(_ context.Context, name, idNumber string) (province.RealNameResult, error) {
	return province.RealNameResult{Match: true, VerifyID: "v-" + idNumber}, nil
}

// inlineQueue runs a merge as soon as it is queued (a stand-in for the job
// runner) and keeps the jobs so a test can run them again.
type inlineQueue struct {
	mu   sync.Mutex
	svc  *identity.Service
	jobs []jobs.Job
	errs []error
}

func (q *inlineQueue) Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error) {
	raw, err := bson.Marshal(req.Payload)
	if err != nil {
		return jobs.Job{}, false, err
	}
	j := jobs.Job{ID: jobs.JobID(req.Type, req.Key), Type: req.Type, Payload: raw}
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	if req.Type == identity.JobMerge {
		err := q.svc.HandleMergeJob(ctx, &j)
		q.mu.Lock()
		q.errs = append(q.errs, err)
		q.mu.Unlock()
	}
	return j, true, nil
}

func (q *inlineQueue) job(typ string) *jobs.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := len(q.jobs) - 1; i >= 0; i-- {
		if q.jobs[i].Type == typ {
			return &q.jobs[i]
		}
	}
	return nil
}

// ledger is a domain's records by owner, moved the way a domain's
// Reassign moves them (by owner field: again moves what is left).
type ledger struct {
	mu    sync.Mutex
	owner map[string]string // record -> owner
	calls int
}

func newLedger() *ledger { return &ledger{owner: map[string]string{}} }

func (l *ledger) Reassign(_ context.Context, from, to string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	var n int64
	for r, o := range l.owner {
		if o == from {
			l.owner[r] = to
			n++
		}
	}
	return n, nil
}

func (l *ledger) of(user string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, o := range l.owner {
		if o == user {
			n++
		}
	}
	return n
}

// withMerges wires merges with two domains into h.svc.
func (h *harness) withMerges(t *testing.T, stopAfter int) (*inlineQueue, *ledger, *ledger) {
	t.Helper()
	q := &inlineQueue{svc: h.svc}
	cases, bookings := newLedger(), newLedger()
	h.svc.UseMerges(identity.MergeOptions{Queue: q, Wait: 50 * time.Millisecond, StopAfterSteps: stopAfter,
		Domains: []identity.Domain{{Name: "cases", Move: cases}, {Name: "booking", Move: bookings}}})
	return q, cases, bookings
}

func (h *harness) smsLogin(t *testing.T, phone string) *identity.Session {
	t.Helper()
	ctx := context.Background()
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	s, err := h.svc.LoginSMS(ctx, phone, h.sms.last(phone))
	if err != nil {
		t.Fatal(err)
	}
	h.clock.add(2 * time.Minute) // past the resend gap
	return s
}

func (h *harness) principal(t *testing.T, s *identity.Session) *identity.Principal {
	t.Helper()
	p, err := h.svc.Authenticate(context.Background(), s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kinds(u *identity.User) string {
	var out []string
	for _, l := range u.Logins {
		out = append(out, string(l.Kind)+"/"+l.Via)
	}
	return strings.Join(out, ",")
}

func TestWeChatPhoneBindsThePhoneToTheMiniProgramsPerson(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	wx, err := h.svc.LoginWeChat(ctx, "code-zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	me := h.principal(t, wx)
	res, err := h.svc.LinkWeChatPhone(ctx, me, h.wxPhone.issue("13800138000"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Merge != nil || kinds(res.User) != "wechat/login,phone/wechat_phone" || res.User.PhoneMasked != "138****8000" {
		t.Fatalf("after linking: merge %v, logins %s, phone %q", res.Merge, kinds(res.User), res.User.PhoneMasked)
	}
	// The app's SMS login with that phone is the same person.
	app := h.smsLogin(t, "13800138000")
	if app.User.ID != wx.User.ID {
		t.Fatalf("SMS login reached %s, want the WeChat person %s", app.User.ID, wx.User.ID)
	}
	// Linking again is harmless; a used code is refused with a 400-class code.
	if _, err := h.svc.LinkWeChatPhone(ctx, me, "phonecode-1"); !errors.Is(err, identity.ErrLoginProof) {
		t.Fatalf("used code: %v", err)
	}
	again, err := h.svc.LinkWeChatPhone(ctx, me, h.wxPhone.issue("13800138000"))
	if err != nil || len(again.User.Logins) != 2 {
		t.Fatalf("again: %v %s", err, kinds(again.User))
	}
}

// The app account existed first (its own records); the mini-program's
// person binds the same phone: the two become one, the caller's person.
func TestLinkingAPhoneOfAnotherPersonMergesIt(t *testing.T) {
	h := newHarness(t)
	q, cases, bookings := h.withMerges(t, 0)
	ctx := context.Background()
	app := h.smsLogin(t, "13900139001")
	cases.owner["c1"], cases.owner["c2"], bookings.owner["b1"] = app.User.ID, app.User.ID, app.User.ID
	wx, err := h.svc.LoginWeChat(ctx, "code-lisi")
	if err != nil {
		t.Fatal(err)
	}
	cases.owner["c3"] = wx.User.ID
	me := h.principal(t, wx)

	res, err := h.svc.LinkWeChatPhone(ctx, me, h.wxPhone.issue("13900139001"))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Merge
	if m == nil || m.State != identity.MergeDone || m.Survivor != wx.User.ID || m.Absorbed != app.User.ID {
		t.Fatalf("merge = %+v", m)
	}
	steps := map[string]int64{}
	for _, s := range m.Steps {
		steps[s.Name] = s.Moved
	}
	want := map[string]int64{"identity.commit": 1, "identity.profile": 1, "identity.logins": 1, "identity.sessions": 2, "cases": 2, "booking": 1}
	for name, n := range want {
		if got, ok := steps[name]; !ok || got != n {
			t.Errorf("step %s moved %d (recorded %v), want %d", name, got, ok, n)
		}
	}
	if cases.of(wx.User.ID) != 3 || cases.of(app.User.ID) != 0 || bookings.of(wx.User.ID) != 1 {
		t.Fatalf("after the merge: cases %v, bookings %v", cases.owner, bookings.owner)
	}
	if m.ActorUserID != wx.User.ID || m.ActorSession != me.SessionID || m.Via != identity.ViaWeChatPhone || len(m.AbsorbedLogins) != 1 {
		t.Fatalf("audit: %+v", m)
	}
	if sw := q.job(identity.JobMergeSweep); sw == nil {
		t.Fatal("no late sweep planned")
	}

	// The app's old access token now acts for the survivor, and its refresh token goes on for it.
	if p := h.principal(t, app); p.UserID != wx.User.ID {
		t.Fatalf("old access token acts for %s", p.UserID)
	}
	next, err := h.svc.Refresh(ctx, app.RefreshToken)
	if err != nil || next.User.ID != wx.User.ID {
		t.Fatalf("refresh of the absorbed session: %v %v", next, err)
	}
	// Signing in by SMS reaches the survivor; the survivor lists both logins.
	if again := h.smsLogin(t, "13900139001"); again.User.ID != wx.User.ID {
		t.Fatalf("SMS login after the merge reached %s", again.User.ID)
	}
	u, merges, err := h.svc.Logins(ctx, me)
	if err != nil || kinds(u) != "wechat/login,phone/wechat_phone" || len(merges) != 1 {
		t.Fatalf("logins %s, merges %d, %v", kinds(u), len(merges), err)
	}
	// The sweep finds nothing left to move.
	if err := h.svc.HandleMergeSweepJob(ctx, q.job(identity.JobMergeSweep)); err != nil {
		t.Fatal(err)
	}
	var rec identity.Merge
	if err := h.db.Collection(identity.MergesCollection).FindOne(ctx, bson.M{"_id": m.ID}).Decode(&rec); err != nil || rec.Sweep == nil {
		t.Fatalf("sweep not recorded: %v %v", rec.Sweep, err)
	}
	if len(rec.Sweep.Steps) != 4 {
		t.Fatalf("sweep steps %+v", rec.Sweep.Steps)
	}
	for _, st := range rec.Sweep.Steps {
		if st.Moved != 0 {
			t.Errorf("the sweep moved %d by %s", st.Moved, st.Name)
		}
	}
}

// A merge stopped after two recorded steps (the third step written, not
// recorded) finishes in the next process: each step recorded once, every
// record moved once.
func TestMergeInterruptedMidwayFinishesOnceAfterRestart(t *testing.T) {
	h := newHarness(t)
	q, cases, bookings := h.withMerges(t, 2)
	ctx := context.Background()
	app := h.smsLogin(t, "13700137002")
	for i := range 5 {
		cases.owner[fmt.Sprint("c", i)] = app.User.ID
	}
	bookings.owner["b1"] = app.User.ID
	wx, err := h.svc.LoginWeChat(ctx, "code-wangwu")
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.LinkWeChatPhone(ctx, h.principal(t, wx), h.wxPhone.issue("13700137002"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Merge.State != identity.MergeRunning || len(res.Merge.Steps) != 2 {
		t.Fatalf("halted merge: %+v", res.Merge)
	}
	if q.errs[0] == nil {
		t.Fatal("the hook did not stop the merge")
	}
	// The person is locked meanwhile: no other link, unlink or real-name.
	if _, err := h.svc.LinkSMS(ctx, h.principal(t, wx), "13700137002", "123456"); err == nil {
		t.Fatal("link during a merge accepted")
	}

	// "Restart": a new service on the same stores, without the hook; the job runs again.
	h2 := h.restart(t)
	h2.svc.UseMerges(identity.MergeOptions{Queue: q, Domains: []identity.Domain{{Name: "cases", Move: cases}, {Name: "booking", Move: bookings}}})
	if err := h2.svc.HandleMergeJob(ctx, q.job(identity.JobMerge)); err != nil {
		t.Fatal(err)
	}
	var m identity.Merge
	if err := h.db.Collection(identity.MergesCollection).FindOne(ctx, bson.M{"_id": res.Merge.ID}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, s := range m.Steps {
		names[s.Name]++
	}
	if m.State != identity.MergeDone || len(m.Steps) != 6 {
		t.Fatalf("after restart: %s, steps %v", m.State, names)
	}
	for name, n := range names {
		if n != 1 {
			t.Errorf("step %s recorded %d times", name, n)
		}
	}
	if cases.of(wx.User.ID) != 5 || bookings.of(wx.User.ID) != 1 || cases.of(app.User.ID)+bookings.of(app.User.ID) != 0 {
		t.Fatalf("records: cases %v bookings %v", cases.owner, bookings.owner)
	}
	// A third run (a duplicate delivery) changes nothing.
	if err := h2.svc.HandleMergeJob(ctx, q.job(identity.JobMerge)); err != nil {
		t.Fatal(err)
	}
	u, err := h2.svc.Me(ctx, &identity.Principal{UserID: app.User.ID})
	if err != nil || u.ID != wx.User.ID || u.MergeLock != "" || len(u.Logins) != 2 {
		t.Fatalf("survivor after the merge: %+v %v", u, err)
	}
}

// restart builds a second service over the same stores and clock, as a new process would.
func (h *harness) restart(t *testing.T) *harness {
	t.Helper()
	h2 := *h
	rdb, keys := testenv.Redis(t)
	tokens, err := identity.NewTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute, h.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h2.svc = identity.NewService(identity.Defaults(), identity.Deps{
		Users: identity.NewUserCache(h.store, rdb, keys, time.Minute, log), Sessions: h.store, Codes: h.store, Staff: h.store,
		Logins: h.store, Merges: h.store, Claims: h.store, WeChatPhone: h.wxPhone, Province: fakeProvince{},
		Tokens: tokens, WeChat: h.wx, SMS: h.sms, PII: h.pii,
		Revocations: identity.NewRedisRevocations(rdb, keys), Logger: log, Now: h.clock.now,
	})
	return &h2
}

func TestLinkingBySMSAndByWeChatCode(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	app := h.smsLogin(t, "13600136003")
	me := h.principal(t, app)
	// Another phone, by the code sent to it.
	if err := h.svc.SendLoginCode(ctx, "13500135004"); err != nil {
		t.Fatal(err)
	}
	code := h.sms.last("13500135004")
	if _, err := h.svc.LinkSMS(ctx, me, "13500135004", wrong(code)); !errors.Is(err, identity.ErrLoginProof) {
		t.Fatalf("wrong code: %v", err)
	}
	res, err := h.svc.LinkSMS(ctx, me, "13500135004", code)
	if err != nil || kinds(res.User) != "phone/login,phone/sms" {
		t.Fatalf("link by SMS: %v %v", err, res)
	}
	// The mini-program's WeChat, by a wx.login code.
	if _, err := h.svc.LinkWeChat(ctx, me, "junk"); !errors.Is(err, identity.ErrLoginProof) {
		t.Fatalf("bad wx code: %v", err)
	}
	res, err = h.svc.LinkWeChat(ctx, me, "code-zhaoliu")
	if err != nil || kinds(res.User) != "phone/login,phone/sms,wechat/wechat" || !strings.HasPrefix(res.User.WeChatOpenID, "o-") {
		t.Fatalf("link by WeChat: %v %v", err, res)
	}
	wx, err := h.svc.LoginWeChat(ctx, "code-zhaoliu")
	if err != nil || wx.User.ID != app.User.ID {
		t.Fatalf("WeChat login reached %v (%v), want %s", wx.User.ID, err, app.User.ID)
	}
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// Two persons verified as different people are never made one.
func TestLinkRefusesTwoDifferentVerifiedPeople(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	app := h.smsLogin(t, "13800138111")
	if _, err := h.svc.VerifyRealName(ctx, h.principal(t, app), "张三", idNumber(t, "11010519491231002")); err != nil {
		t.Fatal(err)
	}
	wx, err := h.svc.LoginWeChat(ctx, "code-other")
	if err != nil {
		t.Fatal(err)
	}
	me := h.principal(t, wx)
	if _, err := h.svc.VerifyRealName(ctx, me, "李四", idNumber(t, "11010519800101003")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.LinkWeChatPhone(ctx, me, h.wxPhone.issue("13800138111")); !errors.Is(err, identity.ErrLinkOtherPerson) {
		t.Fatalf("link: %v, want LOGIN_LINK_OTHER_PERSON", err)
	}
	if u, _, _ := h.svc.Logins(ctx, me); len(u.Logins) != 1 {
		t.Fatalf("logins after a refused link: %s", kinds(u))
	}
}

func idNumber(t *testing.T, first17 string) string {
	t.Helper()
	c, ok := pii.IDNumberCheckChar(first17)
	if !ok {
		t.Fatalf("%s is not 17 digits", first17)
	}
	return first17 + string(c)
}

// One holder per ID number: a second person is refused with the code that
// says where to go, and a merge carries the identity (and its claim) over.
func TestRealNameHasOneHolder(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	id := idNumber(t, "35010219900307123")
	app := h.smsLogin(t, "13800138222")
	if _, err := h.svc.VerifyRealName(ctx, h.principal(t, app), "张三", id); err != nil {
		t.Fatal(err)
	}
	third, err := h.svc.LoginWeChat(ctx, "code-impostor")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.VerifyRealName(ctx, h.principal(t, third), "张三", id)
	if !errors.Is(err, identity.ErrRealNameHeldByOther) {
		t.Fatalf("second holder: %v", err)
	}
	if u, _ := h.svc.Me(ctx, h.principal(t, third)); u.RealNameVerified {
		t.Fatal("the second account was verified")
	}
	// Many at once: one holder.
	var wg sync.WaitGroup
	var won sync.Map
	other := idNumber(t, "35010219900307456")
	for i := range 8 {
		s, err := h.svc.LoginWeChat(ctx, fmt.Sprintf("code-racer%d", i))
		if err != nil {
			t.Fatal(err)
		}
		p := h.principal(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.svc.VerifyRealName(ctx, p, "王五", other); err == nil {
				won.Store(p.UserID, true)
			} else if !errors.Is(err, identity.ErrRealNameHeldByOther) {
				t.Errorf("racer: %v", err)
			}
		}()
	}
	wg.Wait()
	n := 0
	won.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d holders of one ID number", n)
	}
	// The holder's account, merged into the mini-program's person, takes the identity along.
	wx, err := h.svc.LoginWeChat(ctx, "code-zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.LinkWeChatPhone(ctx, h.principal(t, wx), h.wxPhone.issue("13800138222"))
	if err != nil || res.Merge == nil || res.Merge.State != identity.MergeDone {
		t.Fatalf("merge: %v %+v", err, res)
	}
	u, err := h.svc.Me(ctx, h.principal(t, wx))
	if err != nil || !u.RealNameVerified {
		t.Fatalf("survivor not verified: %+v %v", u, err)
	}
	if _, err := h.svc.VerifyRealName(ctx, h.principal(t, third), "张三", id); !errors.Is(err, identity.ErrRealNameHeldByOther) {
		t.Fatalf("after the merge: %v", err)
	}
	if _, err := h.svc.VerifyRealName(ctx, h.principal(t, wx), "张三", id); err != nil {
		t.Fatalf("the survivor again: %v", err)
	}
}

func TestUnlinkKeepsAtLeastOneLogin(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	wx, err := h.svc.LoginWeChat(ctx, "code-sunqi")
	if err != nil {
		t.Fatal(err)
	}
	me := h.principal(t, wx)
	if _, err := h.svc.LinkWeChatPhone(ctx, me, h.wxPhone.issue("13300133005")); err != nil {
		t.Fatal(err)
	}
	app := h.smsLogin(t, "13300133005") // a session opened with the phone
	u, _, _ := h.svc.Logins(ctx, me)
	var wechatID, phoneID string
	for _, l := range u.Logins {
		if l.Kind == identity.LoginWeChat {
			wechatID = l.ID()
		} else {
			phoneID = l.ID()
		}
	}
	if _, err := h.svc.Unlink(ctx, me, wechatID); !errors.Is(err, identity.ErrLoginInUse) {
		t.Fatalf("unlink the session's own login: %v", err)
	}
	if _, err := h.svc.Unlink(ctx, me, "lg_0000000000000000"); !errors.Is(err, identity.ErrLoginNotFound) {
		t.Fatalf("unknown login: %v", err)
	}
	after, err := h.svc.Unlink(ctx, me, phoneID)
	if err != nil || kinds(after) != "wechat/login" || after.PhoneIndex != "" {
		t.Fatalf("unlink the phone: %v %s %q", err, kinds(after), after.PhoneMasked)
	}
	// Sessions opened with the phone ended; the phone now makes a new person.
	if _, err := h.svc.Authenticate(ctx, app.AccessToken); !errors.Is(err, identity.ErrSessionRevoked) {
		t.Fatalf("the phone's session: %v", err)
	}
	if again := h.smsLogin(t, "13300133005"); again.User.ID == wx.User.ID {
		t.Fatal("an unlinked phone still signs in to the person")
	}
	if _, err := h.svc.Unlink(ctx, me, wechatID); !errors.Is(err, identity.ErrLastLogin) {
		t.Fatalf("the last login: %v", err)
	}
}

func app2(t *testing.T, h *harness, code string) *identity.Session {
	t.Helper()
	s, err := h.svc.LoginWeChat(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Two unlinks racing for the last two logins (each from a session of the
// login it keeps): one wins, one login stays.
func TestConcurrentUnlinksLeaveOneLogin(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	for round := range 5 {
		phoneA, phoneB := fmt.Sprintf("1310013%04d", round), fmt.Sprintf("1320013%04d", round)
		a := h.smsLogin(t, phoneA)
		pa := h.principal(t, a)
		if err := h.svc.SendLoginCode(ctx, phoneB); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.LinkSMS(ctx, pa, phoneB, h.sms.last(phoneB)); err != nil {
			t.Fatal(err)
		}
		h.clock.add(2 * time.Minute)
		b := h.smsLogin(t, phoneB)
		pb := h.principal(t, b)
		u, _, _ := h.svc.Logins(ctx, pa)
		idOf := map[string]string{}
		for _, l := range u.Logins {
			idOf[l.Masked] = l.ID()
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []struct {
			p     *identity.Principal
			other string
		}{{pa, idOf[pii.MaskPhone(phoneB)]}, {pb, idOf[pii.MaskPhone(phoneA)]}} {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = h.svc.Unlink(ctx, c.p, c.other) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, identity.ErrLastLogin) && !errors.Is(err, identity.ErrLoginInUse) && !errors.Is(err, identity.ErrSessionRevoked):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		final, err := h.svc.Me(ctx, &identity.Principal{UserID: a.User.ID})
		if err != nil || ok != 1 || len(final.Logins) != 1 {
			t.Fatalf("round %d: %d unlinks won, %d logins left (%v)", round, ok, len(final.Logins), err)
		}
	}
}

// A crash after an unlink was decided but before its key was deleted: the
// key signs in to nobody; its login is new.
func TestUnlinkLeftoverKeyIsRetired(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	wx := app2(t, h, "code-zhouba")
	me := h.principal(t, wx)
	if _, err := h.svc.LinkWeChatPhone(ctx, me, h.wxPhone.issue("13400134006")); err != nil {
		t.Fatal(err)
	}
	u, _ := h.svc.Me(ctx, me)
	phone := u.Logins[1]
	// What Unlink leaves when it stops after the person's write: the key flagged, not listed.
	if err := h.store.SetUnlinking(ctx, phone.Key, u.ID, true); err != nil {
		t.Fatal(err)
	}
	next := *u
	next.Logins = u.Logins[:1]
	next.Version = u.Version + 1
	if err := h.users.SaveUser(ctx, &next, u.Version); err != nil {
		t.Fatal(err)
	}
	if s := h.smsLogin(t, "13400134006"); s.User.ID == u.ID {
		t.Fatal("the leftover key signed in to the person that unlinked it")
	}
	// And a flag whose person still lists the login (the crash came before
	// the person's write) changes nothing: the login still works.
	wx2 := app2(t, h, "code-wujiu")
	if _, err := h.svc.LinkWeChatPhone(ctx, h.principal(t, wx2), h.wxPhone.issue("13400134007")); err != nil {
		t.Fatal(err)
	}
	u2, _ := h.svc.Me(ctx, h.principal(t, wx2))
	if err := h.store.SetUnlinking(ctx, u2.Logins[1].Key, u2.ID, true); err != nil {
		t.Fatal(err)
	}
	if s := h.smsLogin(t, "13400134007"); s.User.ID != u2.ID {
		t.Fatal("an unlink that never happened took the login away")
	}
}

// A person from before logins were listed (its keys only) gets its logins
// listed from its keys the first time it looks, links or unlinks.
func TestPersonFromBeforeLoginsGetsItsLoginsListed(t *testing.T) {
	h := newHarness(t)
	h.withMerges(t, 0)
	ctx := context.Background()
	now := h.clock.now()
	phone := "13800138333"
	enc, _ := h.pii.EncryptField("phone", phone)
	bidx := h.pii.Index("phone", phone)
	old := &identity.User{ID: "u_legacy", Kind: identity.KindPublic, Roles: []identity.Role{identity.RoleCitizen},
		PhoneEnc: enc, PhoneIndex: bidx, PhoneMasked: pii.MaskPhone(phone), CreatedAt: now, UpdatedAt: now, Version: 1}
	if _, _, err := h.store.EnsureUserForKey(ctx, "phone:"+bidx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.BindKey(ctx, "wx:wxtest:o-legacy", old.ID); err != nil {
		t.Fatal(err)
	}
	u, _, err := h.svc.Logins(ctx, &identity.Principal{UserID: old.ID})
	if err != nil || kinds(u) != "phone/login,wechat/login" {
		t.Fatalf("listed: %s %v", kinds(u), err)
	}
	// And the WeChat key still signs in to it.
	wx, err := h.svc.LoginWeChat(ctx, "code-legacy")
	if err != nil || wx.User.ID != old.ID {
		t.Fatalf("WeChat login reached %v, %v", wx.User.ID, err)
	}
}
