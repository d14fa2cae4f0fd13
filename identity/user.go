// Package identity owns who a caller is: users (citizens, businesses and
// staff), how they log in (WeChat mini-program, SMS code, staff password),
// their sessions (short-lived access tokens and rotating refresh tokens) and
// their roles.
package identity

import (
	"slices"
	"time"
)

// Role is what a user may do. A citizen or business sees only its own
// records; hotline, staff, supervisor and admin are government-side roles.
type Role string

// The roles of zwfw.
const (
	RoleCitizen  Role = "citizen"
	RoleBusiness Role = "business"
	RoleHotline  Role = "hotline"
	RoleStaff    Role = "staff"
	RoleAdmin    Role = "admin"
	// RoleSupervisor oversees time limits, 好差评 rectifications, money and
	// reminders (电子监察) without the admin's power over configuration.
	RoleSupervisor Role = "supervisor"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleCitizen, RoleBusiness, RoleHotline, RoleStaff, RoleAdmin, RoleSupervisor:
		return true
	}
	return false
}

// Kind tells public users (who log in by WeChat or SMS) from government staff.
type Kind string

// The kinds of user.
const (
	KindPublic Kind = "public"
	KindStaff  Kind = "staff"
)

// User is one account. Personal data (the phone) is stored encrypted with a
// blind index for look-up and a masked copy for display.
type User struct {
	ID               string `bson:"_id"`
	Kind             Kind   `bson:"kind"`
	Roles            []Role `bson:"roles"`
	DisplayName      string `bson:"display_name,omitempty"`
	WeChatOpenID     string `bson:"wechat_openid,omitempty"`
	WeChatUnionID    string `bson:"wechat_unionid,omitempty"`
	PhoneEnc         string `bson:"phone_enc,omitempty"`
	PhoneIndex       string `bson:"phone_bidx,omitempty"`
	PhoneMasked      string `bson:"phone_masked,omitempty"`
	Username         string `bson:"username,omitempty"`
	RealNameVerified bool   `bson:"real_name_verified"`
	// Real-name data, set by VerifyRealName: encrypted, indexed and masked.
	NameEnc            string     `bson:"name_enc,omitempty"`
	NameMasked         string     `bson:"name_masked,omitempty"`
	IDNumberEnc        string     `bson:"id_number_enc,omitempty"`
	IDNumberIndex      string     `bson:"id_number_bidx,omitempty"`
	IDNumberMasked     string     `bson:"id_number_masked,omitempty"`
	RealNameVerifiedAt *time.Time `bson:"real_name_verified_at,omitempty"`
	RealNameVerifyID   string     `bson:"real_name_verify_id,omitempty"`
	// Companies the user may act for (business role).
	Companies []Company `bson:"companies,omitempty"`
	// Halls a staff member works at (hall staff check citizens in only there).
	Halls []string `bson:"halls,omitempty"`
	// Logins are the ways a public user (a person) signs in; the truth for
	// "which logins a person holds" (user_keys only leads a key to its person).
	Logins []Login `bson:"logins,omitempty"`
	// MergedInto is set on a person merged into another: every look-up of
	// this id follows it to the survivor.
	MergedInto string `bson:"merged_into,omitempty"`
	// MergeLock names the merge this person takes part in; no other merge,
	// link or unlink touches the person meanwhile.
	MergeLock   string    `bson:"merge_lock,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
	UpdatedAt   time.Time `bson:"updated_at"`
	LastLoginAt time.Time `bson:"last_login_at,omitempty"`
	Version     int64     `bson:"version"`
}

// Company is a business the user is bound to as its legal representative or agent.
type Company struct {
	USCC    string    `bson:"uscc"`
	Name    string    `bson:"name"`
	Role    string    `bson:"role"` // legal_representative | agent
	BoundAt time.Time `bson:"bound_at"`
}

// HasRole reports whether the user holds role r.
func (u *User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// Principal is the authenticated caller of one request, read from its access token.
type Principal struct {
	UserID    string
	Kind      Kind
	Roles     []Role
	SessionID string
}

// HasAnyRole reports whether the caller holds at least one of roles.
func (p *Principal) HasAnyRole(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// Session is what a successful login or refresh returns to the client.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	User         *User
}
