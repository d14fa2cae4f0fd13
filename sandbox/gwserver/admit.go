package gwserver

import (
	"errors"
	"io"
	"net/http"
	"time"

	"zwfw/sandbox/fake"
)

// Request is an authenticated request past the gateway's front half.
type Request struct {
	SignMethod string    // sign method of the answer: the request's, or HMAC-SM3
	RequestID  string    // request_id of the envelope
	Body       []byte    // the request body
	Now        time.Time // when the request was authenticated
}

// Admit does what the gateway does before any API: it counts a call of
// endpoint (and of the request path below, e.g. "/api/cases", with its
// query), reads the body and authenticates the request. When it returns
// false it has already answered (a signed refusal, counted as refused).
func (g *Gateway) Admit(w http.ResponseWriter, r *http.Request, endpoint, below string) (*Request, bool) {
	path := r.Method + " " + below
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	g.count(endpoint, path, func(st *EndpointStats) { st.Calls++ })
	req := &Request{SignMethod: r.Header.Get(HeaderSignMethod), RequestID: fake.RandomString(fake.Hex, 32)}
	if _, ok := HashFor(req.SignMethod); !ok {
		req.SignMethod = MethodSM3 // answer an unsupported or absent method with the default
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
	if err != nil {
		rf := Refuse(http.StatusBadRequest, CodeParamInvalid, "请求体读取失败")
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			rf = Refuse(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "请求体不能超过%d字节", tooLarge.Limit)
		}
		g.Reply(w, r, req.SignMethod, req.RequestID, nil, rf)
		return nil, false
	}
	req.Body, req.Now = body, g.now()
	if rf := g.Authenticate(r, body, req.Now); rf != nil {
		g.count(endpoint, "", func(st *EndpointStats) { st.Refused++ })
		g.log.Warn(g.opts.Name+" request refused", "endpoint", endpoint, "code", rf.Code)
		g.Reply(w, r, req.SignMethod, req.RequestID, nil, rf)
		return nil, false
	}
	return req, true
}
