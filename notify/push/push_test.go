package push_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"zwfw/notify/push"
	"zwfw/sandbox/fake"
	pushfake "zwfw/sandbox/push"
)

// start is 30 s into a minute, so the fake's rate-limit window resets in 30 s.
var start = time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC)

// env is the sandbox's push fake on a real HTTP server and a client of it.
type env struct {
	gw     *pushfake.Server
	clock  *fake.ManualClock
	srv    *httptest.Server
	client *push.Client
}

func newEnv(t testing.TB, production bool) *env {
	t.Helper()
	clock := fake.NewManualClock(start)
	gw := pushfake.New(pushfake.Options{Now: clock.Now})
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	c := push.New(push.Config{BaseURL: srv.URL + "/", AppKey: gw.AppKey(), MasterSecret: gw.MasterSecret(), Production: production}, srv.Client())
	return &env{gw: gw, clock: clock, srv: srv, client: c}
}

func TestSendReachesTheDevice(t *testing.T) {
	e := newEnv(t, true)
	extras := map[string]string{"page": "pages/case/detail?n=FZ2026030200010001", "kind": "case.status_changed"}
	for _, platform := range []string{pushfake.PlatformAndroid, pushfake.PlatformIOS} {
		t.Run(platform, func(t *testing.T) {
			id := e.gw.RegisterDevice(platform)
			msgID, err := e.client.Send(context.Background(), push.Message{
				RegistrationID: id, Title: "办件进度", Body: "您的办件已受理 <营业执照> & 材料", Extras: extras,
			})
			if err != nil {
				t.Fatal(err)
			}
			got := e.gw.Messages(id)
			if len(got) != 1 {
				t.Fatalf("device got %d messages, want 1", len(got))
			}
			m := got[0]
			if m.MsgID != msgID || m.Kind != pushfake.KindNotification || m.Title != "办件进度" ||
				m.Alert != "您的办件已受理 <营业执照> & 材料" || !m.APNsProduction || m.TimeToLive != 86400 {
				t.Errorf("message = %+v (msg_id %s)", m, msgID)
			}
			if len(m.Extras) != len(extras) || m.Extras["page"] != extras["page"] || m.Extras["kind"] != extras["kind"] {
				t.Errorf("extras = %v, want %v", m.Extras, extras)
			}
		})
	}
}

func TestSendWithoutTitle(t *testing.T) {
	e := newEnv(t, false)
	id := e.gw.RegisterDevice(pushfake.PlatformIOS)
	if _, err := e.client.Send(context.Background(), push.Message{RegistrationID: id, Body: "请按时到大厅办理"}); err != nil {
		t.Fatal(err)
	}
	m := e.gw.Messages(id)[0]
	if m.Alert != "请按时到大厅办理" || m.Title != "" || m.APNsProduction || m.Badge != "+1" || m.Sound != "default" {
		t.Errorf("message = %+v", m)
	}
}

func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(e *env) (push.Message, *push.Client)
		want  error
		not   []error
	}{
		{"unknown device", func(e *env) (push.Message, *push.Client) {
			return push.Message{RegistrationID: "1a0018970a9c32ea1d2", Body: "x"}, e.client
		}, push.ErrNotInstalled, []error{push.ErrTemporary, push.ErrRateLimited}},
		{"uninstalled", func(e *env) (push.Message, *push.Client) {
			id := e.gw.RegisterDevice(pushfake.PlatformAndroid)
			if err := e.gw.UninstallDevice(id); err != nil {
				panic(err)
			}
			return push.Message{RegistrationID: id, Body: "x"}, e.client
		}, push.ErrNotInstalled, []error{push.ErrTemporary}},
		{"wrong secret", func(e *env) (push.Message, *push.Client) {
			c := push.New(push.Config{BaseURL: e.srv.URL, AppKey: e.gw.AppKey(), MasterSecret: "0123456789abcdef01234567"}, nil)
			return push.Message{RegistrationID: e.gw.RegisterDevice(pushfake.PlatformAndroid), Body: "x"}, c
		}, push.ErrAuth, []error{push.ErrTemporary, push.ErrNotInstalled}},
		{"down", func(e *env) (push.Message, *push.Client) {
			must(e.gw.SetFaults(pushfake.Faults{Down: true}))
			return push.Message{RegistrationID: e.gw.RegisterDevice(pushfake.PlatformAndroid), Body: "x"}, e.client
		}, push.ErrTemporary, []error{push.ErrRateLimited, push.ErrNotInstalled}},
		{"server error", func(e *env) (push.Message, *push.Client) {
			must(e.gw.SetFaults(pushfake.Faults{ErrorRate: 1}))
			return push.Message{RegistrationID: e.gw.RegisterDevice(pushfake.PlatformAndroid), Body: "x"}, e.client
		}, push.ErrTemporary, nil},
		{"no body", func(e *env) (push.Message, *push.Client) {
			return push.Message{RegistrationID: e.gw.RegisterDevice(pushfake.PlatformAndroid), Body: "  "}, e.client
		}, push.ErrInvalidMessage, []error{push.ErrTemporary}},
		{"no registration id", func(e *env) (push.Message, *push.Client) {
			return push.Message{Body: "x"}, e.client
		}, push.ErrInvalidMessage, nil},
		{"too large", func(e *env) (push.Message, *push.Client) {
			return push.Message{RegistrationID: e.gw.RegisterDevice(pushfake.PlatformAndroid), Body: strings.Repeat("办", 1400)}, e.client
		}, push.ErrInvalidMessage, []error{push.ErrTemporary}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			m, c := tc.setup(e)
			msgID, err := c.Send(context.Background(), m)
			if !errors.Is(err, tc.want) || msgID != "" {
				t.Fatalf("Send = %q, %v; want %v", msgID, err, tc.want)
			}
			for _, other := range tc.not {
				if errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
			if n := len(e.gw.Messages("")); n != 0 {
				t.Errorf("a failed send delivered %d messages", n)
			}
		})
	}
}

func TestNotInstalledKeepsTheMsgID(t *testing.T) {
	e := newEnv(t, true)
	_, err := e.client.Send(context.Background(), push.Message{RegistrationID: "nobody", Body: "x"})
	var pe *push.Error
	if !errors.As(err, &pe) || pe.Code != 1011 || pe.HTTPStatus != 400 || pe.MsgID == "" {
		t.Fatalf("err = %#v", err)
	}
}

func TestRateLimited(t *testing.T) {
	e := newEnv(t, true)
	id := e.gw.RegisterDevice(pushfake.PlatformAndroid)
	must(e.gw.SetFaults(pushfake.Faults{RateLimitPerMinute: 2}))
	send := func() error {
		_, err := e.client.Send(context.Background(), push.Message{RegistrationID: id, Body: "x"})
		return err
	}
	for i := range 2 {
		if err := send(); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	e.clock.Advance(12 * time.Second)
	err := send()
	if !errors.Is(err, push.ErrRateLimited) || errors.Is(err, push.ErrTemporary) {
		t.Fatalf("third send: %v, want ErrRateLimited only", err)
	}
	if d, ok := push.RetryAfter(err); !ok || d != 18*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 18s (the window resets at the next minute)", d, ok)
	}
	e.clock.Advance(18 * time.Second)
	if err := send(); err != nil {
		t.Errorf("after the window: %v", err)
	}
	if _, ok := push.RetryAfter(errors.New("other")); ok {
		t.Error("RetryAfter of an unrelated error")
	}
}

// The client's own failures to reach the gateway are temporary.
func TestNetworkFailuresAreTemporary(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Drain the body so the server notices the client leaving, then
			// never answer before the client gives up.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer hang.Close()
		defer close(release) // runs first: Close waits for the handler
		c := push.New(push.Config{BaseURL: hang.URL, AppKey: "k", MasterSecret: "s", Timeout: 50 * time.Millisecond}, nil)
		_, err := c.Send(context.Background(), push.Message{RegistrationID: "r", Body: "x"})
		if !errors.Is(err, push.ErrTemporary) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want ErrTemporary wrapping DeadlineExceeded", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		url := gone.URL
		gone.Close()
		c := push.New(push.Config{BaseURL: url, AppKey: "k", MasterSecret: "s"}, nil)
		_, err := c.Send(context.Background(), push.Message{RegistrationID: "r", Body: "x"})
		if !errors.Is(err, push.ErrTemporary) {
			t.Errorf("err = %v, want ErrTemporary", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		e := newEnv(t, true)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := e.client.Send(ctx, push.Message{RegistrationID: e.gw.RegisterDevice(pushfake.PlatformIOS), Body: "x"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

// What goes over the wire, checked against a recorder rather than the fake,
// so that a bug shared by the two would still show.
func TestWireFormat(t *testing.T) {
	var got struct {
		header http.Header
		body   map[string]any
		path   string
	}
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.header, got.path = r.Header.Clone(), r.URL.Path
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got.body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"sendno":"1","msg_id":"18100163538427733"}`)
	}))
	defer rec.Close()
	c := push.New(push.Config{BaseURL: rec.URL, AppKey: "appkey", MasterSecret: "secret", TimeToLive: 3 * time.Hour}, nil)
	msgID, err := c.Send(context.Background(), push.Message{RegistrationID: "160a3797c8a5a5fcd3b", Title: "T", Body: "B", Extras: map[string]string{"k": "v"}})
	if err != nil || msgID != "18100163538427733" {
		t.Fatalf("Send = %q, %v", msgID, err)
	}
	if got.path != "/v3/push" || got.header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("appkey:secret")) ||
		!strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
		t.Errorf("path %q, headers %v", got.path, got.header)
	}
	want := `{"audience":{"registration_id":["160a3797c8a5a5fcd3b"]},` +
		`"notification":{"alert":"B","android":{"alert":"B","extras":{"k":"v"},"title":"T"},` +
		`"ios":{"alert":{"body":"B","title":"T"},"badge":"+1","extras":{"k":"v"},"sound":"default"}},` +
		`"options":{"apns_production":false,"sendno":0,"time_to_live":10800},"platform":"all"}`
	sendNo := got.body["options"].(map[string]any)["sendno"].(float64)
	if sendNo < 0 || sendNo != float64(int64(sendNo)) {
		t.Errorf("sendno = %v, want a non-negative integer", sendNo)
	}
	got.body["options"].(map[string]any)["sendno"] = 0
	b, _ := json.Marshal(got.body)
	if string(b) != want {
		t.Errorf("push object\n got %s\nwant %s", b, want)
	}
}

func TestOddAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"2xx without msg_id", 200, `<html>ok</html>`, nil},
		{"bad gateway page", 502, `<html>502 Bad Gateway</html>`, push.ErrTemporary},
		{"429 without code", 429, ``, push.ErrRateLimited},
		{"1030 timeout", 503, `{"error":{"code":1030,"message":"timeout"}}`, push.ErrTemporary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := push.New(push.Config{BaseURL: srv.URL, AppKey: "k", MasterSecret: "s"}, nil)
			_, err := c.Send(context.Background(), push.Message{RegistrationID: "r", Body: "x"})
			var pe *push.Error
			if !errors.As(err, &pe) || pe.HTTPStatus != tc.status {
				t.Fatalf("err = %v, want *Error with HTTP %d", err, tc.status)
			}
			if tc.want == nil {
				for _, e := range []error{push.ErrTemporary, push.ErrNotInstalled, push.ErrRateLimited, push.ErrAuth} {
					if errors.Is(err, e) {
						t.Errorf("%v matches %v; an unknown outcome must match none", err, e)
					}
				}
			} else if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
