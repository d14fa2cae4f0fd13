package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/console"
	"zwfw/identity"
)

// cookie returns the Set-Cookie line of name on p ("" when none).
func cookie(p *page, name string) string {
	for _, c := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, name+"=") {
			return c
		}
	}
	return ""
}

func wantCookie(t *testing.T, line string, secure bool) {
	t.Helper()
	for _, attr := range []string{"httponly", "samesite=strict", "path=/console"} {
		if !strings.Contains(strings.ToLower(line), attr) {
			t.Fatalf("cookie %q lacks %s", line, attr)
		}
	}
	if strings.Contains(strings.ToLower(line), "; secure") != secure {
		t.Fatalf("cookie %q: Secure should be %v", line, secure)
	}
}

// inlineCode finds what the Content-Security-Policy would block: inline
// script, inline event handlers, style attributes.
var inlineCode = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<script>|\son[a-z]+\s*=|\sstyle\s*=`)

func wantSecurityHeaders(t *testing.T, p *page) {
	t.Helper()
	csp := p.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "object-src 'none'"} {
		if !strings.Contains(csp, d) {
			t.Fatalf("Content-Security-Policy %q lacks %s", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("Content-Security-Policy allows inline code: %q", csp)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := p.Header.Get(h); got != want {
			t.Fatalf("%s = %q, want %q", h, got, want)
		}
	}
	if loc := inlineCode.FindString(p.Body); loc != "" {
		t.Fatalf("the page has inline code the policy blocks: %q", loc)
	}
}

// The console's pages carry a strict Content-Security-Policy and the
// framing, sniffing and referrer headers; its cookies are HttpOnly,
// SameSite=Strict, scoped to /console, and Secure when the request came
// over TLS through a trusted proxy (never because any client says so).
func TestSecurityHeadersAndCookies(t *testing.T) {
	z := start(t)
	z.staff("hall21", "Window-pass-2026", identity.RoleStaff, "fz-gl")
	b := z.browserless()

	login := b.get("/console/login")
	if login.Status != 200 || !strings.Contains(login.Body, "工作人员登录") {
		t.Fatalf("login page: %d %s", login.Status, login.Body)
	}
	wantSecurityHeaders(t, login)
	wantCookie(t, cookie(login, "zwfw_console_login"), false)

	post := b.do("POST", "/console/login", url.Values{"_csrf": {login.csrf(t)}, "username": {"hall21"}, "password": {"Window-pass-2026"}},
		"X-Forwarded-Proto", "https") // believed only from a trusted proxy: none is configured here
	if post.Status != http.StatusSeeOther || post.Header.Get("Location") != "/console/" {
		t.Fatalf("login: %d %s %s", post.Status, post.Header.Get("Location"), post.Body)
	}
	wantCookie(t, cookie(post, "zwfw_console"), false)
	if c := cookie(post, "zwfw_console_login"); !strings.Contains(c, "expires=") {
		t.Fatalf("the login form's cookie is not cleared after login: %q", c)
	}
	for _, path := range []string{"/console/", "/console/hall", "/console/nowhere"} {
		p := b.get(path)
		wantSecurityHeaders(t, p)
	}
	css := b.get("/console/static/console.css")
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || css.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("style sheet: %d %v", css.Status, css.Header)
	}

	// Behind a trusted proxy that says https, the cookies are Secure.
	tls := start(t, func(c *bff.Config) { c.TrustedProxies = "127.0.0.1" })
	tls.staff("hall22", "Window-pass-2026", identity.RoleStaff, "fz-gl")
	tb := tls.browserless()
	form := tb.do("GET", "/console/login", nil, "X-Forwarded-Proto", "https")
	wantCookie(t, cookie(form, "zwfw_console_login"), true)
	post = tb.do("POST", "/console/login", url.Values{"_csrf": {form.csrf(t)}, "username": {"hall22"}, "password": {"Window-pass-2026"}},
		"X-Forwarded-Proto", "https")
	wantCookie(t, cookie(post, "zwfw_console"), true)
}

// The console signs staff in with identity's staff login: the same wrong
// passwords lock the same account for the API too.
func TestLoginSharesTheAPIsLockout(t *testing.T) {
	z := start(t)
	z.staff("hotline21", "Hotline-pass-2026", identity.RoleHotline)
	b := z.browserless()
	var last *page
	for i := 0; i < identity.Defaults().StaffLockThreshold; i++ {
		form := b.get("/console/login")
		last = b.do("POST", "/console/login", url.Values{"_csrf": {form.csrf(t)}, "username": {"hotline21"}, "password": {"wrong-pass-1"}})
	}
	if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Body, "锁定") {
		t.Fatalf("after %d wrong passwords: %d %s", identity.Defaults().StaffLockThreshold, last.Status, last.Body)
	}
	if !strings.Contains(last.Body, `value="hotline21"`) {
		t.Fatal("the login form forgot the username")
	}
	status, m := z.api("POST", "/api/v1/auth/staff", "", map[string]string{"username": "hotline21", "password": "Hotline-pass-2026"})
	if status != http.StatusTooManyRequests || m["code"] != "AUTH_STAFF_LOCKED" {
		t.Fatalf("API login of the account the console locked: %d %v", status, m)
	}
	form := b.get("/console/login")
	p := b.do("POST", "/console/login", url.Values{"_csrf": {form.csrf(t)}, "username": {"nobody"}, "password": {"x"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "用户名或密码错误") {
		t.Fatalf("unknown user: %d %s", p.Status, p.Body)
	}
}

// Pages open by role (a 403 page otherwise, and the navigation shows only
// what opens); every form post needs the session's token.
func TestRolesAndForgedPosts(t *testing.T) {
	z := start(t)
	z.staff("hotline22", "Hotline-pass-2026", identity.RoleHotline)
	z.staff("hall23", "Window-pass-2026", identity.RoleStaff, "fz-gl")

	anon := z.browserless()
	p := anon.get("/console/hall")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/login?next=%2Fconsole%2Fhall" {
		t.Fatalf("signed out: %d %s", p.Status, p.Header.Get("Location"))
	}
	p = anon.do("POST", "/console/login", url.Values{"username": {"hall23"}, "password": {"Window-pass-2026"}})
	wantForbiddenPage(t, p, "CONSOLE_CSRF_INVALID")

	op := z.browserless()
	home := op.login("hotline22", "Hotline-pass-2026")
	if !strings.Contains(home.Body, "12345 热线查询") || strings.Contains(home.Body, "大厅取号") || strings.Contains(home.Body, "在线会话") {
		t.Fatalf("hotline operator's navigation:\n%s", home.Body)
	}
	for _, path := range []string{"/console/admin/sessions", "/console/hall"} {
		wantForbiddenPage(t, op.get(path), "CONSOLE_PAGE_FORBIDDEN")
	}
	if p := op.get("/console/nowhere"); p.Status != 404 || !strings.Contains(p.Body, "页面不存在") {
		t.Fatalf("unknown page: %d %s", p.Status, p.Body)
	}

	clerk := z.browserless()
	hall := clerk.login("hall23", "Window-pass-2026")
	token := hall.csrf(t)
	if strings.Contains(hall.Body, "12345 热线查询") {
		t.Fatal("a hall clerk's navigation shows the hotline")
	}
	for name, form := range map[string]url.Values{
		"no token":    {"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}},
		"wrong token": {"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}, "_csrf": {token + "x"}},
		"other user":  {"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}, "_csrf": {home.csrf(t)}},
	} {
		t.Run(name, func(t *testing.T) {
			wantForbiddenPage(t, clerk.do("POST", "/console/hall/checkin", form), "CONSOLE_CSRF_INVALID")
		})
	}
	cross := clerk.do("POST", "/console/hall/checkin", url.Values{"code": {"X"}, "_csrf": {token}}, "Sec-Fetch-Site", "cross-site")
	wantForbiddenPage(t, cross, "CONSOLE_CSRF_INVALID")
	// With its token the same post goes through (and is refused for the code, not the form).
	ok := clerk.do("POST", "/console/hall/checkin", url.Values{"code": {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"}, "_csrf": {token}, "hall": {"fz-gl"}})
	if ok.Status != http.StatusNotFound || !strings.Contains(ok.Body, "核验码无效") {
		t.Fatalf("check-in of an unknown code: %d %s", ok.Status, ok.Body)
	}
}

func wantForbiddenPage(t *testing.T, p *page, code string) {
	t.Helper()
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, code) || !strings.Contains(p.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("want a 403 page with %s, got %d %s\n%s", code, p.Status, p.Header.Get("Content-Type"), p.Body)
	}
	if !strings.Contains(p.Body, "安全校验未通过") && !strings.Contains(p.Body, "无权") {
		t.Fatalf("the 403 page says no reason in Chinese:\n%s", p.Body)
	}
}

// A session ends after the idle timeout without use (use moves it on), at
// logout (with the identity session of its login), and when an admin
// ends it.
func TestSessionEnds(t *testing.T) {
	z := start(t, func(c *bff.Config) { c.ConsoleIdleTimeout = 10 * time.Minute })
	z.staff("hotline23", "Hotline-pass-2026", identity.RoleHotline)
	z.staff("admin23", "Admin-pass-2026", identity.RoleAdmin)
	t0 := time.Now()
	z.clock.Set(t0)

	op := z.browserless()
	op.login("hotline23", "Hotline-pass-2026")
	for _, after := range []time.Duration{9 * time.Minute, 18 * time.Minute} {
		z.clock.Set(t0.Add(after))
		if p := op.get("/console/hotline"); p.Status != 200 {
			t.Fatalf("used again after %s: %d %s", after, p.Status, p.Header.Get("Location"))
		}
	}
	z.clock.Set(t0.Add(29 * time.Minute))
	p := op.get("/console/hotline")
	if p.Status != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "expired=1") {
		t.Fatalf("after 11 idle minutes: %d %s", p.Status, p.Header.Get("Location"))
	}
	if p := op.get(p.Header.Get("Location")); !strings.Contains(p.Body, "登录已失效") {
		t.Fatalf("the login page does not say the session timed out:\n%s", p.Body)
	}

	// Logout ends the console session and revokes the identity session family.
	z.clock.Set(time.Time{})
	home := op.login("hotline23", "Hotline-pass-2026")
	out := op.do("POST", "/console/logout", url.Values{"_csrf": {home.csrf(t)}})
	if out.Status != http.StatusSeeOther || out.Header.Get("Location") != "/console/login?bye=1" {
		t.Fatalf("logout: %d %s", out.Status, out.Header.Get("Location"))
	}
	if p := op.get("/console/"); p.Status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", p.Status)
	}
	open, err := z.app.DB().Collection("session_families").CountDocuments(context.Background(), bson.D{{Key: "revoked_at", Value: nil}})
	if err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Fatalf("%d identity session families still open after the console's logins ended", open)
	}

	// An admin sees who is signed in and signs the operator out.
	op.login("hotline23", "Hotline-pass-2026")
	admin := z.browserless()
	admin.login("admin23", "Admin-pass-2026")
	list := admin.get("/console/admin/sessions")
	ref := regexp.MustCompile(`/console/admin/sessions/([0-9a-f]+)/end`).FindStringSubmatch(list.Body)
	if list.Status != 200 || !strings.Contains(list.Body, "hotline23") || ref == nil {
		t.Fatalf("sessions page: %d\n%s", list.Status, list.Body)
	}
	end := admin.do("POST", "/console/admin/sessions/"+ref[1]+"/end", url.Values{"_csrf": {list.csrf(t)}})
	if end.Status != 200 || !strings.Contains(end.Body, "已强制 hotline23 下线") {
		t.Fatalf("end session: %d %s", end.Status, end.Body)
	}
	if p := op.get("/console/hotline"); p.Status != http.StatusSeeOther {
		t.Fatalf("the operator is still signed in after an admin ended the session: %d", p.Status)
	}

	// The daily housekeeping deletes what timed out.
	sessions := console.NewSessionStore(z.app.DB())
	n, err := sessions.PurgeExpired(context.Background(), time.Now().Add(13*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v (the admin's session is the one left)", n, err)
	}
}
