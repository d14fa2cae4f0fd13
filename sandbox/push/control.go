package push

import (
	"errors"
	"net/http"

	"zwfw/sandbox/fake"
)

// The /sandbox/push/ routes stand in for the phones (installing and
// uninstalling the app, what the notification bar showed) and for an
// operator breaking the gateway on purpose.

// postDevice: POST /sandbox/push/devices {"platform", "registration_id"?}
func (s *Server) postDevice(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RegistrationID string `json:"registration_id"`
		Platform       string `json:"platform"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"platform": "android"|"ios", "registration_id" (optional)}: %v`, err)
		return
	}
	d, err := s.AddDevice(req.RegistrationID, req.Platform)
	if err != nil {
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	fake.WriteJSON(w, http.StatusCreated, d)
}

// getDevices: GET /sandbox/push/devices
func (s *Server) getDevices(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Devices())
}

// deleteDevice: DELETE /sandbox/push/devices/{id}
func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.UninstallDevice(id); errors.Is(err, ErrUnknownDevice) {
		fake.ControlError(w, http.StatusNotFound, "no device %s (see GET /sandbox/push/devices)", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// getMessages: GET /sandbox/push/messages?registration_id=
func (s *Server) getMessages(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Messages(r.URL.Query().Get("registration_id")))
}

// postFaults: POST /sandbox/push/faults {"down", "rate_limit_per_minute", "error_rate"};
// fields left out keep their value, so one fault can be turned on or off alone.
func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Down               *bool    `json:"down"`
		RateLimitPerMinute *int     `json:"rate_limit_per_minute"`
		ErrorRate          *float64 `json:"error_rate"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, `body must be JSON {"down": bool, "rate_limit_per_minute": n, "error_rate": 0..1}: %v`, err)
		return
	}
	f, err := s.updateFaults(func(f *Faults) {
		if req.Down != nil {
			f.Down = *req.Down
		}
		if req.RateLimitPerMinute != nil {
			f.RateLimitPerMinute = *req.RateLimitPerMinute
		}
		if req.ErrorRate != nil {
			f.ErrorRate = *req.ErrorRate
		}
	})
	if err != nil {
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	fake.WriteJSON(w, http.StatusOK, f)
}

// getFaults: GET /sandbox/push/faults
func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Faults())
}

// deleteFaults: DELETE /sandbox/push/faults
func (s *Server) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	fake.WriteJSON(w, http.StatusOK, s.Faults())
}

// getStats: GET /sandbox/push/stats
func (s *Server) getStats(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.Stats())
}
