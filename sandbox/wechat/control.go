package wechat

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"zwfw/sandbox/fake"
)

// The /sandbox/wechat/ routes stand in for the phone side of WeChat.

// postCode: POST /sandbox/wechat/codes {"name"} -> a one-time wx.login code.
func (s *Server) postCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "body must be JSON {\"name\": \"...\"}: %v", err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > 64 {
		fake.ControlError(w, http.StatusBadRequest, "name must be 1 to 64 characters")
		return
	}
	code := s.IssueCode(req.Name)
	fake.WriteJSON(w, http.StatusCreated, map[string]any{
		"code":       code,
		"openid":     OpenIDFor(s.appID, req.Name),
		"unionid":    UnionIDFor(req.Name),
		"expires_in": int(s.codeTTL.Seconds()),
	})
}

// postConsent: POST /sandbox/wechat/consents {"openid" or "name", "template_id", "count"}:
// the user tapped "allow" in wx.requestSubscribeMessage count times.
func (s *Server) postConsent(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID     string `json:"openid"`
		Name       string `json:"name"`
		TemplateID string `json:"template_id"`
		Count      *int   `json:"count"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "body must be JSON {\"openid\", \"template_id\", \"count\"}: %v", err)
		return
	}
	if req.OpenID == "" && req.Name != "" {
		req.OpenID = OpenIDFor(s.appID, req.Name)
	}
	count := 1
	if req.Count != nil {
		count = *req.Count
	}
	switch {
	case !openIDPattern.MatchString(req.OpenID):
		fake.ControlError(w, http.StatusBadRequest, "openid must be a 28-character openid (or give name)")
	case req.TemplateID == "":
		fake.ControlError(w, http.StatusBadRequest, "template_id is required")
	case count < 1 || count > 1000:
		fake.ControlError(w, http.StatusBadRequest, "count must be 1 to 1000")
	default:
		remaining := s.GrantConsent(req.OpenID, req.TemplateID, count)
		fake.WriteJSON(w, http.StatusOK, Consent{OpenID: req.OpenID, TemplateID: req.TemplateID, Remaining: remaining})
	}
}

// getConsents: GET /sandbox/wechat/consents?openid= (or name=)
func (s *Server) getConsents(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Consents(s.userParam(r, "openid")))
}

// getMessages: GET /sandbox/wechat/messages?touser= (or name=)
func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Messages(s.userParam(r, "touser")))
}

// postRevokeTokens: POST /sandbox/wechat/tokens/revoke
func (s *Server) postRevokeTokens(w http.ResponseWriter, _ *http.Request) {
	s.RevokeTokens()
	w.WriteHeader(http.StatusNoContent)
}

// userParam reads an openid query parameter, or derives it from name=.
func (s *Server) userParam(r *http.Request, param string) string {
	q := r.URL.Query()
	if v := q.Get(param); v != "" {
		return v
	}
	if name := q.Get("name"); name != "" {
		return OpenIDFor(s.appID, name)
	}
	return ""
}
