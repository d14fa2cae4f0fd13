package province

import (
	"net/http"
	"testing"
	"time"
)

// A renewal revokes the licence and issues a new one with the same number,
// as its issuer does; the holder's query shows both.
func TestRenewLicense(t *testing.T) {
	e := newEnv(t, Options{})
	var driving LicenseRecord
	for _, l := range e.s.Licenses(zhangSan.IDNumber) {
		if l.Type == "driving_license" {
			driving = l
		}
	}
	next := e.s.now().In(chinaTime).AddDate(6, 0, 0).Format(time.DateOnly)
	path := "/sandbox/province/licenses/" + driving.ID + "/renew"
	for _, tt := range []struct {
		path, body string
		status     int
	}{
		{path, e.s.now().In(chinaTime).Format(time.DateOnly), http.StatusConflict},
		{"/sandbox/province/licenses/ELNOSUCH/renew", next, http.StatusNotFound},
		{path, "6 years", http.StatusBadRequest},
		{path, next, http.StatusOK},
		{path, next, http.StatusConflict}, // revoked now
	} {
		if code, body := e.control("POST", tt.path, map[string]string{"expires_on": tt.body}); code != tt.status {
			t.Fatalf("renew %s with %s: HTTP %d, want %d: %s", tt.path, tt.body, code, tt.status, body)
		}
	}
	var d struct {
		Licenses []License `json:"licenses"`
	}
	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": "citizen", "holder_id": zhangSan.IDNumber}).ok(t).into(t, &d)
	states := map[string]string{}
	for _, l := range d.Licenses {
		if l.Type == "driving_license" {
			states[l.ExpiresOn] = l.Status
			if l.ID == driving.ID && l.Status != LicenseRevoked {
				t.Fatalf("the old licence is %s", l.Status)
			}
		}
	}
	if states[next] != LicenseValid || states[driving.ExpiresOn] != LicenseRevoked {
		t.Fatalf("driving licences after renewal: %v", states)
	}
}
