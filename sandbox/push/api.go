package push

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"zwfw/sandbox/fake"
)

// push: POST /v3/push
func (s *Server) push(w http.ResponseWriter, r *http.Request) { s.serve(w, r, false) }

// validate: POST /v3/push/validate, every check of a push without sending it.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) { s.serve(w, r, true) }

// serve runs a request through the gateway in JPush's order: reachable,
// method, credentials, rate limit, (injected) server fault, then the push
// object and its audience.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, validateOnly bool) {
	s.count(func(st *Stats) { st.Requests++ })
	if s.Faults().Down {
		s.count(func(st *Stats) { st.Down++ })
		writeGatewayDown(w)
		return
	}
	if r.Method != http.MethodPost {
		s.count(func(st *Stats) { st.Invalid++ })
		errorf(CodeMethod, msgMethod).write(w)
		return
	}
	if !s.authenticated(r.Header.Get("Authorization")) {
		s.count(func(st *Stats) { st.AuthFailed++ })
		s.log.Warn("push refused: auth failed")
		errorf(CodeAuthFailed, msgAuthFailed).write(w)
		return
	}
	now := s.now()
	rate, ok := s.admit(now)
	if rate.limit > 0 {
		h := w.Header()
		h.Set("X-Rate-Limit-Limit", strconv.Itoa(rate.limit))
		h.Set("X-Rate-Limit-Remaining", strconv.Itoa(rate.remaining))
		h.Set("X-Rate-Limit-Reset", strconv.Itoa(rate.resetSeconds))
	}
	if !ok {
		s.count(func(st *Stats) { st.RateLimited++ })
		s.log.Warn("push refused: rate limited", "limit", rate.limit)
		errorf(CodeRateLimited, msgRateLimited).write(w)
		return
	}
	if s.injectError() {
		s.count(func(st *Stats) { st.Failed++ })
		s.log.Warn("push failed (injected)")
		errorf(CodeInternal, msgInternal).write(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
	if err != nil {
		s.count(func(st *Stats) { st.Invalid++ })
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			errorf(CodeTooLarge, "Msg content too long").write(w)
			return
		}
		errorf(CodeInvalidParam, "cannot read the request body").write(w)
		return
	}
	p, apiErr := parsePush(body)
	if apiErr != nil {
		s.count(func(st *Stats) { st.Invalid++ })
		s.log.Warn("push refused: invalid", "code", apiErr.code, "message", apiErr.msg)
		apiErr.write(w)
		return
	}
	msgID, delivered, apiErr := s.deliver(p, validateOnly)
	if apiErr != nil {
		apiErr.write(w)
		return
	}
	s.log.Info("push accepted", "msg_id", msgID, "devices", delivered, "validate_only", validateOnly)
	fake.WriteJSON(w, http.StatusOK, map[string]string{"sendno": p.sendNo, "msg_id": msgID})
}

// authenticated checks "Basic base64(appKey:masterSecret)" in constant time.
func (s *Server) authenticated(header string) bool {
	scheme, encoded, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return false
	}
	key, secret, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return false
	}
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(s.appKey))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.masterSecret))
	return keyOK&secretOK == 1
}

// deliver finds p's targets, issues a msg_id and, unless validateOnly,
// records what each target received. No installed device of a targeted
// platform among the audience is 1011.
func (s *Server) deliver(p *pushRequest, validateOnly bool) (msgID string, devices int, _ *apiError) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var targets []*Device
	switch {
	case p.byAttribute:
		// no device carries tags or aliases in the sandbox
	case p.broadcast:
		for _, id := range s.order {
			if d := s.devices[id]; d.Installed && p.platforms[d.Platform] {
				targets = append(targets, d)
			}
		}
	default:
		for _, id := range p.registrationIDs {
			if d, ok := s.devices[id]; ok && d.Installed && p.platforms[d.Platform] {
				targets = append(targets, d)
			}
		}
	}
	msgID = strconv.FormatUint(s.nextMsgID(), 10)
	if len(targets) == 0 {
		s.stats.NoTarget++
		return "", 0, &apiError{code: CodeNoTarget, msg: msgNoTarget, msgID: msgID}
	}
	s.stats.Accepted++
	if validateOnly {
		return msgID, 0, nil
	}
	for _, d := range targets {
		for _, m := range p.render(d, msgID, now) {
			s.messages = append(s.messages, m)
			s.stats.Delivered++
		}
	}
	return msgID, len(targets), nil
}
