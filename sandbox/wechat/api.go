package wechat

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// WeChat error codes the fake answers with.
const (
	ErrCodeInvalidToken    = 40001 // invalid credential, access_token is invalid or not latest
	ErrCodeGrantType       = 40002 // invalid grant_type
	ErrCodeInvalidOpenID   = 40003
	ErrCodeInvalidAppID    = 40013
	ErrCodeInvalidCode     = 40029
	ErrCodeInvalidTmplID   = 40037
	ErrCodeInvalidSecret   = 40125
	ErrCodeCodeUsed        = 40163
	ErrCodeTokenMissing    = 41001
	ErrCodeAppIDMissing    = 41002
	ErrCodeSecretMissing   = 41004
	ErrCodeCodeMissing     = 41008
	ErrCodeTokenExpired    = 42001
	ErrCodeNoConsent       = 43101 // user refuse to accept the msg
	ErrCodeDataFormat      = 47001
	ErrCodeArgumentInvalid = 47003
)

// apiError is WeChat's error body. Real error messages end with a request
// id ("rid"); clients must match on errcode, never on errmsg.
type apiError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	rid := fmt.Sprintf("%s-%s-%s", fake.RandomString(fake.Hex, 8), fake.RandomString(fake.Hex, 8), fake.RandomString(fake.Hex, 8))
	writeOK(w, apiError{ErrCode: code, ErrMsg: msg + " rid: " + rid})
}

// writeOK answers HTTP 200 like every WeChat API answer, errors included.
func writeOK(w http.ResponseWriter, v any) {
	// WeChat's own Content-Type, charset spelled its way.
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// checkApp validates appid and secret the way WeChat words it.
func (s *Server) checkApp(w http.ResponseWriter, appID, secret string) bool {
	switch {
	case appID == "":
		writeErr(w, ErrCodeAppIDMissing, "appid missing")
	case appID != s.appID:
		writeErr(w, ErrCodeInvalidAppID, "invalid appid")
	case secret == "":
		writeErr(w, ErrCodeSecretMissing, "appsecret missing")
	case secret != s.appSecret:
		writeErr(w, ErrCodeInvalidSecret, "invalid appsecret")
	default:
		return true
	}
	return false
}

// code2Session: GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code
func (s *Server) code2Session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkApp(w, q.Get("appid"), q.Get("secret")) {
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		writeErr(w, ErrCodeGrantType, "invalid grant_type")
		return
	}
	code := q.Get("js_code")
	if code == "" {
		writeErr(w, ErrCodeCodeMissing, "missing code")
		return
	}
	name, errCode, errMsg := s.redeem(code)
	if errCode != 0 {
		writeErr(w, errCode, errMsg)
		return
	}
	openID := OpenIDFor(s.appID, name)
	s.log.Info("wechat code2Session", "openid", openID)
	writeOK(w, struct {
		SessionKey string `json:"session_key"`
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
	}{
		// A fresh 16-byte AES key per login, base64 as WeChat sends it.
		SessionKey: base64.StdEncoding.EncodeToString(fake.RandomBytes(16)),
		OpenID:     openID,
		UnionID:    UnionIDFor(name),
	})
}

// redeem resolves a login code to the user's name, using it up.
func (s *Server) redeem(code string) (name string, errCode int, errMsg string) {
	if n, ok := strings.CutPrefix(code, TestCodePrefix); ok {
		if n == "" {
			return "", ErrCodeInvalidCode, "invalid code"
		}
		return n, 0, ""
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	lc, ok := s.codes[code]
	switch {
	case !ok || !now.Before(lc.expires):
		return "", ErrCodeInvalidCode, "invalid code"
	case lc.used:
		return "", ErrCodeCodeUsed, "code been used"
	}
	lc.used = true
	return lc.name, 0, ""
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// newToken mints a token; the caller holds s.mu.
func (s *Server) newToken(now time.Time, stable bool) string {
	for tok, t := range s.tokens { // forget tokens long dead
		if now.Sub(t.expires) > 24*time.Hour {
			delete(s.tokens, tok)
		}
	}
	// Real tokens are ~130-170 characters of [A-Za-z0-9_-].
	tok := base64.RawURLEncoding.EncodeToString(fake.RandomBytes(102))
	s.tokens[tok] = &accessToken{expires: now.Add(s.tokenTTL), stable: stable}
	return tok
}

// token: GET /cgi-bin/token?grant_type=client_credential&appid=&secret=
// Each call mints a new token; the previous ones keep working for
// TokenGrace, then answer 40001.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credential" {
		writeErr(w, ErrCodeGrantType, "invalid grant_type")
		return
	}
	if !s.checkApp(w, q.Get("appid"), q.Get("secret")) {
		return
	}
	now := s.now()
	s.mu.Lock()
	for _, t := range s.tokens {
		if !t.stable && !t.superseded {
			t.superseded = true
			if grace := now.Add(TokenGrace); t.expires.After(grace) {
				t.expires = grace
			}
		}
	}
	tok := s.newToken(now, false)
	s.mu.Unlock()
	s.log.Info("wechat access token issued", "api", "cgi-bin/token")
	writeOK(w, tokenReply{AccessToken: tok, ExpiresIn: int64(s.tokenTTL / time.Second)})
}

// stableToken: POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh}.
// Isolated from cgi-bin/token: while the current stable token is valid it is
// returned again (with its remaining lifetime) unless force_refresh, which
// replaces it at once.
func (s *Server) stableToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		writeErr(w, ErrCodeDataFormat, "data format error")
		return
	}
	if req.GrantType != "client_credential" {
		writeErr(w, ErrCodeGrantType, "invalid grant_type")
		return
	}
	if !s.checkApp(w, req.AppID, req.Secret) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.tokens[s.stable]; ok && !req.ForceRefresh && now.Before(cur.expires) {
		writeOK(w, tokenReply{AccessToken: s.stable, ExpiresIn: int64(cur.expires.Sub(now) / time.Second)})
		return
	}
	if cur, ok := s.tokens[s.stable]; ok {
		cur.superseded, cur.expires = true, now
	}
	s.stable = s.newToken(now, true)
	s.log.Info("wechat access token issued", "api", "cgi-bin/stable_token", "force_refresh", req.ForceRefresh)
	writeOK(w, tokenReply{AccessToken: s.stable, ExpiresIn: int64(s.tokenTTL / time.Second)})
}

// checkToken answers the error for an unusable access_token and returns false.
func (s *Server) checkToken(w http.ResponseWriter, r *http.Request) bool {
	tok := r.URL.Query().Get("access_token")
	if tok == "" {
		writeErr(w, ErrCodeTokenMissing, "access_token missing")
		return false
	}
	now := s.now()
	s.mu.Lock()
	t, ok := s.tokens[tok]
	valid := ok && now.Before(t.expires)
	superseded := ok && t.superseded
	s.mu.Unlock()
	switch {
	case valid:
		return true
	case ok && !superseded:
		writeErr(w, ErrCodeTokenExpired, "access_token expired")
	default:
		writeErr(w, ErrCodeInvalidToken, "invalid credential, access_token is invalid or not latest")
	}
	return false
}

// subscribeSend: POST /cgi-bin/message/subscribe/send?access_token=
func (s *Server) subscribeSend(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(w, r) {
		return
	}
	var req struct {
		ToUser           string                     `json:"touser"`
		TemplateID       string                     `json:"template_id"`
		Page             string                     `json:"page"`
		MiniprogramState string                     `json:"miniprogram_state"`
		Lang             string                     `json:"lang"`
		Data             map[string]json.RawMessage `json:"data"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		writeErr(w, ErrCodeDataFormat, "data format error")
		return
	}
	if !openIDPattern.MatchString(req.ToUser) {
		writeErr(w, ErrCodeInvalidOpenID, "invalid openid")
		return
	}
	if req.TemplateID == "" {
		writeErr(w, ErrCodeInvalidTmplID, "invalid template_id")
		return
	}
	switch req.MiniprogramState {
	case "", "developer", "trial", "formal":
	default:
		writeErr(w, ErrCodeArgumentInvalid, "argument invalid! miniprogram_state invalid")
		return
	}
	switch req.Lang {
	case "", "zh_CN", "en_US", "zh_HK", "zh_TW":
	default:
		writeErr(w, ErrCodeArgumentInvalid, "argument invalid! lang invalid")
		return
	}
	if len(req.Data) == 0 {
		writeErr(w, ErrCodeArgumentInvalid, "argument invalid! data is empty")
		return
	}
	keys := make([]string, 0, len(req.Data))
	for k := range req.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the same field first every time
	data := make(map[string]string, len(keys))
	for _, k := range keys {
		v, ok := itemValue(req.Data[k])
		if !ok || ValidateField(k, v) != nil {
			writeErr(w, ErrCodeArgumentInvalid, fmt.Sprintf("argument invalid! data.%s.value invalid", k))
			return
		}
		data[k] = v
	}

	now := s.now()
	s.mu.Lock()
	ck := consentKey{req.ToUser, req.TemplateID}
	if s.consents[ck] <= 0 {
		s.mu.Unlock()
		writeErr(w, ErrCodeNoConsent, "user refuse to accept the msg")
		return
	}
	s.consents[ck]--
	if s.consents[ck] == 0 {
		delete(s.consents, ck)
	}
	s.msgSeq++
	// Real msgids are large positive int64s.
	msg := Message{
		MsgID: now.UnixMilli()<<20 | s.msgSeq&(1<<20-1), ToUser: req.ToUser, TemplateID: req.TemplateID,
		Page: req.Page, MiniprogramState: req.MiniprogramState, Lang: req.Lang, Data: data, Time: now,
	}
	s.messages = append(s.messages, msg)
	s.mu.Unlock()
	s.log.Info("wechat subscribe message delivered", "touser", req.ToUser, "template_id", req.TemplateID, "msgid", msg.MsgID)
	writeOK(w, struct {
		apiError
		MsgID int64 `json:"msgid"`
	}{apiError{0, "ok"}, msg.MsgID})
}

// itemValue reads {"value": ...} (the SDK also sends "color"). WeChat
// takes strings; numbers are taken as their decimal text.
func itemValue(raw json.RawMessage) (string, bool) {
	var item struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &item); err != nil || len(item.Value) == 0 {
		return "", false
	}
	var str string
	if err := json.Unmarshal(item.Value, &str); err == nil {
		return str, true
	}
	var num json.Number
	dec := json.NewDecoder(strings.NewReader(string(item.Value)))
	dec.UseNumber()
	if err := dec.Decode(&num); err == nil {
		return num.String(), true
	}
	return "", false
}
