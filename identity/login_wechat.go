package identity

import "context"

// LoginWeChat logs a mini-program user in with the code from wx.login. Users
// are keyed by openid (per app) and, when WeChat returns one, by unionid, so
// the same person reaches the same account from every app of the platform.
// Returns ErrWeChatCodeInvalid or ErrWeChatUnavailable.
func (s *Service) LoginWeChat(ctx context.Context, code string) (*Session, error) {
	if code == "" || len(code) > 128 {
		return nil, ErrWeChatCodeInvalid
	}
	wx, err := s.wechat.Code2Session(ctx, code)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	candidate := &User{
		ID: newID("u_"), Kind: KindPublic, Roles: []Role{RoleCitizen},
		WeChatOpenID: wx.OpenID, WeChatUnionID: wx.UnionID,
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	openKey := "wx:" + wx.AppID + ":" + wx.OpenID
	var u *User
	if wx.UnionID != "" {
		// The unionid decides the person; the openid key is then bound to it.
		u, _, err = s.users.EnsureUserForKey(ctx, "wxu:"+wx.UnionID, candidate)
		if err != nil {
			return nil, err
		}
		if _, err := s.users.BindKey(ctx, openKey, u.ID); err != nil {
			return nil, err
		}
	} else {
		u, _, err = s.users.EnsureUserForKey(ctx, openKey, candidate)
		if err != nil {
			return nil, err
		}
	}
	return s.startSession(ctx, u)
}
