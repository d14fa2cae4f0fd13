package nontax

import (
	"errors"
	"net/http"
	"time"

	"zwfw/sandbox/fake"
)

// The /sandbox/nontax/ routes stand in for the people behind the platform:
// the collecting agency's clerk who issues and cancels notices, the
// finance office that reads the books, and the operator who breaks things
// on purpose. They need no signature.

// getItems: GET /sandbox/nontax/items
func (s *Server) getItems(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, Schedule)
}

// getNotices: GET /sandbox/nontax/notices?payer_id=&status=
func (s *Server) getNotices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list := s.Notices(q.Get("payer_id"), q.Get("status"))
	base := s.baseURL(r)
	for i := range list {
		list[i] = withBase(list[i], base)
	}
	fake.WriteJSON(w, http.StatusOK, list)
}

// getNotice: GET /sandbox/nontax/notices/{code}
func (s *Server) getNotice(w http.ResponseWriter, r *http.Request) {
	n, ok := s.NoticeByCode(r.PathValue("code"))
	if !ok {
		fake.ControlError(w, http.StatusNotFound, "no notice %s (see GET /sandbox/nontax/notices)", r.PathValue("code"))
		return
	}
	fake.WriteJSON(w, http.StatusOK, withBase(n, s.baseURL(r)))
}

// postNotice: POST /sandbox/nontax/notices {"payer_id","payer_name","items","due_days","case_number"}
func (s *Server) postNotice(w http.ResponseWriter, r *http.Request) {
	var req IssueRequest
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"payer_id","payer_name","items":[{"code","quantity","unit_price"}],"due_days","case_number"}: %v`, err)
		return
	}
	n, err := s.Issue(req)
	if err != nil {
		controlFailure(w, err)
		return
	}
	fake.WriteJSON(w, http.StatusCreated, n)
}

// postCancel: POST /sandbox/nontax/notices/{code}/cancel {"reason"}
func (s *Server) postCancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := fake.ReadJSON(w, r, &req); err != nil {
			fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"reason"} or empty: %v`, err)
			return
		}
	}
	n, err := s.Cancel(r.PathValue("code"), req.Reason)
	if err != nil {
		controlFailure(w, err)
		return
	}
	fake.WriteJSON(w, http.StatusOK, n)
}

// getConfirmations: GET /sandbox/nontax/confirmations?date=YYYY-MM-DD
func (s *Server) getConfirmations(w http.ResponseWriter, r *http.Request) {
	var day time.Time
	if d := r.URL.Query().Get("date"); d != "" {
		var err error
		if day, err = time.ParseInLocation(time.DateOnly, d, chinaTime); err != nil {
			fake.ControlError(w, http.StatusBadRequest, "date must be YYYY-MM-DD")
			return
		}
	}
	fake.WriteJSON(w, http.StatusOK, s.Confirmations(day))
}

// controlFailure answers a refused control action with the service's code:
// {"error": message, "code": code}.
func controlFailure(w http.ResponseWriter, err error) {
	var e *Error
	if errors.As(err, &e) {
		fake.WriteJSON(w, e.Status, map[string]string{"error": e.Message, "code": e.Code})
		return
	}
	fake.ControlError(w, http.StatusInternalServerError, "%v", err)
}
