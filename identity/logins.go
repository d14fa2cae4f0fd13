package identity

import (
	"context"
	"errors"
	"strings"

	"zwfw/apperr"
	"zwfw/pii"
)

// WeChatPhone exchanges the code of the mini-program's getPhoneNumber
// button for the phone WeChat verified. It returns ErrLoginProof (wrapped)
// for a bad or used code and ErrWeChatUnavailable when WeChat cannot be reached.
type WeChatPhone interface {
	PhoneNumber(ctx context.Context, code string) (countryCode, phone string, err error)
}

// LinkResult is what linking a login did.
type LinkResult struct {
	User *User
	// Merge is the merge the link started when the login belonged to
	// another person (nil when none was needed). It may still be running.
	Merge *Merge
}

// enter finds the person a signing-in login leads to, creating candidate
// for a new login. It finishes what a crash left: a key whose unlink was
// committed belongs to nobody (the login is new again), and a key bound but
// not yet listed on its person is listed.
func (s *Service) enter(ctx context.Context, ref Login, candidate *User) (*User, error) {
	for attempt := 0; ; attempt++ {
		u, created, err := s.users.EnsureUserForKey(ctx, ref.primaryKey(), candidate)
		if err != nil {
			return nil, err
		}
		if ref.UnionKey != "" {
			// The openid key leads to the unionid's person too (for a login
			// of another app of the platform, the openid is new).
			if _, err := s.users.BindKey(ctx, ref.Key, u.ID); err != nil {
				return nil, err
			}
		}
		if created {
			return u, nil
		}
		p, err := s.person(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if p.Kind != KindPublic || p.HasLogin(ref.primaryKey()) {
			return p, nil
		}
		k, err := s.logins.LoginKey(ctx, ref.primaryKey())
		if err != nil {
			return nil, err
		}
		if k != nil && k.Unlinking && attempt < maxRetries {
			// Unlinked, and a crash left the key: finish the unlink; the login is new.
			for _, key := range ref.keys() {
				if err := s.logins.DeleteKey(ctx, key, k.UserID); err != nil {
					return nil, err
				}
			}
			candidate.ID = newID("u_")
			continue
		}
		// Bound but not listed: a crash between binding and listing, a
		// person from before logins were listed, or a merge still moving
		// logins. It is this person's: list it.
		return s.updateUser(ctx, p.ID, func(u *User) error { u.addLogin(ref); return nil })
	}
}

// keyHolder returns the person key leads to (nil when it is free),
// finishing an unlink a crash interrupted.
func (s *Service) keyHolder(ctx context.Context, key string) (*User, error) {
	k, err := s.logins.LoginKey(ctx, key)
	if err != nil || k == nil {
		return nil, err
	}
	u, err := s.person(ctx, k.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return nil, nil // a crash between claiming a key and creating its user: the key is void
	}
	if err != nil {
		return nil, err
	}
	if k.Unlinking && !u.HasLogin(key) {
		return nil, s.logins.DeleteKey(ctx, key, k.UserID)
	}
	return u, nil
}

// listedPerson reads the caller's person, listing its logins first if it
// is a person from before logins were listed (its keys say which).
func (s *Service) listedPerson(ctx context.Context, userID string) (*User, error) {
	u, err := s.person(ctx, userID)
	if err != nil || u.Kind != KindPublic || len(u.Logins) > 0 {
		return u, err
	}
	keys, err := s.logins.KeysOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	refs := legacyLogins(u, keys)
	if len(refs) == 0 {
		return u, nil
	}
	return s.updateUser(ctx, u.ID, func(u *User) error {
		for _, l := range refs {
			u.addLogin(l)
		}
		return nil
	})
}

// legacyLogins rebuilds the logins of a person from its keys: an openid key
// (with the person's unionid key, if any) and a phone key.
func legacyLogins(u *User, keys []LoginKey) []Login {
	var out []Login
	union := ""
	for _, k := range keys {
		if strings.HasPrefix(k.ID, "wxu:") {
			union = k.ID
		}
	}
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k.ID, "wx:"):
			out = append(out, Login{Key: k.ID, UnionKey: union, Kind: LoginWeChat, Masked: maskOpenID(openIDOf(k.ID)),
				Via: ViaLogin, LinkedAt: u.CreatedAt})
		case strings.HasPrefix(k.ID, "phone:") && k.ID == phoneKey(u.PhoneIndex):
			out = append(out, Login{Key: k.ID, Kind: LoginPhone, Masked: u.PhoneMasked, PhoneEnc: u.PhoneEnc,
				Via: ViaLogin, LinkedAt: u.CreatedAt})
		}
	}
	return out
}

// Logins returns the caller's person with its logins, and the merges it
// took part in (newest first). Returns ErrUserNotFound.
func (s *Service) Logins(ctx context.Context, p *Principal) (*User, []Merge, error) {
	u, err := s.listedPerson(ctx, p.UserID)
	if err != nil {
		return nil, nil, err
	}
	merges, err := s.merges.MergesOf(ctx, u.ID, 10)
	if err != nil {
		return nil, nil, err
	}
	return u, merges, nil
}

// SessionLogin returns the public id of the login the caller's session was
// opened with ("" when unknown).
func (s *Service) SessionLogin(ctx context.Context, p *Principal) string {
	fam, err := s.sessions.Family(ctx, p.SessionID)
	if err != nil {
		return ""
	}
	return fam.Login
}

// LinkWeChatPhone binds the phone WeChat verified behind a getPhoneNumber
// code to the caller's person (the mini-program's login). When an app
// account (an SMS login) already holds that phone, the two become one
// person: the caller's. Returns LOGIN_PROOF_INVALID for a bad or used code,
// AUTH_PHONE_NOT_MAINLAND, AUTH_WECHAT_UNAVAILABLE, and the codes of link.
func (s *Service) LinkWeChatPhone(ctx context.Context, p *Principal, code string) (*LinkResult, error) {
	if code == "" || len(code) > 128 {
		return nil, ErrLoginProof.WithFields(apperr.Field("code", "INVALID", "请重新点击获取手机号"))
	}
	if s.wxPhone == nil {
		return nil, ErrWeChatUnavailable
	}
	country, phone, err := s.wxPhone.PhoneNumber(ctx, code)
	if err != nil {
		return nil, err
	}
	if strings.TrimPrefix(country, "+") != "86" {
		return nil, ErrPhoneNotMainland
	}
	if pii.ValidatePhone(phone) != nil {
		return nil, ErrPhoneInvalid
	}
	ref, err := s.phoneLogin(phone, ViaWeChatPhone, s.clock())
	if err != nil {
		return nil, err
	}
	return s.link(ctx, p, ref)
}

// LinkSMS links the phone whose login code (sent by POST /auth/sms/send)
// the caller entered. Returns AUTH_PHONE_INVALID, AUTH_SMS_CODE_FORMAT,
// LOGIN_PROOF_INVALID (with the reason: wrong, expired or used code),
// AUTH_SMS_CODE_TOO_MANY_TRIES and the codes of link.
func (s *Service) LinkSMS(ctx context.Context, p *Principal, phone, code string) (*LinkResult, error) {
	if pii.ValidatePhone(phone) != nil {
		return nil, ErrPhoneInvalid
	}
	if !sixDigits.MatchString(code) {
		return nil, ErrSMSCodeFormat
	}
	if err := s.checkCode(ctx, phone, code); err != nil {
		return nil, proofError(err)
	}
	ref, err := s.phoneLogin(phone, ViaSMS, s.clock())
	if err != nil {
		return nil, err
	}
	return s.link(ctx, p, ref)
}

// LinkWeChat links the WeChat user whose wx.login code the caller sent
// (the mini-program signed in to the app's person, or another WeChat).
// Returns LOGIN_PROOF_INVALID, AUTH_WECHAT_UNAVAILABLE and the codes of link.
func (s *Service) LinkWeChat(ctx context.Context, p *Principal, code string) (*LinkResult, error) {
	if code == "" || len(code) > 128 {
		return nil, ErrLoginProof.WithFields(apperr.Field("code", "INVALID", "请重新授权微信登录"))
	}
	wx, err := s.wechat.Code2Session(ctx, code)
	if err != nil {
		return nil, proofError(err)
	}
	return s.link(ctx, p, wechatLogin(wx, ViaWeChat, s.clock()))
}

// proofError turns a failed challenge into LOGIN_PROOF_INVALID (a 400, so a
// client does not take it for its own session failing), keeping the reason
// and its message; other errors (too many tries, an outage) pass.
func proofError(err error) error {
	e := apperr.From(err)
	if e.Kind != apperr.KindUnauthorized {
		return err
	}
	return ErrLoginProof.WithMessage(e.Message).WithDetail("reason", e.Code).WithCause(err)
}

// link binds the proven login ref to the caller's person. A login of
// nobody is bound at once; a login of the caller again is harmless; a login
// of another person starts a merge of that person into the caller's (a job:
// see merge.go) and waits for it a little. Returns LOGIN_LINK_NOT_ALLOWED
// for staff, ACCOUNT_MERGE_IN_PROGRESS while either person is in another
// merge, and LOGIN_LINK_OTHER_PERSON when the two persons are verified as
// different people.
func (s *Service) link(ctx context.Context, p *Principal, ref Login) (*LinkResult, error) {
	for attempt := 0; ; attempt++ {
		me, err := s.listedPerson(ctx, p.UserID)
		if err != nil {
			return nil, err
		}
		if me.Kind != KindPublic {
			return nil, ErrLinkNotPublic
		}
		if me.MergeLock != "" {
			return nil, ErrMergeInProgress
		}
		holder, err := s.keyHolder(ctx, ref.primaryKey())
		if err != nil {
			return nil, err
		}
		if holder == nil {
			got, err := s.users.BindKey(ctx, ref.primaryKey(), me.ID)
			if err != nil {
				return nil, err
			}
			if got != me.ID && attempt < maxRetries {
				continue // bound to someone else meanwhile: look again
			}
			holder = &User{ID: got}
		}
		if holder.ID == me.ID {
			if ref.UnionKey != "" {
				if _, err := s.users.BindKey(ctx, ref.Key, me.ID); err != nil {
					return nil, err
				}
			}
			u, err := s.updateUser(ctx, me.ID, func(u *User) error {
				if u.MergeLock != "" {
					return ErrMergeInProgress
				}
				u.addLogin(ref)
				return nil
			})
			if err != nil {
				return nil, err
			}
			s.log.Info("login linked", "user_id", u.ID, "login", ref.ID(), "kind", ref.Kind, "via", ref.Via)
			return &LinkResult{User: u}, nil
		}
		if holder, err = s.person(ctx, holder.ID); err != nil {
			return nil, err
		}
		if err := mergeable(me, holder); err != nil {
			return nil, err
		}
		m, err := s.startMerge(ctx, p, me, holder, ref)
		if err != nil {
			return nil, err
		}
		if m.State == MergeRefused {
			// Something changed between the check above and the job: the job's reason.
			if e, ok := apperr.Lookup(m.Refusal); ok {
				return nil, e
			}
			return nil, ErrMergeInProgress.WithDetail("merge", m.ID)
		}
		u, err := s.person(ctx, me.ID)
		if err != nil {
			return nil, err
		}
		return &LinkResult{User: u, Merge: m}, nil
	}
}

// Unlink removes one of the caller's logins, keeping at least one, and ends
// the sessions opened with it. The login the caller's own session was
// opened with cannot be unlinked from that session. Returns
// LOGIN_NOT_FOUND, LOGIN_IN_USE, LOGIN_LAST_ONE and ACCOUNT_MERGE_IN_PROGRESS.
func (s *Service) Unlink(ctx context.Context, p *Principal, loginID string) (*User, error) {
	me, err := s.listedPerson(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	ref, ok := me.LoginByID(loginID)
	if !ok {
		return nil, ErrLoginNotFound
	}
	if me.MergeLock != "" {
		return nil, ErrMergeInProgress
	}
	if len(me.Logins) < 2 {
		return nil, ErrLastLogin
	}
	if s.SessionLogin(ctx, p) == loginID {
		return nil, ErrLoginInUse
	}
	// Flag the keys first: if a crash follows the person's write below, the
	// next use of a flagged key sees the login gone and retires the key.
	for _, k := range ref.keys() {
		if err := s.logins.SetUnlinking(ctx, k, me.ID, true); err != nil {
			return nil, err
		}
	}
	// The person's write decides, guarded by its version: of two unlinks
	// racing for the last two logins, the second sees one left.
	u, err := s.updateUser(ctx, me.ID, func(u *User) error {
		switch {
		case u.MergeLock != "":
			return ErrMergeInProgress
		case !u.HasLogin(ref.Key):
			return ErrLoginNotFound
		case len(u.Logins) < 2:
			return ErrLastLogin
		}
		u.removeLogin(ref.Key)
		return nil
	})
	if err != nil {
		for _, k := range ref.keys() {
			if uerr := s.logins.SetUnlinking(ctx, k, me.ID, false); uerr != nil {
				s.log.Warn("unlinking flag not cleared; the login still works while listed", "err", uerr)
			}
		}
		return nil, err
	}
	for _, k := range ref.keys() {
		if err := s.logins.DeleteKey(ctx, k, me.ID); err != nil {
			return nil, err
		}
	}
	fams, err := s.sessions.LoginFamilies(ctx, me.ID, loginID)
	if err != nil {
		return nil, err
	}
	for _, f := range fams {
		if err := s.revokeFamily(ctx, f, "login_unlinked"); err != nil {
			return nil, err
		}
	}
	s.log.Info("login unlinked", "user_id", me.ID, "login", loginID, "kind", ref.Kind, "sessions_ended", len(fams))
	return u, nil
}
