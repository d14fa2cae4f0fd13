package identity

import (
	"context"
	"time"

	"zwfw/apperr"
)

// ErrRealNameHeldByOther refuses to verify a second person as an ID number:
// the person verified as it has other logins, which is where the caller
// should sign in (or which the caller can link, proving they hold them).
var ErrRealNameHeldByOther = apperr.New(apperr.KindConflict, "REALNAME_HELD_BY_OTHER_ACCOUNT",
	"该身份证号码已在另一个账号完成实名认证，请使用该账号登录，或在“登录方式”中关联该账号的手机号或微信")

// staleClaim is how long a claim whose holder never finished verifying
// (a crash between claiming and saving) keeps others out.
const staleClaim = 2 * time.Minute

// heldByOther is ErrRealNameHeldByOther naming the kinds of login the
// holder has (not which ones: the caller has only typed a name and number).
func heldByOther(holder *User) error {
	kinds := []string{}
	seen := map[LoginKind]bool{}
	for _, l := range holder.Logins {
		if !seen[l.Kind] {
			seen[l.Kind] = true
			kinds = append(kinds, string(l.Kind))
		}
	}
	return ErrRealNameHeldByOther.WithDetail("holder_logins", kinds)
}

// otherHolder returns the person other than me verified as bidx, if any
// (a look-up: claimIdentity decides).
func (s *Service) otherHolder(ctx context.Context, me *User, bidx string) (*User, error) {
	id, err := s.claims.IdentityHolder(ctx, bidx)
	if err != nil || id == "" {
		return nil, err
	}
	h, err := s.person(ctx, id)
	if err != nil || h.ID == me.ID || !h.RealNameVerified || h.IDNumberIndex != bidx {
		return nil, err
	}
	return h, nil
}

// claimIdentity makes me the one person verified as bidx, atomically (one
// claim document per ID number). Returns REALNAME_HELD_BY_OTHER_ACCOUNT
// when another person holds it.
func (s *Service) claimIdentity(ctx context.Context, me *User, bidx string) error {
	for attempt := 0; ; attempt++ {
		now := s.clock()
		holderID, claimedAt, err := s.claims.ClaimIdentity(ctx, bidx, me.ID, now)
		if err != nil {
			return err
		}
		if holderID == me.ID {
			return nil
		}
		holder, err := s.person(ctx, holderID)
		if err != nil {
			return err
		}
		switch {
		case holder.ID == me.ID: // the holder was merged into me
			return s.claims.MoveClaim(ctx, bidx, holderID, me.ID, now)
		case holder.RealNameVerified && holder.IDNumberIndex == bidx:
			return heldByOther(holder)
		case now.Sub(claimedAt) < staleClaim || attempt >= maxRetries:
			// Claimed just now by someone whose verification is under way.
			return heldByOther(holder)
		}
		// The holder claimed and never finished: the claim is void; take it
		// over (guarded by who holds it) and look again.
		if err := s.claims.MoveClaim(ctx, bidx, holderID, me.ID, now); err != nil {
			return err
		}
	}
}
