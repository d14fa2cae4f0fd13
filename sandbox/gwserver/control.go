package gwserver

import (
	"net/http"

	"zwfw/sandbox/fake"
)

// RegisterControls adds the sandbox-only fault and counter routes below
// prefix (e.g. "/sandbox/province") to mux:
//
//	GET    prefix/faults  the faults in force
//	POST   prefix/faults  SetFault with a JSON Fault; answers the faults in force, or 400 with SetFault's error
//	GET    prefix/stats   Stats
//	DELETE prefix/stats   ResetStats (204)
func (g *Gateway) RegisterControls(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/faults", g.getFaults)
	mux.HandleFunc("POST "+prefix+"/faults", g.postFault)
	mux.HandleFunc("GET "+prefix+"/stats", g.getStats)
	mux.HandleFunc("DELETE "+prefix+"/stats", g.deleteStats)
}

// postFault: POST .../faults {"group","mode","status","code","delay_ms","count"[,"rate"]}
func (g *Gateway) postFault(w http.ResponseWriter, r *http.Request) {
	fields := `{"group","mode","status","delay_ms","count"}`
	if g.opts.FaultRate {
		fields = `{"group","mode","status","delay_ms","count","rate"}`
	}
	var f Fault
	if err := fake.ReadJSON(w, r, &f); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "body must be JSON %s: %v", fields, err)
		return
	}
	if err := g.SetFault(f); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	fake.WriteJSON(w, http.StatusOK, g.Faults())
}

// getFaults: GET .../faults
func (g *Gateway) getFaults(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, g.Faults())
}

// getStats: GET .../stats
func (g *Gateway) getStats(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, g.Stats())
}

// deleteStats: DELETE .../stats
func (g *Gateway) deleteStats(w http.ResponseWriter, _ *http.Request) {
	g.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}
