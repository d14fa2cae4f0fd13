package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/bff"
	"zwfw/identity"
	"zwfw/platform/redisx"
	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
	sbprovince "zwfw/sandbox/province"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// zwfw is one running zwfw on the test MongoDB and Redis with its embedded
// sandbox, reached over real HTTP like a browser and a phone reach it.
type zwfw struct {
	t     testing.TB
	app   *bff.App
	base  string
	http  *http.Client
	clock *clock
	rdb   redis.UniversalClient
	keys  redisx.Keys
}

// dropHallDay forgets the console's cached day of a hall, as its time to
// live would (tests do not wait for it).
func (z *zwfw) dropHallDay(hall string, day workdays.Date) {
	z.t.Helper()
	if err := z.rdb.Del(context.Background(), z.keys.Key("console", "hallday", hall, day.String())).Err(); err != nil {
		z.t.Fatal(err)
	}
}

// clock is the booking and hall-day clock; nil time = the wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type option func(*bff.Config)

// start runs zwfw on a fresh database and Redis prefix, on a free port.
func start(t testing.TB, opts ...option) *zwfw {
	t.Helper()
	redisURL, _ := testenv.RedisURL(t)
	rdb, keys := testenv.Redis(t)
	db := testenv.DB(t)
	cfg, err := bff.LoadConfig(func(k string) string {
		switch k {
		case "MONGODB_URI":
			return testenv.MongoURI(t)
		case "MONGODB_DATABASE":
			return db.Name()
		case "REDIS_URL":
			return redisURL
		case "ZWFW_REDIS_PREFIX":
			return string(keys)
		case "ZWFW_SANDBOX":
			return "on"
		case "ZWFW_SANDBOX_COURIER_STEP":
			return "0"
		case "ZWFW_SANDBOX_ADDR":
			return "127.0.0.1:0"
		case "ZWFW_SEED_DEMO":
			return "off"
		case "ZWFW_DATA_DIR":
			return t.TempDir()
		case "ZWFW_JWT_SECRET":
			return strings.Repeat("ab", 32)
		case "ZWFW_SM4_KEY":
			return strings.Repeat("cd", 16)
		case "ZWFW_BLIND_INDEX_KEY":
			return strings.Repeat("ef", 32)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	cfg.BookingClock = clk.Now
	for _, o := range opts {
		o(&cfg)
	}
	logOut := io.Discard
	if os.Getenv("ZWFW_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	app, err := bff.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logOut, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Serve(ln) }()
	app.Listening("http://" + ln.Addr().String())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &zwfw{t: t, app: app, base: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 20 * time.Second}, clock: clk,
		rdb: rdb, keys: keys}
}

// api calls the JSON API and decodes the answer.
func (z *zwfw) api(method, path, token string, body any, headers ...string) (int, map[string]any) {
	z.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, z.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := z.http.Do(req)
	if err != nil {
		z.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// staff creates a staff account (working at halls, for hall staff).
func (z *zwfw) staff(username, password string, role identity.Role, halls ...string) {
	z.t.Helper()
	u, err := z.app.Identity().CreateStaff(context.Background(), username, "测试"+username, password, []identity.Role{role})
	if err != nil {
		z.t.Fatal(err)
	}
	if len(halls) > 0 {
		if _, err := z.app.Identity().AssignHalls(context.Background(), u.ID, halls); err != nil {
			z.t.Fatal(err)
		}
	}
}

// citizen signs in through WeChat as name, verified as the sandbox's demo
// person who (each person once per zwfw: one account holds an identity),
// and returns the access token.
func (z *zwfw) citizen(name string, who int) (string, sbprovince.Person) {
	z.t.Helper()
	person := sbprovince.DemoPeople[who]
	status, m := z.api("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "test:" + name})
	if status != 200 {
		z.t.Fatalf("wechat login: %d %v", status, m)
	}
	token := m["access_token"].(string)
	if status, m := z.api("POST", "/api/v1/me/realname", token, map[string]string{"name": person.Name, "id_number": person.IDNumber}); status != 200 {
		z.t.Fatalf("realname: %d %v", status, m)
	}
	return token, person
}

var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// submittedCase files an online case through the API (form with the
// applicant's phone, required materials, submission) and waits for the
// province's case number.
func (z *zwfw) submittedCase(token string, person sbprovince.Person) (id, number string) {
	z.t.Helper()
	var g sbprovince.Guide
	for _, it := range z.app.Sandbox().ProvinceServer().Items() {
		required := 0
		for _, m := range it.Materials {
			if m.Required {
				required++
			}
		}
		if it.OnlineApply && required >= 1 && len(it.FormFields) > 0 {
			g = it
			break
		}
	}
	if g.Code == "" {
		z.t.Fatal("the sandbox has no online item")
	}
	form := map[string]any{}
	for _, f := range g.FormFields {
		switch f.Name {
		case "applicant_name", "applicant_id_number", "contact_name", "contact_id_number":
			continue // filled in from the account
		}
		switch f.Type {
		case "number":
			form[f.Name] = 1
		case "date":
			form[f.Name] = "2026-11-20"
		case "enum":
			form[f.Name] = f.Options[0]
		case "phone":
			form[f.Name] = person.Phone
		case "id_number":
			form[f.Name] = person.IDNumber
		case "uscc":
			form[f.Name] = sbprovince.DemoCompanies[0].USCC
		case "address":
			form[f.Name] = person.Address
		default:
			form[f.Name] = "测试"
		}
	}
	status, m := z.api("POST", "/api/v1/cases", token, map[string]any{"item_code": g.Code, "form": form,
		"delivery": map[string]string{"materials": "upload", "result": "electronic"}})
	if status != 201 {
		z.t.Fatalf("create case: %d %v", status, m)
	}
	id = m["id"].(string)
	for _, mat := range g.Materials {
		if mat.Required {
			z.upload(token, id, mat.ID)
		}
	}
	if status, m := z.api("POST", "/api/v1/cases/"+id+"/submit", token, nil, "Idempotency-Key", "submit-"+id); status != 202 {
		z.t.Fatalf("submit: %d %v", status, m)
	}
	testenv.WaitFor(z.t, "a case number", func() bool {
		_, m := z.api("GET", "/api/v1/cases/"+id, token, nil)
		number, _ = m["case_number"].(string)
		return number != ""
	})
	return id, number
}

func (z *zwfw) upload(token, caseID, slot string) {
	z.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("slot_id", slot)
	fw, _ := w.CreateFormFile("file", "m.pdf")
	_, _ = fw.Write(minimalPDF)
	_ = w.Close()
	req, _ := http.NewRequest("POST", z.base+"/api/v1/cases/"+caseID+"/materials", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := z.http.Do(req)
	if err != nil {
		z.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		z.t.Fatalf("upload %s: %d", slot, res.StatusCode)
	}
}

// bookableItem is a sandbox item bookable at hall.
func (z *zwfw) bookableItem(hall string) string {
	z.t.Helper()
	for _, it := range z.app.Sandbox().ProvinceServer().Items() {
		for _, h := range it.Halls {
			if it.Bookable && h.ID == hall {
				return it.Code
			}
		}
	}
	z.t.Fatalf("no bookable item at %s", hall)
	return ""
}

// configureHall gives hall one window serving item (admin API).
func (z *zwfw) configureHall(hall, item string) {
	z.t.Helper()
	z.staff("admin91", "Admin-pass-2026", identity.RoleAdmin)
	admin := z.loginStaffAPI("admin91", "Admin-pass-2026")
	status, m := z.api("PUT", "/api/v1/admin/halls/"+hall+"/config", admin, map[string]any{
		"name": "鼓楼区政务服务中心", "windows": []map[string]any{{"id": "w1", "name": "1号窗口", "item_codes": []string{item}, "per_slot_capacity": 4}},
	})
	if status != 200 {
		z.t.Fatalf("hall config: %d %v", status, m)
	}
}

func (z *zwfw) loginStaffAPI(username, password string) string {
	z.t.Helper()
	status, m := z.api("POST", "/api/v1/auth/staff", "", map[string]string{"username": username, "password": password})
	if status != 200 {
		z.t.Fatalf("staff login: %d %v", status, m)
	}
	return m["access_token"].(string)
}

// hallWorkday pins the booking clock to 08:00 of the next working day at
// hall with free slots for item, and returns that day.
func (z *zwfw) hallWorkday(hall, item string) workdays.Date {
	z.t.Helper()
	day := z.nextWorkday(hall, item)
	z.clock.Set(day.Start().Add(8 * time.Hour))
	return day
}

// nextWorkday is the first day from tomorrow with free slots for item at hall.
func (z *zwfw) nextWorkday(hall, item string) workdays.Date {
	z.t.Helper()
	from := workdays.DateOf(time.Now()).AddDays(1)
	status, m := z.api("GET", fmt.Sprintf("/api/v1/halls/%s/slots?item_code=%s&from=%s&days=7", hall, item, from), "", nil)
	if status != 200 {
		z.t.Fatalf("slots: %d %v", status, m)
	}
	slots, _ := m["slots"].([]any)
	for _, s := range slots {
		sl := s.(map[string]any)
		if sl["bookable"] == true {
			start, err := time.Parse(time.RFC3339, sl["start"].(string))
			if err != nil {
				z.t.Fatal(err)
			}
			return workdays.DateOf(start)
		}
	}
	z.t.Fatalf("no bookable slot at %s in the coming week: %v", hall, m)
	return workdays.Date{}
}

// book books the first free slot of day at hall for item (for caseID if
// set) through the API and returns the booking.
func (z *zwfw) book(token, hall, item string, day workdays.Date, caseID string) map[string]any {
	z.t.Helper()
	status, m := z.api("GET", fmt.Sprintf("/api/v1/halls/%s/slots?item_code=%s&from=%s&days=1", hall, item, day), "", nil)
	if status != 200 {
		z.t.Fatalf("slots: %d %v", status, m)
	}
	for _, s := range m["slots"].([]any) {
		sl := s.(map[string]any)
		if sl["bookable"] != true {
			continue
		}
		req := map[string]string{"hall_id": hall, "item_code": item, "slot_start": sl["start"].(string)}
		if caseID != "" {
			req["case_id"] = caseID
		}
		status, b := z.api("POST", "/api/v1/bookings", token, req, "Idempotency-Key", fmt.Sprintf("book-%d", time.Now().UnixNano()))
		if status != 201 {
			z.t.Fatalf("book: %d %v", status, b)
		}
		return b
	}
	z.t.Fatalf("no bookable slot on %s", day)
	return nil
}

// browserless is a cookie-keeping HTTP client for the console, for the
// checks a browser hides (headers, cookie attributes, forged posts).
type browserless struct {
	z    *zwfw
	http *http.Client
}

func (z *zwfw) browserless() *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{z: z, http: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browserless) do(method, path string, form url.Values, headers ...string) *page {
	b.z.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.z.base+path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.z.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return &page{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

func (b *browserless) get(path string) *page { return b.do("GET", path, nil) }

var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf is the token of the first form on p.
func (p *page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF field on the page (%d):\n%s", p.Status, p.Body)
	}
	return m[1]
}

// login signs in through the console's form and returns the page it lands on.
func (b *browserless) login(username, password string) *page {
	b.z.t.Helper()
	form := b.get("/console/login")
	p := b.do("POST", "/console/login", url.Values{"_csrf": {form.csrf(b.z.t)}, "username": {username}, "password": {password}})
	if p.Status != http.StatusSeeOther {
		b.z.t.Fatalf("login %s: %d %s", username, p.Status, p.Body)
	}
	return b.get(p.Header.Get("Location"))
}
