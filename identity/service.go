package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config holds the identity rules; Defaults gives the documented values.
type Config struct {
	AccessTTL          time.Duration // access token lifetime
	RefreshTTL         time.Duration // refresh token (and session family) lifetime
	SMSCodeTTL         time.Duration // a login code is valid this long
	SMSMaxTries        int           // wrong codes allowed per code
	SMSResendAfter     time.Duration // minimum gap between two sends to one phone
	SMSDailyLimit      int           // sends per phone per Asia/Shanghai day
	StaffLockThreshold int           // wrong passwords before a lockout
	StaffLockFor       time.Duration // lockout duration
	// RefreshReuseGrace: a spent refresh token presented again this soon
	// after its use is a concurrent copy of the same refresh (a double tap,
	// a retry after a lost answer), refused without ending the session; a
	// later replay is taken as theft and revokes the whole family. 0 = none.
	RefreshReuseGrace time.Duration
}

// Defaults are the rules the issue asks for.
func Defaults() Config {
	return Config{
		AccessTTL:          15 * time.Minute,
		RefreshTTL:         30 * 24 * time.Hour,
		SMSCodeTTL:         5 * time.Minute,
		SMSMaxTries:        5,
		SMSResendAfter:     time.Minute,
		SMSDailyLimit:      10,
		StaffLockThreshold: 5,
		StaffLockFor:       15 * time.Minute,
		RefreshReuseGrace:  10 * time.Second,
	}
}

// WeChatIdentity is what code2Session tells about a mini-program user.
type WeChatIdentity struct {
	AppID   string
	OpenID  string
	UnionID string
}

// WeChatAuth exchanges a mini-program login code. It returns
// ErrWeChatCodeInvalid for a bad or used code and ErrWeChatUnavailable when
// WeChat cannot be reached.
type WeChatAuth interface {
	Code2Session(ctx context.Context, code string) (WeChatIdentity, error)
}

// CodeSender delivers a login code by SMS. It returns ErrSMSTooFrequent when
// the gateway applies flow control and ErrSMSUnavailable on other failures.
type CodeSender interface {
	SendLoginCode(ctx context.Context, phone, code string) error
}

// Protector encrypts personal data and computes blind indexes (see package pii).
type Protector interface {
	EncryptField(field, plaintext string) (string, error)
	DecryptField(field, enc string) (string, error)
	Index(field, value string) string
}

// Revocations remembers, for the lifetime of access tokens, revoked
// sessions (so logout takes effect before the tokens expire) and merged
// persons (so a merged person's tokens act for the survivor). It is a
// speed-up held in Redis: session families and users in MongoDB are the
// truth for refreshes and look-ups.
type Revocations interface {
	Revoke(ctx context.Context, sessionID string, ttl time.Duration) error
	// Alias makes tokens naming person from act for person to, for ttl.
	Alias(ctx context.Context, from, to string, ttl time.Duration) error
	// Check reports whether the session was revoked and whom userID was
	// merged into ("" when not), in one round trip.
	Check(ctx context.Context, sessionID, userID string) (revoked bool, mergedInto string, err error)
}

// Service is the identity business API, called by the HTTP handlers.
type Service struct {
	cfg      Config
	users    UserStore
	sessions SessionStore
	codes    SMSCodeStore
	staff    StaffStore
	tokens   *Tokens
	wechat   WeChatAuth
	sms      CodeSender
	pii      Protector
	revoked  Revocations
	province Province
	logins   LoginStore
	merges   MergeStore
	claims   ClaimStore
	wxPhone  WeChatPhone
	merge    MergeOptions
	mergeHook
	log *slog.Logger
	now func() time.Time
}

// Deps are the collaborators of a Service.
type Deps struct {
	Users       UserStore
	Sessions    SessionStore
	Codes       SMSCodeStore
	Staff       StaffStore
	Tokens      *Tokens
	WeChat      WeChatAuth
	SMS         CodeSender
	PII         Protector
	Revocations Revocations
	Province    Province
	Logins      LoginStore
	Merges      MergeStore
	Claims      ClaimStore
	WeChatPhone WeChatPhone
	Logger      *slog.Logger
	Now         func() time.Time
}

// NewService builds the identity service.
func NewService(cfg Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{cfg: cfg, users: d.Users, sessions: d.Sessions, codes: d.Codes, staff: d.Staff,
		tokens: d.Tokens, wechat: d.WeChat, sms: d.SMS, pii: d.PII, revoked: d.Revocations, province: d.Province,
		logins: d.Logins, merges: d.Merges, claims: d.Claims, wxPhone: d.WeChatPhone,
		log: d.Logger, now: d.Now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Authenticate turns a bearer access token into the caller. It returns
// ErrTokenInvalid, ErrTokenExpired or ErrSessionRevoked.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	p, err := s.tokens.Verify(accessToken)
	if err != nil {
		return nil, err
	}
	if s.revoked == nil {
		return p, nil
	}
	revoked, mergedInto, err := s.revoked.Check(ctx, p.SessionID, p.UserID)
	return s.Admit(ctx, p, revoked, mergedInto, err)
}

// VerifyToken checks an access token's signature and expiry only; the
// caller checks its revocation (Revocations.Check, or a pipelined
// RedisRevocations.CheckOn) and hands the answer to Admit. It returns
// ErrTokenInvalid or ErrTokenExpired.
func (s *Service) VerifyToken(accessToken string) (*Principal, error) {
	return s.tokens.Verify(accessToken)
}

// Admit applies a revocation check's answer (err: the check failed) to a
// verified token's caller, as Authenticate does. It returns
// ErrSessionRevoked.
func (s *Service) Admit(ctx context.Context, p *Principal, revoked bool, mergedInto string, err error) (*Principal, error) {
	switch {
	case err != nil:
		// Redis down: the token stays valid until it expires (at most
		// AccessTTL), and a merged person's token acts for that person's
		// id, which look-ups follow to the survivor; the merge's late
		// sweep moves what is written under it meanwhile.
		s.log.Warn("revocation check unavailable", "err", err)
	case revoked:
		return nil, ErrSessionRevoked
	case mergedInto != "":
		p.UserID = s.survivorOf(ctx, p.SessionID, mergedInto)
	}
	return p, nil
}

// survivorOf follows merge aliases from id (a survivor merged again within
// a token's lifetime); on a Redis error it stops where it is.
func (s *Service) survivorOf(ctx context.Context, sessionID, id string) string {
	if s.revoked == nil {
		return id
	}
	for range maxMergeChain {
		_, next, err := s.revoked.Check(ctx, sessionID, id)
		if err != nil || next == "" {
			return id
		}
		id = next
	}
	return id
}

// Me returns the caller's user record (the survivor's, for a merged
// person). Returns ErrUserNotFound if the user is gone.
func (s *Service) Me(ctx context.Context, p *Principal) (*User, error) {
	return s.person(ctx, p.UserID)
}

// Person returns the user userID names, following merges to the survivor.
// Returns ErrUserNotFound.
func (s *Service) Person(ctx context.Context, userID string) (*User, error) {
	return s.person(ctx, userID)
}

// maxMergeChain bounds how many merges a look-up follows.
const maxMergeChain = 8

// person reads the user id names, following merges: a merged person's id
// keeps working and leads to the survivor.
func (s *Service) person(ctx context.Context, id string) (*User, error) {
	for range maxMergeChain {
		u, err := s.users.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if u.MergedInto == "" {
			return u, nil
		}
		id = u.MergedInto
	}
	return nil, fmt.Errorf("identity: merges of %s go on for more than %d persons", id, maxMergeChain)
}

// startSession opens a new session family for u, signed in with the login
// of public id login ("" for staff), and issues its first tokens.
func (s *Service) startSession(ctx context.Context, u *User, login string) (*Session, error) {
	now := s.clock()
	fam := &SessionFamily{ID: newID("sf_"), UserID: u.ID, Login: login, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	if err := s.sessions.CreateFamily(ctx, fam); err != nil {
		return nil, err
	}
	if err := s.users.TouchLogin(ctx, u.ID, now); err != nil {
		s.log.Warn("record login time failed", "err", err)
	}
	return s.issue(ctx, u, fam)
}

func (s *Service) issue(ctx context.Context, u *User, fam *SessionFamily) (*Session, error) {
	now := s.clock()
	token, hash := newOpaqueToken()
	exp := now.Add(s.cfg.RefreshTTL)
	if exp.After(fam.ExpiresAt) {
		// A family never outlives its first login's refresh lifetime.
		exp = fam.ExpiresAt
	}
	if err := s.sessions.InsertRefresh(ctx, &RefreshToken{Hash: hash, FamilyID: fam.ID, UserID: u.ID, CreatedAt: now, ExpiresAt: exp}); err != nil {
		return nil, err
	}
	access, err := s.tokens.Issue(u, fam.ID)
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: access, RefreshToken: token, ExpiresIn: s.tokens.Lifetime(), User: u}, nil
}

// Refresh rotates a refresh token: the old one is spent and a new pair is
// issued in the same family. Presenting a spent token again means it was
// stolen or replayed, so the whole family is revoked. Returns
// ErrRefreshInvalid, ErrRefreshExpired or ErrRefreshReused.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*Session, error) {
	if refreshToken == "" || len(refreshToken) > 128 {
		return nil, ErrRefreshInvalid
	}
	now := s.clock()
	t, err := s.sessions.UseRefresh(ctx, hashToken(refreshToken), now)
	if err != nil {
		if errors.Is(err, ErrRefreshReused) && t != nil && !s.concurrentCopy(t, now) {
			if rerr := s.revokeFamily(ctx, t.FamilyID, "refresh_token_reused"); rerr != nil {
				return nil, rerr
			}
			s.log.Warn("refresh token reused; session family revoked", "family", t.FamilyID, "user_id", t.UserID)
		}
		return nil, err
	}
	if now.After(t.ExpiresAt) {
		return nil, ErrRefreshExpired
	}
	fam, err := s.sessions.Family(ctx, t.FamilyID)
	if err != nil {
		return nil, err
	}
	if fam.RevokedAt != nil {
		return nil, ErrSessionRevoked
	}
	// A merged person's refresh tokens go on for the survivor.
	u, err := s.person(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, fam)
}

// concurrentCopy reports whether a spent token came back within the grace
// of its use (see Config.RefreshReuseGrace).
func (s *Service) concurrentCopy(t *RefreshToken, now time.Time) bool {
	return t.UsedAt != nil && now.Sub(*t.UsedAt) < s.cfg.RefreshReuseGrace
}

// Logout ends the caller's session: its refresh tokens stop working at once
// and its access tokens are refused from now on.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.revokeFamily(ctx, p.SessionID, "logout")
}

func (s *Service) revokeFamily(ctx context.Context, familyID, reason string) error {
	if err := s.sessions.RevokeFamily(ctx, familyID, reason, s.clock()); err != nil {
		return err
	}
	if s.revoked != nil {
		if err := s.revoked.Revoke(ctx, familyID, s.tokens.Lifetime()+time.Minute); err != nil {
			s.log.Warn("revocation marker not written; access tokens expire on their own", "err", err)
		}
	}
	return nil
}

// PurgeExpired deletes expired refresh tokens and families; run periodically.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	return s.sessions.PurgeExpired(ctx, s.clock())
}
