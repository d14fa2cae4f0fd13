package push

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestPushReachesEachPlatformAsItShowsThere(t *testing.T) {
	e := newEnv(t)
	android := e.s.RegisterDevice(PlatformAndroid)
	ios := e.s.RegisterDevice(PlatformIOS)
	other := e.s.RegisterDevice(PlatformAndroid) // not in the audience

	a := e.push(fmt.Sprintf(`{
	  "platform": ["android", "ios"],
	  "audience": {"registration_id": [%q, %q, %q]},
	  "notification": {
	    "alert": "shared text",
	    "android": {"alert": "您的办件已受理", "title": "办件进度", "extras": {"case_number": "FZ2026030200010001", "n": 3}},
	    "ios": {"alert": {"title": "办件进度", "body": "您的办件已受理"}, "sound": "default", "badge": "+1",
	            "extras": {"case_number": "FZ2026030200010001"}}
	  },
	  "options": {"sendno": 42, "time_to_live": 3600, "apns_production": false}
	}`, android, ios, android))

	if a.status != http.StatusOK || a.Error != nil {
		t.Fatalf("push: %d %s", a.status, a.raw)
	}
	if a.SendNo != "42" {
		t.Errorf("sendno = %q, want \"42\" (echoed as a string)", a.SendNo)
	}
	if _, err := strconv.ParseUint(a.MsgID, 10, 64); err != nil {
		t.Errorf("msg_id = %q, want a decimal string", a.MsgID)
	}

	got := e.s.Messages(android)
	if len(got) != 1 {
		t.Fatalf("android got %d messages (a repeated id must count once), want 1", len(got))
	}
	m := got[0]
	if m.Kind != KindNotification || m.Alert != "您的办件已受理" || m.Title != "办件进度" ||
		m.Extras["case_number"] != "FZ2026030200010001" || m.Extras["n"] != float64(3) ||
		m.MsgID != a.MsgID || m.SendNo != "42" || m.TimeToLive != 3600 || !m.Time.Equal(start) {
		t.Errorf("android message = %+v", m)
	}

	got = e.s.Messages(ios)
	if len(got) != 1 {
		t.Fatalf("ios got %d messages, want 1", len(got))
	}
	m = got[0]
	if m.Alert != "您的办件已受理" || m.Title != "办件进度" || m.Sound != "default" || m.Badge != "+1" ||
		m.APNsProduction || m.Extras["case_number"] != "FZ2026030200010001" {
		t.Errorf("ios message = %+v", m)
	}
	if n := len(e.s.Messages(other)); n != 0 {
		t.Errorf("a device outside the audience got %d messages", n)
	}
	if n := len(e.s.Messages("")); n != 2 {
		t.Errorf("all messages = %d, want 2", n)
	}
}

func TestSharedAlertAndDefaults(t *testing.T) {
	e := newEnv(t)
	ios := e.s.RegisterDevice(PlatformIOS)
	a := e.push(toIDs(ios))
	if a.status != http.StatusOK {
		t.Fatalf("push: %d %s", a.status, a.raw)
	}
	if a.SendNo != "0" {
		t.Errorf("sendno without options = %q, want \"0\"", a.SendNo)
	}
	m := e.s.Messages(ios)[0]
	if m.Alert != "您的办件已受理" || m.Title != "" || !m.APNsProduction || m.TimeToLive != DefaultTimeToLive {
		t.Errorf("message = %+v; want the shared alert, production APNs and a 1-day TTL by default", m)
	}
}

func TestCustomMessageAndNotificationTogether(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	a := e.push(fmt.Sprintf(`{"platform":"all","audience":{"registration_id":[%q]},
	  "notification":{"alert":"提醒"},
	  "message":{"msg_content":"refresh","title":"sync","extras":{"k":"v"}}}`, id))
	if a.status != http.StatusOK {
		t.Fatalf("push: %d %s", a.status, a.raw)
	}
	got := e.s.Messages(id)
	if len(got) != 2 || got[0].Kind != KindNotification || got[1].Kind != KindMessage ||
		got[1].Alert != "refresh" || got[1].Title != "sync" || got[1].Extras["k"] != "v" {
		t.Errorf("messages = %+v", got)
	}
}

func TestBroadcastReachesInstalledDevicesOfThePlatform(t *testing.T) {
	e := newEnv(t)
	a1 := e.s.RegisterDevice(PlatformAndroid)
	a2 := e.s.RegisterDevice(PlatformAndroid)
	i1 := e.s.RegisterDevice(PlatformIOS)
	if err := e.s.UninstallDevice(a2); err != nil {
		t.Fatal(err)
	}
	a := e.push(`{"platform":["android"],"audience":"all","notification":{"alert":"系统维护通知"}}`)
	if a.status != http.StatusOK {
		t.Fatalf("push: %d %s", a.status, a.raw)
	}
	if len(e.s.Messages(a1)) != 1 || len(e.s.Messages(a2)) != 0 || len(e.s.Messages(i1)) != 0 {
		t.Errorf("broadcast reached %d/%d/%d, want 1/0/0", len(e.s.Messages(a1)), len(e.s.Messages(a2)), len(e.s.Messages(i1)))
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	for _, tc := range []struct{ name, auth string }{
		{"no header", ""},
		{"wrong secret", basic(e.s.AppKey(), "0123456789abcdef01234567")},
		{"wrong key", basic("0123456789abcdef01234567", e.s.MasterSecret())},
		{"swapped", basic(e.s.MasterSecret(), e.s.AppKey())},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(e.s.AppKey()+e.s.MasterSecret()))},
		{"not base64", "Basic !!!"},
		{"bearer", "Bearer " + e.s.MasterSecret()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(http.MethodPost, "/v3/push", tc.auth, toIDs(id))
			if a.status != http.StatusUnauthorized || a.code() != CodeAuthFailed {
				t.Errorf("got %d %s, want 401 with code 1004", a.status, a.raw)
			}
		})
	}
	if n := len(e.s.Messages(id)); n != 0 {
		t.Errorf("refused pushes delivered %d messages", n)
	}
	if a := e.call(http.MethodPost, "/v3/push", "basic "+strings.TrimPrefix(e.s.BasicAuth(), "Basic "), toIDs(id)); a.status != http.StatusOK {
		t.Errorf("the scheme is case-insensitive, got %d %s", a.status, a.raw)
	}
	if st := e.s.Stats(); st.AuthFailed != 7 || st.Accepted != 1 {
		t.Errorf("stats = %+v, want 7 auth failures and 1 accepted", st)
	}
}

func TestInvalidPushes(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformIOS)
	ids := make([]string, MaxRegistrationIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", fmt.Sprintf("id%d", i))
	}
	aud := fmt.Sprintf(`{"registration_id":[%q]}`, id)
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"not JSON", `{"platform":`, CodeInvalidParam},
		{"no platform", `{"audience":` + aud + `,"notification":{"alert":"x"}}`, CodeMissingParam},
		{"platform word", `{"platform":"iphone","audience":` + aud + `,"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"unknown platform", `{"platform":["android","blackberry"],"audience":` + aud + `,"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"empty platforms", `{"platform":[],"audience":` + aud + `,"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"no audience", `{"platform":"all","notification":{"alert":"x"}}`, CodeMissingParam},
		{"audience word", `{"platform":"all","audience":"everyone","notification":{"alert":"x"}}`, CodeInvalidParam},
		{"audience key", `{"platform":"all","audience":{"phone":["13800138000"]},"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"ids not strings", `{"platform":"all","audience":{"registration_id":[1,2]},"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"no ids", `{"platform":"all","audience":{"registration_id":[]},"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"too many ids", `{"platform":"all","audience":{"registration_id":[` + strings.Join(ids, ",") + `]},"notification":{"alert":"x"}}`, CodeInvalidParam},
		{"no content", `{"platform":"all","audience":` + aud + `}`, CodeMissingParam},
		{"no alert", `{"platform":"all","audience":` + aud + `,"notification":{"android":{"title":"t"}}}`, CodeInvalidParam},
		{"no ios alert", `{"platform":["ios"],"audience":` + aud + `,"notification":{"android":{"alert":"a"}}}`, CodeInvalidParam},
		{"ios alert number", `{"platform":"all","audience":` + aud + `,"notification":{"ios":{"alert":5}}}`, CodeInvalidParam},
		{"badge word", `{"platform":"all","audience":` + aud + `,"notification":{"alert":"x","ios":{"badge":"many"}}}`, CodeInvalidParam},
		{"message without content", `{"platform":"all","audience":` + aud + `,"message":{"title":"t"}}`, CodeMissingParam},
		{"extras not object", `{"platform":"all","audience":` + aud + `,"notification":{"android":{"alert":"x","extras":[1]}}}`, CodeInvalidParam},
		{"ttl too long", `{"platform":"all","audience":` + aud + `,"notification":{"alert":"x"},"options":{"time_to_live":864001}}`, CodeInvalidParam},
		{"sendno string", `{"platform":"all","audience":` + aud + `,"notification":{"alert":"x"},"options":{"sendno":"7"}}`, CodeInvalidParam},
		{"too large", `{"platform":"all","audience":` + aud + `,"notification":{"alert":"` + strings.Repeat("办", 1400) + `"}}`, CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.push(tc.body)
			if a.code() != tc.code || a.status != statusOf[tc.code] {
				t.Errorf("got %d %s, want code %d with HTTP %d", a.status, a.raw, tc.code, statusOf[tc.code])
			}
		})
	}
	if n := len(e.s.Messages("")); n != 0 {
		t.Errorf("invalid pushes delivered %d messages", n)
	}
}

func TestNoTarget(t *testing.T) {
	e := newEnv(t)
	android := e.s.RegisterDevice(PlatformAndroid)
	gone := e.s.RegisterDevice(PlatformIOS)
	if err := e.s.UninstallDevice(gone); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, body string }{
		{"unknown id", toIDs("1a0018970a9c32ea1d2")},
		{"uninstalled", toIDs(gone)},
		{"other platform", fmt.Sprintf(`{"platform":["ios"],"audience":{"registration_id":[%q]},"notification":{"alert":"x"}}`, android)},
		{"tag as well", fmt.Sprintf(`{"platform":"all","audience":{"registration_id":[%q],"tag":["福州"]},"notification":{"alert":"x"}}`, android)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.push(tc.body)
			if a.status != http.StatusBadRequest || a.code() != CodeNoTarget || a.Error.Message != msgNoTarget {
				t.Fatalf("got %d %s, want 400 with code 1011", a.status, a.raw)
			}
			if a.MsgID == "" {
				t.Error("a 1011 answer carries the push's msg_id")
			}
		})
	}
	if a := e.push(toIDs("1a0018970a9c32ea1d2", android)); a.status != http.StatusOK {
		t.Errorf("one known id among unknown ones is enough: got %d %s", a.status, a.raw)
	}
	if st := e.s.Stats(); st.NoTarget != 4 || st.Delivered != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestValidateSendsNothing(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	a := e.call(http.MethodPost, "/v3/push/validate", e.s.BasicAuth(), toIDs(id))
	if a.status != http.StatusOK || a.MsgID == "" {
		t.Fatalf("validate: %d %s", a.status, a.raw)
	}
	if n := len(e.s.Messages(id)); n != 0 {
		t.Errorf("validate delivered %d messages", n)
	}
	if a := e.call(http.MethodPost, "/v3/push/validate", e.s.BasicAuth(), toIDs("nobody")); a.code() != CodeNoTarget {
		t.Errorf("validate of no target: %d %s, want 1011", a.status, a.raw)
	}
}

func TestOnlyPost(t *testing.T) {
	e := newEnv(t)
	a := e.call(http.MethodGet, "/v3/push", e.s.BasicAuth(), "")
	if a.status != http.StatusMethodNotAllowed || a.code() != CodeMethod {
		t.Errorf("GET: %d %s, want 405 with code 1001", a.status, a.raw)
	}
}

func TestMsgIDsIncrease(t *testing.T) {
	e := newEnv(t)
	id := e.s.RegisterDevice(PlatformAndroid)
	var last uint64
	for i := range 5 {
		a := e.push(toIDs(id))
		n, err := strconv.ParseUint(a.MsgID, 10, 64)
		if err != nil || n <= last {
			t.Fatalf("push %d: msg_id %q after %d", i, a.MsgID, last)
		}
		last = n
	}
}
