package province

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zwfw/pii"
	"zwfw/sandbox/fake"
)

// The /sandbox/province/ routes stand in for the people behind the
// platform: the registries' contents, the department clerk who moves a
// case along, and the operator who breaks things on purpose.

// getPeople: GET /sandbox/province/people
func (s *Server) getPeople(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.describePeople())
}

// getCompanies: GET /sandbox/province/companies
func (s *Server) getCompanies(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, DemoCompanies)
}

// getLicenses: GET /sandbox/province/licenses?holder_id=
func (s *Server) getLicenses(w http.ResponseWriter, r *http.Request) {
	holder := r.URL.Query().Get("holder_id")
	if holder != "" {
		holder = pii.NormalizeUSCC(holder) // upper-cases an ID number's x as well
	}
	fake.WriteJSON(w, http.StatusOK, s.Licenses(holder))
}

// postRenewLicense: POST /sandbox/province/licenses/{id}/renew {"expires_on":"YYYY-MM-DD"}
func (s *Server) postRenewLicense(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExpiresOn string `json:"expires_on"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"expires_on":"YYYY-MM-DD"}: %v`, err)
		return
	}
	expires, err := time.ParseInLocation(time.DateOnly, req.ExpiresOn, chinaTime)
	if err != nil {
		fake.ControlError(w, http.StatusBadRequest, `expires_on must be a date YYYY-MM-DD`)
		return
	}
	l, err := s.RenewLicense(r.PathValue("id"), expires)
	switch {
	case errors.Is(err, errLicenseNotFound):
		fake.ControlError(w, http.StatusNotFound, "no licence %s (see GET /sandbox/province/licenses)", r.PathValue("id"))
	case errors.Is(err, errLicenseNotRenewed):
		fake.ControlError(w, http.StatusConflict, "%v", err)
	case err != nil:
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
	default:
		fake.WriteJSON(w, http.StatusOK, l)
	}
}

// getCases: GET /sandbox/province/cases
func (s *Server) getCases(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Cases())
}

// getCase: GET /sandbox/province/cases/{case_number}
func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	c, ok := s.CaseByNumber(r.PathValue("case_number"))
	if !ok {
		fake.ControlError(w, http.StatusNotFound, "no case %s (see GET /sandbox/province/cases)", r.PathValue("case_number"))
		return
	}
	fake.WriteJSON(w, http.StatusOK, c)
}

// postAdvance: POST /sandbox/province/cases/{case_number}/advance {"status","note","materials","result"}
func (s *Server) postAdvance(w http.ResponseWriter, r *http.Request) {
	var a Advance
	if err := fake.ReadJSON(w, r, &a); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"status","note","materials","result"}: %v`, err)
		return
	}
	c, err := s.AdvanceCase(r.PathValue("case_number"), a)
	switch {
	case errors.Is(err, errCaseNotFound):
		fake.ControlError(w, http.StatusNotFound, "no case %s (see GET /sandbox/province/cases)", r.PathValue("case_number"))
	case errors.Is(err, errIllegalTransition):
		fake.ControlError(w, http.StatusConflict, "%v", err)
	case err != nil:
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
	default:
		fake.WriteJSON(w, http.StatusOK, c)
	}
}

// getCallback: GET /sandbox/province/callback
func (s *Server) getCallback(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, map[string]any{"url": s.CallbackURL(), "deliveries": s.Deliveries()})
}

// postCallback: POST /sandbox/province/callback {"url"}
func (s *Server) postCallback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL string `json:"url"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"url": "http://..."}: %v`, err)
		return
	}
	req.URL = strings.TrimSpace(req.URL)
	if req.URL != "" {
		u, err := url.Parse(req.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fake.ControlError(w, http.StatusBadRequest, "url must be an absolute http(s) URL")
			return
		}
	}
	s.SetCallbackURL(req.URL)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"url": req.URL})
}
