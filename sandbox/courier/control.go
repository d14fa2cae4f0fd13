package courier

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"zwfw/sandbox/fake"
)

// The /sandbox/courier/ routes stand in for what happens outside zwfw:
// couriers collecting and carrying parcels, and a flaky push channel.

// getOrders: GET /sandbox/courier/orders
func (s *Server) getOrders(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Orders())
}

// getParcels: GET /sandbox/courier/parcels
func (s *Server) getParcels(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Parcels())
}

// getParcel: GET /sandbox/courier/parcels/{num}
func (s *Server) getParcel(w http.ResponseWriter, r *http.Request) {
	p, ok := s.ParcelByNumber(r.PathValue("num"))
	if !ok {
		fake.ControlError(w, http.StatusNotFound, "no parcel %s (see GET /sandbox/courier/parcels)", r.PathValue("num"))
		return
	}
	fake.WriteJSON(w, http.StatusOK, p)
}

// postParcel: POST /sandbox/courier/parcels {"com","num","phone","from","to","scenario"}
func (s *Server) postParcel(w http.ResponseWriter, r *http.Request) {
	var spec ParcelSpec
	if err := fake.ReadJSON(w, r, &spec); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"com","num","phone","from","to","scenario"}: %v`, err)
		return
	}
	p, err := s.AddParcel(spec)
	switch {
	case errors.Is(err, ErrParcelExists):
		fake.ControlError(w, http.StatusConflict, "%v", err)
	case errors.Is(err, ErrUnknownCarrier):
		fake.ControlError(w, http.StatusBadRequest, "%v: %q (one of %s)", err, spec.Com, carrierList())
	case err != nil:
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
	default:
		fake.WriteJSON(w, http.StatusCreated, p)
	}
}

// postAdvance: POST /sandbox/courier/parcels/{num}/advance {"steps","scenario"}
// (an empty body is one step).
func (s *Server) postAdvance(w http.ResponseWriter, r *http.Request) {
	num := r.PathValue("num")
	var req struct {
		Steps    int    `json:"steps"`
		Scenario string `json:"scenario"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
	if err == nil && strings.TrimSpace(string(body)) != "" {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.Steps < 0 {
		fake.ControlError(w, http.StatusBadRequest, `body must be empty or JSON {"steps":1,"scenario":"normal|exception|returned"}`)
		return
	}
	if req.Scenario != "" {
		if _, err := s.SetScenario(num, req.Scenario); err != nil {
			s.writeSimError(w, num, err)
			return
		}
		if req.Steps == 0 {
			p, _ := s.ParcelByNumber(num)
			fake.WriteJSON(w, http.StatusOK, p) // a scenario change alone moves nothing
			return
		}
	}
	p, err := s.Advance(num, req.Steps)
	if err != nil {
		s.writeSimError(w, num, err)
		return
	}
	fake.WriteJSON(w, http.StatusOK, p)
}

// writeSimError answers a simulation error with its status.
func (s *Server) writeSimError(w http.ResponseWriter, num string, err error) {
	switch {
	case errors.Is(err, ErrParcelNotFound):
		fake.ControlError(w, http.StatusNotFound, "%s (see GET /sandbox/courier/parcels)", describeErr(num, err))
	case errors.Is(err, ErrBadScenario):
		fake.ControlError(w, http.StatusBadRequest, "%s", describeErr(num, err))
	default: // cancelled, ended, too late for the scenario
		fake.ControlError(w, http.StatusConflict, "%s", describeErr(num, err))
	}
}

// postAdvanceAll: POST /sandbox/courier/advance
func (s *Server) postAdvanceAll(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, map[string]int{"moved": s.AdvanceAll()})
}

// getFaults: GET /sandbox/courier/faults
func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Faults())
}

// postFault: POST /sandbox/courier/faults {"number","mode","drop_rate"}
func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	var f PushFault
	if err := fake.ReadJSON(w, r, &f); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"number","mode","drop_rate"}: %v`, err)
		return
	}
	if err := s.SetFault(f); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	fake.WriteJSON(w, http.StatusOK, s.Faults())
}

// deleteFaults: DELETE /sandbox/courier/faults
func (s *Server) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// getPushes: GET /sandbox/courier/pushes?number=
func (s *Server) getPushes(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Pushes(r.URL.Query().Get("number")))
}
