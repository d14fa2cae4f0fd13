package wxapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/silenceper/wechat/v2/cache"

	"zwfw/sandbox/wechat"
	"zwfw/wxapi"
)

// The client against the sandbox's WeChat API, through the real SDK.
func TestCode2Session(t *testing.T) {
	fake := wechat.New(wechat.Options{})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	defer wxapi.Route(wxapi.OfficialAPIBase, "")

	mp := wxapi.NewMiniProgram(wxapi.Config{AppID: fake.AppID(), AppSecret: fake.AppSecret(), APIBase: srv.URL}, cache.NewMemory())
	ctx := context.Background()
	s, err := mp.Code2Session(ctx, "test:zhangsan")
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != wechat.OpenIDFor(fake.AppID(), "zhangsan") || s.UnionID == "" {
		t.Fatalf("session = %+v", s)
	}
	cases := map[string]struct {
		code string
		want error
	}{
		"unknown code":        {"never-issued", wxapi.ErrInvalidCode},
		"parameter injection": {"x&appid=other", wxapi.ErrInvalidCode},
		"too long":            {string(make([]byte, 200)), wxapi.ErrInvalidCode},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := mp.Code2Session(ctx, c.code); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	code := fake.IssueCode("lisi")
	if _, err := mp.Code2Session(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Code2Session(ctx, code); !errors.Is(err, wxapi.ErrInvalidCode) {
		t.Fatalf("reused code: %v", err)
	}

	wrong := wxapi.NewMiniProgram(wxapi.Config{AppID: fake.AppID(), AppSecret: "wrong", APIBase: srv.URL}, cache.NewMemory())
	if _, err := wrong.Code2Session(ctx, "test:zhangsan"); !errors.Is(err, wxapi.ErrUnavailable) {
		t.Fatalf("wrong secret: %v, want ErrUnavailable (a configuration fault, not the user's)", err)
	}
	srv.Close()
	if _, err := mp.Code2Session(ctx, "test:zhangsan"); !errors.Is(err, wxapi.ErrUnavailable) {
		t.Fatalf("WeChat down: %v", err)
	}
}
