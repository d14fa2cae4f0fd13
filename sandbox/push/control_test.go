package push

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/province"
	"zwfw/sandbox/sms"
	"zwfw/sandbox/wechat"
)

func TestDeviceControls(t *testing.T) {
	e := newEnv(t)
	var d Device
	if st := e.control(http.MethodPost, "/sandbox/push/devices", `{"platform":"ios"}`, &d); st != http.StatusCreated {
		t.Fatalf("register: %d", st)
	}
	if !regexp.MustCompile(`^1[0-9a-f]a[0-9a-f]{16}$`).MatchString(d.RegistrationID) || d.Platform != PlatformIOS || !d.Installed {
		t.Errorf("device = %+v", d)
	}
	if a := e.push(toIDs(d.RegistrationID)); a.status != http.StatusOK {
		t.Fatalf("push to the new device: %d %s", a.status, a.raw)
	}

	var chosen Device
	if st := e.control(http.MethodPost, "/sandbox/push/devices", `{"platform":"android","registration_id":"zhangsan-phone"}`, &chosen); st != http.StatusCreated || chosen.RegistrationID != "zhangsan-phone" {
		t.Fatalf("register with an id: %d %+v", st, chosen)
	}

	for _, body := range []string{`{"platform":"harmony"}`, `{}`, `{"platform":"ios","registration_id":"zhangsan-phone"}`,
		`{"platform":"ios","registration_id":"has space"}`, `not json`} {
		var out map[string]string
		if st := e.control(http.MethodPost, "/sandbox/push/devices", body, &out); st != http.StatusBadRequest || out["error"] == "" {
			t.Errorf("%s: %d %v, want 400 with an error", body, st, out)
		}
	}

	if st := e.control(http.MethodDelete, "/sandbox/push/devices/"+d.RegistrationID, "", nil); st != http.StatusNoContent {
		t.Fatalf("uninstall: %d", st)
	}
	if a := e.push(toIDs(d.RegistrationID)); a.code() != CodeNoTarget {
		t.Errorf("push after uninstall: %d %s, want 1011", a.status, a.raw)
	}
	if st := e.control(http.MethodDelete, "/sandbox/push/devices/"+d.RegistrationID, "", nil); st != http.StatusNoContent {
		t.Errorf("uninstalling twice: %d", st)
	}
	if st := e.control(http.MethodDelete, "/sandbox/push/devices/nobody", "", nil); st != http.StatusNotFound {
		t.Errorf("uninstall unknown: %d, want 404", st)
	}

	var list []Device
	e.control(http.MethodGet, "/sandbox/push/devices", "", &list)
	if len(list) != 2 || list[0].RegistrationID != d.RegistrationID || list[0].Installed || list[0].UninstalledAt == nil ||
		list[1].RegistrationID != "zhangsan-phone" || !list[1].Installed {
		t.Errorf("devices = %+v", list)
	}

	// Reinstalling keeps the id, as JPush does on the same device.
	if st := e.control(http.MethodPost, "/sandbox/push/devices", `{"platform":"ios","registration_id":"`+d.RegistrationID+`"}`, &d); st != http.StatusCreated || !d.Installed {
		t.Fatalf("reinstall: %d %+v", st, d)
	}
	if a := e.push(toIDs(d.RegistrationID)); a.status != http.StatusOK {
		t.Errorf("push after reinstall: %d %s", a.status, a.raw)
	}
}

func TestRegisterDevicePanicsOnBadPlatform(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New(Options{}).RegisterDevice("windows")
}

func TestMessagesControl(t *testing.T) {
	e := newEnv(t)
	a := e.s.RegisterDevice(PlatformAndroid)
	b := e.s.RegisterDevice(PlatformAndroid)
	e.push(toIDs(a))
	e.push(toIDs(a, b))
	var got []Message
	e.control(http.MethodGet, "/sandbox/push/messages?registration_id="+a, "", &got)
	if len(got) != 2 || got[0].RegistrationID != a || got[0].Alert != "您的办件已受理" || got[0].MsgID == got[1].MsgID {
		t.Errorf("messages of a = %+v", got)
	}
	e.control(http.MethodGet, "/sandbox/push/messages", "", &got)
	if len(got) != 3 {
		t.Errorf("all messages = %d, want 3", len(got))
	}
	e.control(http.MethodGet, "/sandbox/push/messages?registration_id=nobody", "", &got)
	if got == nil || len(got) != 0 {
		t.Errorf("unknown device: %v, want []", got)
	}
}

func TestFaultControls(t *testing.T) {
	e := newEnv(t)
	var f Faults
	if st := e.control(http.MethodPost, "/sandbox/push/faults", `{"down":true,"rate_limit_per_minute":10}`, &f); st != http.StatusOK || f != (Faults{Down: true, RateLimitPerMinute: 10}) {
		t.Fatalf("set: %d %+v", st, f)
	}
	// Fields left out keep their value.
	if st := e.control(http.MethodPost, "/sandbox/push/faults", `{"error_rate":0.25}`, &f); st != http.StatusOK || f != (Faults{Down: true, RateLimitPerMinute: 10, ErrorRate: 0.25}) {
		t.Fatalf("partial: %d %+v", st, f)
	}
	for _, body := range []string{`{"error_rate":1.5}`, `{"rate_limit_per_minute":-1}`, `{"down":"yes"}`, ``} {
		var out map[string]any
		if st := e.control(http.MethodPost, "/sandbox/push/faults", body, &out); st != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", body, st)
		}
	}
	e.control(http.MethodGet, "/sandbox/push/faults", "", &f)
	if f != (Faults{Down: true, RateLimitPerMinute: 10, ErrorRate: 0.25}) {
		t.Errorf("refused changes changed the faults: %+v", f)
	}
	if st := e.control(http.MethodDelete, "/sandbox/push/faults", "", &f); st != http.StatusOK || f != (Faults{}) {
		t.Errorf("clear: %d %+v", st, f)
	}

	var st Stats
	e.push(toIDs("nobody"))
	e.control(http.MethodGet, "/sandbox/push/stats", "", &st)
	if st.Requests != 1 || st.NoTarget != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestDescribeKeepsTheSecretOut(t *testing.T) {
	s := New(Options{})
	b, _ := json.Marshal(s.Describe())
	if strings.Contains(string(b), s.MasterSecret()) {
		t.Error("the description shows the master secret")
	}
	if !strings.Contains(string(b), s.AppKey()) {
		t.Error("the description should show the app key")
	}
	if len(s.AppKey()) != 24 || len(s.MasterSecret()) != 24 || s.AppKey() == New(Options{}).AppKey() {
		t.Errorf("credentials: %q %q, want fresh 24-character keys", s.AppKey(), s.MasterSecret())
	}
}

// The fake mounts beside the others on one mux, as sandbox.New does,
// without pattern conflicts, and answers its routes there.
func TestRegistersBesideTheOtherFakes(t *testing.T) {
	s := New(Options{})
	mux := http.NewServeMux()
	for _, f := range []fake.Fake{wechat.New(wechat.Options{}), sms.New(sms.Options{}), province.New(province.Options{}), s} {
		f.Register(mux)
	}
	mux.HandleFunc("GET /sandbox/{$}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	id := s.RegisterDevice(PlatformAndroid)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v3/push", strings.NewReader(toIDs(id)))
	req.Header.Set("Authorization", s.BasicAuth())
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(s.Messages(id)) != 1 {
		t.Fatalf("push through the shared mux: HTTP %d", res.StatusCode)
	}
}
