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

// The getPhoneNumber exchange against the sandbox, through the real SDK.
func TestPhoneNumber(t *testing.T) {
	fake := wechat.New(wechat.Options{})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	defer wxapi.Route(wxapi.OfficialAPIBase, "")
	mp := wxapi.NewMiniProgram(wxapi.Config{AppID: fake.AppID(), AppSecret: fake.AppSecret(), APIBase: srv.URL}, cache.NewMemory())
	ctx := context.Background()

	code := fake.IssuePhoneCode("13800138000")
	p, err := mp.PhoneNumber(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if p.PurePhoneNumber != "13800138000" || p.CountryCode != "86" || p.AppID != fake.AppID() || p.Timestamp == 0 {
		t.Fatalf("phone = %+v", p)
	}
	for name, c := range map[string]string{"used": code, "unknown": "never-issued", "junk": "a b", "empty": ""} {
		if _, err := mp.PhoneNumber(ctx, c); !errors.Is(err, wxapi.ErrInvalidPhoneCode) {
			t.Errorf("%s code: %v, want ErrInvalidPhoneCode", name, err)
		}
	}
	// Another mini-program's client (its token is refused) is a fault of ours, not the user's.
	other := wxapi.NewMiniProgram(wxapi.Config{AppID: fake.AppID(), AppSecret: "wrong", APIBase: srv.URL}, cache.NewMemory())
	if _, err := other.PhoneNumber(ctx, fake.IssuePhoneCode("13800138000")); !errors.Is(err, wxapi.ErrUnavailable) {
		t.Fatalf("wrong secret: %v", err)
	}
	srv.Close()
	if _, err := mp.PhoneNumber(ctx, fake.IssuePhoneCode("13800138000")); !errors.Is(err, wxapi.ErrUnavailable) {
		t.Fatalf("WeChat down: %v", err)
	}
}
