package identity

import (
	"context"
	"regexp"
	"strings"
	"time"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

func staffKey(username string) string { return "staff:" + strings.ToLower(username) }

// LoginStaff logs hall staff, hotline operators and admins in with a
// password. After StaffLockThreshold wrong passwords the account is locked
// for StaffLockFor. Returns ErrStaffCredentials or ErrStaffLocked (with locked_until).
func (s *Service) LoginStaff(ctx context.Context, username, password string) (*Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if !usernamePattern.MatchString(username) || password == "" || len(password) > 256 {
		VerifyPassword(dummyHash, password)
		return nil, ErrStaffCredentials
	}
	cred, err := s.staff.StaffCredential(ctx, staffKey(username))
	if err != nil {
		return nil, err
	}
	if cred == nil {
		VerifyPassword(dummyHash, password)
		return nil, ErrStaffCredentials
	}
	now := s.clock()
	if cred.LockedUntil != nil && now.Before(*cred.LockedUntil) {
		return nil, lockedError(*cred.LockedUntil)
	}
	if !VerifyPassword(cred.PasswordHash, password) {
		after, err := s.staff.RecordStaffFailure(ctx, cred.ID, s.cfg.StaffLockThreshold, s.cfg.StaffLockFor, now)
		if err != nil {
			return nil, err
		}
		if after.LockedUntil != nil && now.Before(*after.LockedUntil) {
			s.log.Warn("staff account locked after failed logins", "username", username)
			return nil, lockedError(*after.LockedUntil)
		}
		return nil, ErrStaffCredentials
	}
	if cred.FailedCount > 0 || cred.LockedUntil != nil {
		if err := s.staff.ResetStaffFailures(ctx, cred.ID, now); err != nil {
			return nil, err
		}
	}
	u, err := s.users.UserByID(ctx, cred.UserID)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, u, "")
}

func lockedError(until time.Time) error {
	return ErrStaffLocked.WithDetail("locked_until", until.In(shanghai).Format(time.RFC3339))
}

// CreateStaff creates a government-side account (admin tooling and demo
// seeding call it). Returns ErrStaffUsernameUsed or ErrWeakPassword.
func (s *Service) CreateStaff(ctx context.Context, username, displayName, password string, roles []Role) (*User, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if !usernamePattern.MatchString(username) {
		return nil, ErrStaffCredentials.WithMessage("用户名须为3-32位小写字母、数字或 . _ -")
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return nil, err
	}
	for _, r := range roles {
		if !r.Valid() || r == RoleCitizen || r == RoleBusiness {
			return nil, ErrForbidden.WithMessage("工作人员账号只能授予 hotline、staff、admin 角色")
		}
	}
	now := s.clock()
	candidate := &User{ID: newID("s_"), Kind: KindStaff, Roles: roles, DisplayName: displayName, Username: username,
		RealNameVerified: true, CreatedAt: now, UpdatedAt: now, Version: 1}
	u, created, err := s.users.EnsureUserForKey(ctx, staffKey(username), candidate)
	if err != nil {
		return nil, err
	}
	if !created {
		// The key exists. If its credential is missing too, an earlier call
		// crashed between the two writes: finish it instead of refusing.
		cred, err := s.staff.StaffCredential(ctx, staffKey(username))
		if err != nil {
			return nil, err
		}
		if cred != nil {
			return nil, ErrStaffUsernameUsed
		}
	}
	err = s.staff.CreateStaffCredential(ctx, &StaffCredential{ID: staffKey(username), UserID: u.ID,
		PasswordHash: HashPassword(password), UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// AssignHalls sets the service halls a staff member works at (hall staff
// check citizens in only there). Admin tooling and the demo seed call it.
// Returns USER_NOT_FOUND, or AUTH_FORBIDDEN for a public user.
func (s *Service) AssignHalls(ctx context.Context, userID string, halls []string) (*User, error) {
	return s.updateUser(ctx, userID, func(u *User) error {
		if u.Kind != KindStaff {
			return ErrForbidden.WithMessage("只有工作人员账号可以分配服务大厅")
		}
		u.Halls = append([]string(nil), halls...)
		return nil
	})
}

// StaffByUsername returns a staff account by its username. Returns USER_NOT_FOUND.
func (s *Service) StaffByUsername(ctx context.Context, username string) (*User, error) {
	cred, err := s.staff.StaffCredential(ctx, staffKey(strings.ToLower(strings.TrimSpace(username))))
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, ErrUserNotFound
	}
	return s.users.UserByID(ctx, cred.UserID)
}
