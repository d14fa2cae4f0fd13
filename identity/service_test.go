package identity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
	"zwfw/identity"
	"zwfw/pii"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fakeWeChat answers code2Session like WeChat: "code-<name>" is a valid code for openid "o-<name>".
type fakeWeChat struct{ down bool }

func (f *fakeWeChat) Code2Session(_ context.Context, code string) (identity.WeChatIdentity, error) {
	if f.down {
		return identity.WeChatIdentity{}, identity.ErrWeChatUnavailable
	}
	var name string
	if _, err := fmt.Sscanf(code, "code-%s", &name); err != nil {
		return identity.WeChatIdentity{}, identity.ErrWeChatCodeInvalid
	}
	return identity.WeChatIdentity{AppID: "wxtest", OpenID: "o-" + name}, nil
}

// fakeSMS records the codes it "sends".
type fakeSMS struct {
	mu    sync.Mutex
	codes map[string]string
	fail  error
}

func (f *fakeSMS) SendLoginCode(_ context.Context, phone, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.codes[phone] = code
	return nil
}

func (f *fakeSMS) last(phone string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.codes[phone]
}

type protector struct {
	c *pii.Cipher
	b *pii.BlindIndex
}

func (p protector) EncryptField(field, v string) (string, error) { return p.c.EncryptField(field, v) }
func (p protector) DecryptField(field, v string) (string, error) { return p.c.DecryptField(field, v) }
func (p protector) Index(field, v string) string                 { return p.b.Index(field, v) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	svc   *identity.Service
	sms   *fakeSMS
	wx    *fakeWeChat
	clock *clock
	store *identity.MongoStore
	// wxPhone answers getPhoneNumber codes; db is the test database.
	wxPhone *fakeWeChatPhone
	db      *mongo.Database
	pii     protector
	users   *identity.UserCache
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db := testenv.DB(t)
	rdb, keys := testenv.Redis(t)
	store := identity.NewMongoStore(db)
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)}
	tokens, err := identity.NewTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := pii.NewCipher(map[byte][]byte{1: pii.GenerateKey()}, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{sms: &fakeSMS{codes: map[string]string{}}, wx: &fakeWeChat{}, clock: clk, store: store,
		wxPhone: &fakeWeChatPhone{codes: map[string]string{}}, db: db,
		pii: protector{c: cipher, b: pii.NewBlindIndex([]byte("blind-index-key-0123456789abcdef"))}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.users = identity.NewUserCache(store, rdb, keys, time.Minute, log)
	h.svc = identity.NewService(identity.Defaults(), identity.Deps{
		Users: h.users, Sessions: store, Codes: store, Staff: store,
		Logins: store, Merges: store, Claims: store, WeChatPhone: h.wxPhone, Province: fakeProvince{},
		Tokens: tokens, WeChat: h.wx, SMS: h.sms,
		PII:         h.pii,
		Revocations: identity.NewRedisRevocations(rdb, keys), Logger: log, Now: clk.now,
	})
	return h
}

func wantCode(t *testing.T, err error, want *apperr.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %s", err, want.Code)
	}
}

func TestWeChatLoginKeepsTheSameUser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	first, err := h.svc.LoginWeChat(ctx, "code-zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.svc.LoginWeChat(ctx, "code-zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	if first.User.ID != second.User.ID {
		t.Fatalf("same openid gave two users: %s, %s", first.User.ID, second.User.ID)
	}
	other, err := h.svc.LoginWeChat(ctx, "code-lisi")
	if err != nil {
		t.Fatal(err)
	}
	if other.User.ID == first.User.ID {
		t.Fatal("different openids share a user")
	}
	if !first.User.HasRole(identity.RoleCitizen) {
		t.Fatalf("roles = %v, want citizen", first.User.Roles)
	}
	p, err := h.svc.Authenticate(ctx, first.AccessToken)
	if err != nil || p.UserID != first.User.ID {
		t.Fatalf("Authenticate = %v, %v", p, err)
	}
}

func TestConcurrentFirstLoginsCreateOneUser(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	ids := make([]string, 6)
	errs := make([]error, 6)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := h.svc.LoginWeChat(context.Background(), "code-wangwu")
			errs[i] = err
			if err == nil {
				ids[i] = s.User.ID
			}
		}(i)
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("login %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent logins created different users: %v", ids)
		}
	}
}

func TestWeChatErrors(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.LoginWeChat(context.Background(), "bogus")
	wantCode(t, err, identity.ErrWeChatCodeInvalid)
	h.wx.down = true
	_, err = h.svc.LoginWeChat(context.Background(), "code-zhangsan")
	wantCode(t, err, identity.ErrWeChatUnavailable)
}

func TestSMSLogin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	phone := "13800138000"
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	code := h.sms.last(phone)
	if len(code) != 6 {
		t.Fatalf("code %q is not 6 digits", code)
	}
	s, err := h.svc.LoginSMS(ctx, phone, code)
	if err != nil {
		t.Fatal(err)
	}
	if s.User.PhoneMasked != "138****8000" || s.User.PhoneEnc == "" || s.User.PhoneEnc == phone {
		t.Fatalf("phone stored as masked=%q enc=%q", s.User.PhoneMasked, s.User.PhoneEnc)
	}
	// A code logs in once.
	_, err = h.svc.LoginSMS(ctx, phone, code)
	wantCode(t, err, identity.ErrSMSCodeInvalid)

	// The same phone later reaches the same user.
	h.clock.add(2 * time.Minute)
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	again, err := h.svc.LoginSMS(ctx, phone, h.sms.last(phone))
	if err != nil {
		t.Fatal(err)
	}
	if again.User.ID != s.User.ID {
		t.Fatal("same phone gave two users")
	}
}

func TestSMSSendLimits(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	phone := "13900139000"
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	err := h.svc.SendLoginCode(ctx, phone)
	wantCode(t, err, identity.ErrSMSTooFrequent)
	if ra := apperr.From(err).Details["retry_after"]; ra == nil {
		t.Fatal("too-frequent error carries no retry_after")
	}
	for i := 2; i <= 10; i++ {
		h.clock.add(61 * time.Second)
		if err := h.svc.SendLoginCode(ctx, phone); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	h.clock.add(61 * time.Second)
	wantCode(t, h.svc.SendLoginCode(ctx, phone), identity.ErrSMSDailyLimit)
	// A new Asia/Shanghai day resets the count (clock is 02:00 UTC = 10:00 CST; +14 h is past midnight).
	h.clock.add(14 * time.Hour)
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatalf("send on the next day: %v", err)
	}
	wantCode(t, h.svc.SendLoginCode(ctx, "12345"), identity.ErrPhoneInvalid)
}

func TestSMSFailedSendGivesTheQuotaBack(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.sms.fail = identity.ErrSMSUnavailable
	wantCode(t, h.svc.SendLoginCode(ctx, "13700137000"), identity.ErrSMSUnavailable)
	h.sms.fail = nil
	if err := h.svc.SendLoginCode(ctx, "13700137000"); err != nil {
		t.Fatalf("retry right after a failed send: %v", err)
	}
}

func TestSMSCodeRules(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	phone := "13600136000"
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	code := h.sms.last(phone)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	wantCode(t, func() error { _, err := h.svc.LoginSMS(ctx, phone, "12ab56"); return err }(), identity.ErrSMSCodeFormat)
	for i := 1; i <= 4; i++ {
		_, err := h.svc.LoginSMS(ctx, phone, wrong)
		wantCode(t, err, identity.ErrSMSCodeInvalid)
	}
	_, err := h.svc.LoginSMS(ctx, phone, wrong)
	wantCode(t, err, identity.ErrSMSCodeExhausted)
	// After five wrong tries even the right code is refused.
	_, err = h.svc.LoginSMS(ctx, phone, code)
	wantCode(t, err, identity.ErrSMSCodeExhausted)

	// Expiry: a fresh code is refused after 5 minutes.
	h.clock.add(2 * time.Minute)
	if err := h.svc.SendLoginCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	h.clock.add(5*time.Minute + time.Second)
	_, err = h.svc.LoginSMS(ctx, phone, h.sms.last(phone))
	wantCode(t, err, identity.ErrSMSCodeExpired)
}

func TestRefreshRotationAndReuse(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	s1, err := h.svc.LoginWeChat(ctx, "code-zhaoliu")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := h.svc.Refresh(ctx, s1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if s2.RefreshToken == s1.RefreshToken {
		t.Fatal("refresh did not rotate the token")
	}
	// A copy of the same refresh arriving just after it (a double tap) is
	// refused and ends nothing.
	_, err = h.svc.Refresh(ctx, s1.RefreshToken)
	wantCode(t, err, identity.ErrRefreshReused)
	if _, err := h.svc.Authenticate(ctx, s2.AccessToken); err != nil {
		t.Fatalf("a concurrent copy ended the session: %v", err)
	}
	// Replaying the spent token later revokes the family: the new token dies too.
	h.clock.add(identity.Defaults().RefreshReuseGrace)
	_, err = h.svc.Refresh(ctx, s1.RefreshToken)
	wantCode(t, err, identity.ErrRefreshReused)
	_, err = h.svc.Refresh(ctx, s2.RefreshToken)
	if err == nil {
		t.Fatal("token of a revoked family still refreshes")
	}
	_, err = h.svc.Authenticate(ctx, s2.AccessToken)
	wantCode(t, err, identity.ErrSessionRevoked)

	_, err = h.svc.Refresh(ctx, "not-a-token")
	wantCode(t, err, identity.ErrRefreshInvalid)
}

func TestConcurrentRefreshWinsOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	s, err := h.svc.LoginWeChat(ctx, "code-qianqi")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.svc.Refresh(ctx, s.RefreshToken); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d concurrent refreshes with one token succeeded, want 1", ok)
	}
}

func TestRefreshExpires(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	s, err := h.svc.LoginWeChat(ctx, "code-sunba")
	if err != nil {
		t.Fatal(err)
	}
	h.clock.add(31 * 24 * time.Hour)
	_, err = h.svc.Refresh(ctx, s.RefreshToken)
	wantCode(t, err, identity.ErrRefreshExpired)
	_, err = h.svc.Authenticate(ctx, s.AccessToken)
	wantCode(t, err, identity.ErrTokenExpired)
	n, err := h.svc.PurgeExpired(ctx)
	if err != nil || n < 2 {
		t.Fatalf("PurgeExpired = %d, %v; want the token and its family gone", n, err)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	s, err := h.svc.LoginWeChat(ctx, "code-zhoujiu")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.svc.Authenticate(ctx, s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Authenticate(ctx, s.AccessToken)
	wantCode(t, err, identity.ErrSessionRevoked)
	_, err = h.svc.Refresh(ctx, s.RefreshToken)
	wantCode(t, err, identity.ErrSessionRevoked)
}

func TestStaffLoginAndLockout(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const pw = "Correct-horse-42"
	u, err := h.svc.CreateStaff(ctx, "Hotline07", "坐席七", pw, []identity.Role{identity.RoleHotline})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.CreateStaff(ctx, "hotline07", "重复", pw, []identity.Role{identity.RoleHotline})
	wantCode(t, err, identity.ErrStaffUsernameUsed)
	_, err = h.svc.CreateStaff(ctx, "weak01", "弱口令", "short1", []identity.Role{identity.RoleStaff})
	wantCode(t, err, identity.ErrWeakPassword)

	s, err := h.svc.LoginStaff(ctx, "hotline07", pw)
	if err != nil {
		t.Fatal(err)
	}
	if s.User.ID != u.ID || !s.User.HasRole(identity.RoleHotline) {
		t.Fatalf("staff login returned %+v", s.User)
	}
	_, err = h.svc.LoginStaff(ctx, "nobody", pw)
	wantCode(t, err, identity.ErrStaffCredentials)

	for i := 1; i < 5; i++ {
		_, err = h.svc.LoginStaff(ctx, "hotline07", "wrong-password-1")
		wantCode(t, err, identity.ErrStaffCredentials)
	}
	_, err = h.svc.LoginStaff(ctx, "hotline07", "wrong-password-1")
	wantCode(t, err, identity.ErrStaffLocked)
	// Locked: even the right password is refused until the lock ends.
	_, err = h.svc.LoginStaff(ctx, "hotline07", pw)
	wantCode(t, err, identity.ErrStaffLocked)
	h.clock.add(16 * time.Minute)
	if _, err := h.svc.LoginStaff(ctx, "hotline07", pw); err != nil {
		t.Fatalf("login after the lock ended: %v", err)
	}
}

func TestTokensRejectForgeries(t *testing.T) {
	h := newHarness(t)
	s, err := h.svc.LoginWeChat(context.Background(), "code-forge")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := identity.NewTokens([]byte("another-key-another-key-another-k"), time.Minute, nil)
	forged, _ := other.Issue(s.User, "sf_x")
	tampered := s.AccessToken[:len(s.AccessToken)-2] + "xx"
	cases := map[string]string{
		"other key":    forged,
		"tampered":     tampered,
		"alg none":     "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1XzEiLCJzaWQiOiJzIn0.",
		"not a jwt":    "hello",
		"empty string": "",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := h.svc.Authenticate(context.Background(), tok)
			wantCode(t, err, identity.ErrTokenInvalid)
		})
	}
}
