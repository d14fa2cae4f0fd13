package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"zwfw/pii"
)

// LoginKind is a way a person signs in.
type LoginKind string

// The kinds of login of a public user.
const (
	LoginWeChat LoginKind = "wechat" // the mini-program: openid (and unionid when WeChat gives one)
	LoginPhone  LoginKind = "phone"  // the app: a code sent by SMS
)

// How a login came to its person; recorded on the login for the audit.
const (
	ViaLogin       = "login"        // created by signing in with it
	ViaWeChatPhone = "wechat_phone" // the phone WeChat verified (getPhoneNumber), bound while signed in
	ViaSMS         = "sms"          // a code sent to the phone, entered while signed in
	ViaWeChat      = "wechat"       // a wx.login code, sent while signed in
	ViaMerge       = "merge"        // came with a person merged into this one
)

// Login is one way a person signs in. Its key is the _id of the user_keys
// document that leads the login to its person; a WeChat login with a
// unionid has a second key (UnionKey) that leads there too.
type Login struct {
	Key      string    `bson:"key"` // wx:<appid>:<openid> or phone:<blind index>
	UnionKey string    `bson:"union_key,omitempty"`
	Kind     LoginKind `bson:"kind"`
	Masked   string    `bson:"masked"`              // 138****8000, or the openid shortened
	PhoneEnc string    `bson:"phone_enc,omitempty"` // the phone, SM4-encrypted
	Via      string    `bson:"via"`
	LinkedAt time.Time `bson:"linked_at"`
}

// ID is the login's public id, a digest of its key (the key itself names a
// blind index or an openid, which clients need not see).
func (l Login) ID() string { return loginID(l.Key) }

func loginID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "lg_" + hex.EncodeToString(sum[:8])
}

// keys are the user_keys ids of the login, the deciding one first.
func (l Login) keys() []string {
	if l.UnionKey != "" {
		return []string{l.UnionKey, l.Key}
	}
	return []string{l.Key}
}

// primaryKey is the key that decides which person the login leads to: the
// unionid when there is one (one person across the platform's apps).
func (l Login) primaryKey() string { return l.keys()[0] }

func wechatKey(appID, openID string) string { return "wx:" + appID + ":" + openID }
func unionKey(unionID string) string        { return "wxu:" + unionID }
func phoneKey(bidx string) string           { return "phone:" + bidx }

// openIDOf is the openid in a wx:<appid>:<openid> key.
func openIDOf(key string) string { return key[strings.LastIndexByte(key, ':')+1:] }

// unionIDOf is the unionid in a wxu:<unionid> key ("" for none).
func unionIDOf(key string) string { return strings.TrimPrefix(key, "wxu:") }

// maskOpenID shows an openid as o4****AbCd.
func maskOpenID(openID string) string {
	if len(openID) <= 6 {
		return "****"
	}
	return openID[:2] + "****" + openID[len(openID)-4:]
}

// wechatLogin is the login of a WeChat identity.
func wechatLogin(wx WeChatIdentity, via string, at time.Time) Login {
	l := Login{Key: wechatKey(wx.AppID, wx.OpenID), Kind: LoginWeChat, Masked: maskOpenID(wx.OpenID), Via: via, LinkedAt: at}
	if wx.UnionID != "" {
		l.UnionKey = unionKey(wx.UnionID)
	}
	return l
}

// phoneLogin is the login of a (validated) mainland phone number.
func (s *Service) phoneLogin(phone, via string, at time.Time) (Login, error) {
	enc, err := s.pii.EncryptField("phone", phone)
	if err != nil {
		return Login{}, err
	}
	return Login{Key: phoneKey(s.pii.Index("phone", phone)), Kind: LoginPhone, Masked: pii.MaskPhone(phone),
		PhoneEnc: enc, Via: via, LinkedAt: at}, nil
}

// loginIndex is the position of the login with key (or union key) in u.Logins, -1 if none.
func (u *User) loginIndex(key string) int {
	for i, l := range u.Logins {
		if l.Key == key || (l.UnionKey != "" && l.UnionKey == key) {
			return i
		}
	}
	return -1
}

// HasLogin reports whether the login with key (or union key) is the user's.
func (u *User) HasLogin(key string) bool { return u.loginIndex(key) >= 0 }

// LoginByID returns the user's login with the public id, if any.
func (u *User) LoginByID(id string) (Login, bool) {
	for _, l := range u.Logins {
		if l.ID() == id {
			return l, true
		}
	}
	return Login{}, false
}

// addLogin lists l on u (once) and, when u has no phone or WeChat of its
// own yet, makes it the one reminders and applications use.
func (u *User) addLogin(l Login) {
	if u.loginIndex(l.Key) < 0 {
		u.Logins = append(u.Logins, l)
	}
	u.adoptLogin(l)
}

// adoptLogin fills u's contact fields from l where they are empty.
func (u *User) adoptLogin(l Login) {
	switch l.Kind {
	case LoginPhone:
		if u.PhoneIndex == "" && l.PhoneEnc != "" {
			u.PhoneEnc, u.PhoneIndex, u.PhoneMasked = l.PhoneEnc, strings.TrimPrefix(l.Key, "phone:"), l.Masked
		}
	case LoginWeChat:
		if u.WeChatOpenID == "" {
			u.WeChatOpenID, u.WeChatUnionID = openIDOf(l.Key), unionIDOf(l.UnionKey)
		}
	}
}

// removeLogin takes the login with key off u; the contact fields it filled
// move to another login of the same kind, or are cleared.
func (u *User) removeLogin(key string) {
	i := u.loginIndex(key)
	if i < 0 {
		return
	}
	gone := u.Logins[i]
	u.Logins = append(u.Logins[:i:i], u.Logins[i+1:]...)
	switch {
	case gone.Kind == LoginPhone && phoneKey(u.PhoneIndex) == gone.Key:
		u.PhoneEnc, u.PhoneIndex, u.PhoneMasked = "", "", ""
	case gone.Kind == LoginWeChat && u.WeChatOpenID == openIDOf(gone.Key):
		u.WeChatOpenID, u.WeChatUnionID = "", ""
	default:
		return
	}
	for _, l := range u.Logins {
		if l.Kind == gone.Kind {
			u.adoptLogin(l)
			return
		}
	}
}
