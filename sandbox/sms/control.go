package sms

import (
	"net/http"
	"strings"

	"zwfw/sandbox/fake"
)

// The /sandbox/sms/ routes let a tester see what was "sent" and make the
// next send fail.

// getMessages: GET /sandbox/sms/messages?phone= -> accepted messages, oldest first.
func (g *Gateway) getMessages(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, g.Messages(r.URL.Query().Get("phone")))
}

// postFailure: POST /sandbox/sms/failures {"phone", "code", "message", "status", "count"}
func (g *Gateway) postFailure(w http.ResponseWriter, r *http.Request) {
	var f Failure
	if err := fake.ReadJSON(w, r, &f); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "body must be JSON {\"phone\", \"code\", \"message\", \"status\", \"count\"}: %v", err)
		return
	}
	f.Code = strings.TrimSpace(f.Code)
	switch {
	case f.Code == "" || f.Code == CodeOK:
		fake.ControlError(w, http.StatusBadRequest, "code is required, e.g. %q", CodeBusinessLimit)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		fake.ControlError(w, http.StatusBadRequest, "status must be an HTTP status")
	case f.Count < 0:
		fake.ControlError(w, http.StatusBadRequest, "count must not be negative")
	default:
		g.InjectFailure(f)
		fake.WriteJSON(w, http.StatusCreated, g.Failures())
	}
}

// getFailures: GET /sandbox/sms/failures -> failures still pending.
func (g *Gateway) getFailures(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, g.Failures())
}

// getTemplates: GET /sandbox/sms/templates -> the account's templates with their variables.
func (g *Gateway) getTemplates(w http.ResponseWriter, _ *http.Request) {
	type view struct {
		Template
		Params []string `json:"params"`
	}
	out := []view{}
	for _, t := range g.Templates() {
		out = append(out, view{t, t.Params()})
	}
	fake.WriteJSON(w, http.StatusOK, out)
}
