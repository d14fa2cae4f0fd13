package identity

import "context"

// LoginWeChat logs a mini-program user in with the code from wx.login. The
// login is keyed by openid (per app) and, when WeChat returns one, by
// unionid, which decides the person, so the same WeChat user reaches the
// same person from every app of the platform. Returns ErrWeChatCodeInvalid
// or ErrWeChatUnavailable.
func (s *Service) LoginWeChat(ctx context.Context, code string) (*Session, error) {
	if code == "" || len(code) > 128 {
		return nil, ErrWeChatCodeInvalid
	}
	wx, err := s.wechat.Code2Session(ctx, code)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	ref := wechatLogin(wx, ViaLogin, now)
	candidate := &User{ID: newID("u_"), Kind: KindPublic, Roles: []Role{RoleCitizen}, CreatedAt: now, UpdatedAt: now, Version: 1}
	candidate.addLogin(ref)
	u, err := s.enter(ctx, ref, candidate)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, u, ref.ID())
}
