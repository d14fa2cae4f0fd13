package links_test

import (
	"strings"
	"testing"

	"zwfw/links"
)

func maker(t *testing.T) *links.Maker {
	t.Helper()
	m, err := links.New("https://zwfw.example.gov.cn/h5/", "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEveryTargetHasThreeForms(t *testing.T) {
	m := maker(t)
	for _, target := range links.Targets() {
		ref := links.To(target, "X1")
		mp, app, h5 := m.URL(ref, links.MiniProgram), m.URL(ref, links.App), m.URL(ref, links.H5)
		if !strings.HasPrefix(mp, "pages/") {
			t.Errorf("%s: mini-program form %q is not a page path", target, mp)
		}
		if !strings.HasPrefix(app, "zwfw://") {
			t.Errorf("%s: app form %q is not a zwfw:// URL", target, app)
		}
		if !strings.HasPrefix(h5, "https://zwfw.example.gov.cn/h5/") || strings.Contains(h5, "/h5//") {
			t.Errorf("%s: H5 form %q is not under the H5 base", target, h5)
		}
	}
}

func TestLinksPerClient(t *testing.T) {
	m := maker(t)
	cases := []struct {
		ref    links.Ref
		client links.Client
		want   string
	}{
		{links.To(links.Case, "c_0123"), links.MiniProgram, "pages/case/detail?id=c_0123"},
		{links.To(links.Case, "c_0123"), links.App, "zwfw://case/c_0123"},
		{links.To(links.Case, "c_0123"), links.H5, "https://zwfw.example.gov.cn/h5/case/c_0123"},
		{links.To(links.Payment, "35010026000000000017"), links.MiniProgram, "pages/pay/detail?code=35010026000000000017"},
		{links.To(links.Booking, "b_1"), links.App, "zwfw://booking/b_1"},
		{links.Ref{Target: links.Bookings}, links.H5, "https://zwfw.example.gov.cn/h5/bookings"},
		// Ids are escaped for the form they land in.
		{links.To(links.Guide, "a&b c"), links.MiniProgram, "pages/guide/detail?code=a%26b+c"},
		{links.To(links.Guide, "a/b"), links.App, "zwfw://guide/a%2Fb"},
		// An unknown client gets the H5 form; an unknown target opens home.
		{links.To(links.Case, "c_1"), links.Client("tv"), "https://zwfw.example.gov.cn/h5/case/c_1"},
		{links.To(links.Target("nope"), "x"), links.App, "zwfw://home"},
	}
	for _, c := range cases {
		if got := m.Link(c.ref, c.client).URL; got != c.want {
			t.Errorf("%v for %s = %q, want %q", c.ref, c.client, got, c.want)
		}
	}
	if l := m.Link(links.To(links.Case, "c_1"), links.Client("tv")); l.Client != links.H5 {
		t.Errorf("unknown client's link is for %s, want h5", l.Client)
	}
}

func TestParseClient(t *testing.T) {
	for in, want := range map[string]links.Client{"miniprogram": links.MiniProgram, " APP ": links.App, "h5": links.H5} {
		if c, ok := links.ParseClient(in); !ok || c != want {
			t.Errorf("ParseClient(%q) = %q, %v", in, c, ok)
		}
	}
	for _, in := range []string{"", "web", "mini-program"} {
		if _, ok := links.ParseClient(in); ok {
			t.Errorf("ParseClient(%q) accepted", in)
		}
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	for _, c := range []struct{ base, scheme string }{
		{"", ""}, {"zwfw.example.gov.cn", ""}, {"ftp://x", ""}, {"https://x/?a=1", ""}, {"https://x", "1app"}, {"https://x", "a b"},
	} {
		if _, err := links.New(c.base, c.scheme); err == nil {
			t.Errorf("New(%q, %q) accepted", c.base, c.scheme)
		}
	}
	if _, err := links.New("http://localhost:5173/#", "zwfw-dev"); err != nil {
		t.Errorf("a hash-routed H5 base is fine: %v", err)
	}
}
