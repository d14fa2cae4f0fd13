package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"time"

	"zwfw/apperr"
	"zwfw/pii"
)

var (
	shanghai   = mustLoadLocation("Asia/Shanghai")
	sixDigits  = regexp.MustCompile(`^[0-9]{6}$`)
	maxRetries = 4
)

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Asia/Shanghai has no DST; a fixed zone is exact.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

func (s *Service) smsCodeID(phone string) string {
	return "login:" + s.pii.Index("phone", phone)
}

func (s *Service) codeHash(phone, code string) string {
	// Keyed (blind-index key), so a database reader cannot brute-force codes offline.
	return s.pii.Index("sms_code", phone+":"+code)
}

// SendLoginCode sends a 6-digit login code to phone. At most one send a
// minute and SMSDailyLimit a day per phone, counted in MongoDB so that they
// hold across replicas and survive a Redis flush. Returns ErrPhoneInvalid,
// ErrSMSTooFrequent (with retry_after seconds), ErrSMSDailyLimit or ErrSMSUnavailable.
func (s *Service) SendLoginCode(ctx context.Context, phone string) error {
	if pii.ValidatePhone(phone) != nil {
		return ErrPhoneInvalid
	}
	id := s.smsCodeID(phone)
	for attempt := 0; ; attempt++ {
		cur, err := s.codes.SMSCode(ctx, id)
		if err != nil {
			return err
		}
		now := s.clock()
		today := now.In(shanghai).Format("2006-01-02")
		next := SMSCode{ID: id, Day: today, DayCount: 1, Version: 1}
		var prevVersion int64
		if cur != nil {
			if wait := cur.SentAt.Add(s.cfg.SMSResendAfter).Sub(now); wait > 0 {
				return ErrSMSTooFrequent.WithDetail("retry_after", int(wait.Seconds())+1)
			}
			if cur.Day == today {
				if cur.DayCount >= s.cfg.SMSDailyLimit {
					return ErrSMSDailyLimit
				}
				next.DayCount = cur.DayCount + 1
			}
			prevVersion = cur.Version
			next.Version = cur.Version + 1
		}
		code := randomCode()
		next.CodeHash = s.codeHash(phone, code)
		next.ExpiresAt = now.Add(s.cfg.SMSCodeTTL)
		next.SentAt = now
		if err := s.codes.PutSMSCode(ctx, &next, prevVersion); err != nil {
			if errors.Is(err, apperr.Conflict) {
				if attempt < maxRetries {
					continue
				}
				return ErrSMSTooFrequent.WithDetail("retry_after", int(s.cfg.SMSResendAfter.Seconds()))
			}
			return err
		}
		if err := s.sms.SendLoginCode(ctx, phone, code); err != nil {
			// Not sent: give the quota back so the citizen can try again at once.
			undo := next
			undo.Version = next.Version + 1
			undo.CodeHash = ""
			undo.Consumed = true
			if cur != nil {
				undo.SentAt, undo.DayCount, undo.Day = cur.SentAt, cur.DayCount, cur.Day
			} else {
				undo.SentAt, undo.DayCount = time.Time{}, 0
			}
			if uerr := s.codes.PutSMSCode(ctx, &undo, next.Version); uerr != nil {
				s.log.Warn("sms quota not restored after failed send", "err", uerr)
			}
			return err
		}
		return nil
	}
}

func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// LoginSMS logs an app user in with the code sent to phone; the phone's
// person (whichever login created it or linked the phone), or a new citizen
// for a new phone. Each wrong code counts against SMSMaxTries, and a
// right code works once. Returns ErrPhoneInvalid, ErrSMSCodeFormat,
// ErrSMSCodeInvalid, ErrSMSCodeExpired or ErrSMSCodeExhausted.
func (s *Service) LoginSMS(ctx context.Context, phone, code string) (*Session, error) {
	if pii.ValidatePhone(phone) != nil {
		return nil, ErrPhoneInvalid
	}
	if !sixDigits.MatchString(code) {
		return nil, ErrSMSCodeFormat
	}
	if err := s.checkCode(ctx, phone, code); err != nil {
		return nil, err
	}
	now := s.clock()
	ref, err := s.phoneLogin(phone, ViaLogin, now)
	if err != nil {
		return nil, err
	}
	candidate := &User{ID: newID("u_"), Kind: KindPublic, Roles: []Role{RoleCitizen}, CreatedAt: now, UpdatedAt: now, Version: 1}
	candidate.addLogin(ref)
	u, err := s.enter(ctx, ref, candidate)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, u, ref.ID())
}

func (s *Service) checkCode(ctx context.Context, phone, code string) error {
	id := s.smsCodeID(phone)
	for attempt := 0; ; attempt++ {
		cur, err := s.codes.SMSCode(ctx, id)
		if err != nil {
			return err
		}
		if cur == nil || cur.Consumed || cur.CodeHash == "" {
			return ErrSMSCodeInvalid
		}
		now := s.clock()
		if !now.Before(cur.ExpiresAt) {
			return ErrSMSCodeExpired
		}
		if cur.Tries >= s.cfg.SMSMaxTries {
			return ErrSMSCodeExhausted
		}
		ok := subtle.ConstantTimeCompare([]byte(cur.CodeHash), []byte(s.codeHash(phone, code))) == 1
		next := *cur
		next.Version = cur.Version + 1
		if ok {
			next.Consumed = true
		} else {
			next.Tries++
		}
		// Guarded by version: concurrent guesses each count, and a code logs in once.
		if err := s.codes.PutSMSCode(ctx, &next, cur.Version); err != nil {
			if errors.Is(err, apperr.Conflict) && attempt < maxRetries {
				continue
			}
			return err
		}
		if !ok {
			if next.Tries >= s.cfg.SMSMaxTries {
				return ErrSMSCodeExhausted
			}
			return ErrSMSCodeInvalid.WithDetail("tries_left", s.cfg.SMSMaxTries-next.Tries)
		}
		return nil
	}
}
