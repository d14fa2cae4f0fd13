package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The production mode as a city runs it: the real zwfw binary with
// ZWFW_SANDBOX=off, every outside system at the standalone sandbox running
// as a separate process, configured only through the variables the
// sandbox prints (its merchant certificate's CA included) and zwfw's own.
// The binaries are built once for both journeys.
func TestProduction(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "zwfw/cmd/zwfw", "zwfw/cmd/sandbox")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("journey", func(t *testing.T) { productionJourney(t, bin) })
	t.Run("killed after the province accepted a submission", func(t *testing.T) { killedAfterProvinceAccepted(t, bin) })
}

// process is a child process whose output goes to a file, shown when the test fails.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	out  string
}

func startProcess(t *testing.T, name, path string, env []string, args ...string) *process {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, name: name, cmd: cmd, out: out}
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("%s output (tail):\n%s", name, b)
		}
	})
	return p
}

// stop signals the process and waits for it (SIGKILL after 25 s).
func (p *process) stop(sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(25 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func (p *process) output() string {
	b, _ := os.ReadFile(p.out)
	return string(b)
}

// deployment is one standalone sandbox and the settings of the zwfw processes that use it.
type deployment struct {
	t       *testing.T
	bin     string
	sandbox string // its URL
	env     []string
	base    string // zwfw's URL
	http    *http.Client
}

// deploy starts the standalone sandbox and prepares a zwfw environment:
// the sandbox's zwfw.env as ZWFW_CONFIG_FILE, plus zwfw's own settings on
// the test MongoDB (a fresh database) and Redis (a fresh prefix).
func deploy(t *testing.T, bin string, extra ...string) *deployment {
	t.Helper()
	out := t.TempDir()
	sb := startProcess(t, "sandbox", filepath.Join(bin, "sandbox"), os.Environ(),
		"-addr", "127.0.0.1:0", "-out", out, "-sms-flow-control=false", "-courier-step", "1s")
	var url string
	testenv.WaitFor(t, "the sandbox to print its URL", func() bool {
		sc := bufio.NewScanner(strings.NewReader(sb.output()))
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "  URL     "); ok {
				url = strings.Fields(rest)[0]
				return true
			}
		}
		return false
	})
	if _, err := os.Stat(filepath.Join(out, "zwfw.env")); err != nil {
		t.Fatalf("the sandbox wrote no zwfw.env: %v", err)
	}
	redisURL, _ := testenv.RedisURL(t)
	_, keys := testenv.Redis(t)
	db := testenv.DB(t)
	addr := freeAddr(t)
	env := append(os.Environ(),
		"ZWFW_CONFIG_FILE="+filepath.Join(out, "zwfw.env"),
		"MONGODB_URI="+testenv.MongoURI(t), "MONGODB_DATABASE="+db.Name(),
		"REDIS_URL="+redisURL, "ZWFW_REDIS_PREFIX="+string(keys),
		"ZWFW_JWT_SECRET="+strings.Repeat("ab", 32), "ZWFW_SM4_KEY="+strings.Repeat("cd", 16),
		"ZWFW_BLIND_INDEX_KEY="+strings.Repeat("ef", 32),
		"ZWFW_ADDR="+addr, "ZWFW_PUBLIC_BASE_URL=http://"+addr, "ZWFW_HALL_MAIL_PHONE=13959100000",
		"ZWFW_DATA_DIR="+t.TempDir(), "ZWFW_LOG_LEVEL=warn")
	env = append(env, extra...)
	return &deployment{t: t, bin: bin, sandbox: url, env: env, base: "http://" + addr,
		http: &http.Client{Timeout: 30 * time.Second}}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// zwfw starts the zwfw binary and waits until it is ready.
func (d *deployment) zwfw() *process {
	d.t.Helper()
	p := startProcess(d.t, "zwfw", filepath.Join(d.bin, "zwfw"), d.env)
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := d.http.Get(d.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if p.cmd.ProcessState != nil || time.Now().After(deadline) {
			d.t.Fatalf("zwfw did not become ready: %v\n%s", err, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.output(), "Mode         production") {
		d.t.Fatalf("the banner does not say production mode:\n%s", p.output())
	}
	return p
}

// reply is an HTTP answer, decoded.
type reply struct {
	status int
	body   []byte
}

func (r reply) m(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// call sends a JSON request to base+path; headers are name, value pairs.
func (d *deployment) call(base, method, path, token string, body any, headers ...string) reply {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := d.http.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, body: b}
}

func (d *deployment) api(method, path, token string, body any, headers ...string) reply {
	d.t.Helper()
	return d.call(d.base+"/api/v1", method, path, token, body, headers...)
}

// control drives the sandbox (what people outside zwfw do) and wants 2xx.
func (d *deployment) control(method, path string, body any) reply {
	d.t.Helper()
	r := d.call(d.sandbox, method, path, "", body)
	if r.status/100 != 2 {
		d.t.Fatalf("sandbox %s %s: %d %s", method, path, r.status, r.body)
	}
	return r
}

func (d *deployment) want(r reply, status int, what string) reply {
	d.t.Helper()
	if r.status != status {
		d.t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}

// waitFor polls cond with a long deadline (the suite shares 2 cores).
func (d *deployment) waitFor(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// citizen logs in through WeChat (the sandbox's test:<name> codes) and
// verifies as 张三 of the population registry.
func (d *deployment) citizen(name string) string {
	d.t.Helper()
	r := d.want(d.api("POST", "/auth/wechat", "", map[string]string{"code": "test:" + name}), 200, "wechat login")
	token := r.m(d.t)["access_token"].(string)
	zhang := sbprovince.DemoPeople[0]
	d.want(d.api("POST", "/me/realname", token, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber}), 200, "real-name")
	return token
}

// mailItem finds, through the catalog, an item applied for online whose
// materials can be picked up and whose result is mailed.
func (d *deployment) mailItem(token string) map[string]any {
	d.t.Helper()
	cursor := ""
	for page := 0; page < 50; page++ {
		r := d.want(d.api("GET", "/items?limit=50&cursor="+cursor, token, nil), 200, "catalog")
		m := r.m(d.t)
		for _, it := range m["items"].([]any) {
			item := it.(map[string]any)
			if item["online_apply"] != true {
				continue
			}
			g := d.want(d.api("GET", "/items/"+item["code"].(string), token, nil), 200, "guide").m(d.t)
			if g["mail_materials"] == true && g["mail_result"] == true && len(list(g["form_fields"])) > 0 {
				return g
			}
		}
		if cursor, _ = m["next_cursor"].(string); cursor == "" {
			break
		}
	}
	d.t.Fatal("no item with pickup of materials and a mailed result in the catalog")
	return nil
}

func list(v any) []any { l, _ := v.([]any); return l }

var pickupAddress = map[string]string{"name": "张三", "phone": "13800138000", "province": "福建省", "city": "福州市",
	"district": "鼓楼区", "detail": "五四路158号环球广场1201室"}

// accountFields are filled in by zwfw from the verified account.
var accountFields = map[string]bool{"applicant_name": true, "applicant_id_number": true, "contact_name": true, "contact_id_number": true}

// draft creates a complete application for guide g, materials uploaded.
func (d *deployment) draft(token string, g map[string]any) string {
	d.t.Helper()
	zhang := sbprovince.DemoPeople[0]
	form := map[string]any{}
	for _, f := range list(g["form_fields"]) {
		f := f.(map[string]any)
		name := f["name"].(string)
		if accountFields[name] {
			continue
		}
		switch f["type"] {
		case "number":
			form[name] = 1
		case "date":
			form[name] = "2026-11-20"
		case "enum":
			form[name] = list(f["options"])[0]
		case "phone":
			form[name] = zhang.Phone
		case "id_number":
			form[name] = zhang.IDNumber
		case "uscc":
			form[name] = sbprovince.DemoCompanies[0].USCC
		case "address":
			form[name] = zhang.Address
		default:
			form[name] = "测试"
		}
	}
	r := d.want(d.api("POST", "/cases", token, map[string]any{"item_code": g["code"], "form": form,
		"delivery": map[string]any{"materials": "pickup", "result": "mail", "address": pickupAddress}}), 201, "create draft")
	id := r.m(d.t)["id"].(string)
	for _, mat := range list(g["materials"]) {
		mat := mat.(map[string]any)
		if mat["required"] == true {
			d.upload(token, id, mat["id"].(string))
		}
	}
	return id
}

var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func (d *deployment) upload(token, caseID, slot string) {
	d.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("slot_id", slot)
	fw, _ := w.CreateFormFile("file", slot+".pdf")
	_, _ = fw.Write(minimalPDF)
	_ = w.Close()
	req, _ := http.NewRequest("POST", d.base+"/api/v1/cases/"+caseID+"/materials", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := d.http.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		d.t.Fatalf("upload %s: %d %s", slot, res.StatusCode, b)
	}
}

func (d *deployment) caseNumber(token, id string) string {
	d.t.Helper()
	var number string
	d.waitFor("the province's case number", func() bool {
		c := d.want(d.api("GET", "/cases/"+id, token, nil), 200, "case").m(d.t)
		number, _ = c["case_number"].(string)
		return number != ""
	})
	return number
}

// provinceCases are the cases the sandbox province holds.
func (d *deployment) provinceCases() []map[string]any {
	d.t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(d.control("GET", "/sandbox/province/cases", nil).body, &out); err != nil {
		d.t.Fatal(err)
	}
	return out
}

func productionJourney(t *testing.T, bin string) {
	d := deploy(t, bin)
	// The first admin of a production database: zwfw -create-staff with the deployment's settings.
	admin := exec.Command(filepath.Join(bin, "zwfw"), "-create-staff", "admin01", "-staff-roles", "admin,staff")
	admin.Env = append(append([]string(nil), d.env...), "ZWFW_STAFF_PASSWORD=Prod-pass-2026")
	if out, err := admin.CombinedOutput(); err != nil {
		t.Fatalf("zwfw -create-staff: %v\n%s", err, out)
	}
	d.zwfw()
	// Where the province calls zwfw back, as a deployment registers it with the province.
	d.control("POST", "/sandbox/province/callback", map[string]string{"url": d.base + "/api/v1/callbacks/province"})

	// Login and real-name, through WeChat and the province's registry.
	token := d.citizen("prod01")
	d.want(d.api("PUT", "/me/notification-settings", token, map[string]any{"channels": map[string][]string{},
		"quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}}), 200, "settings")
	device := d.control("POST", "/sandbox/push/devices", map[string]string{"platform": "android"}).m(t)["registration_id"].(string)
	d.want(d.api("POST", "/me/devices", token, map[string]string{"registration_id": device, "platform": "android"}), 201, "device")

	// Submit an application; the province accepts it and calls back.
	g := d.mailItem(token)
	id := d.draft(token, g)
	d.want(d.api("POST", "/cases/"+id+"/submit", token, nil, "Idempotency-Key", "submit-"+id), 202, "submit")
	number := d.caseNumber(token, id)
	d.control("POST", "/sandbox/province/cases/"+number+"/advance", map[string]string{"status": "accepted"})
	d.waitFor("the case accepted through the province's callback", func() bool {
		return d.want(d.api("GET", "/cases/"+id, token, nil), 200, "case").m(t)["status"] == "accepted"
	})

	// Pay a fee the non-tax platform issued, in the WeChat app.
	zhang := sbprovince.DemoPeople[0]
	notice := d.control("POST", "/sandbox/nontax/notices", map[string]any{"payer_id": zhang.IDNumber, "payer_name": zhang.Name,
		"items": []map[string]any{{"code": "103040300101"}}}).m(t)
	code := notice["payment_code"].(string)
	d.want(d.api("GET", "/payments/lookup?payment_code="+code, token, nil), 200, "look the notice up")
	pay := d.want(d.api("POST", "/payments/"+code+"/pay", token, map[string]string{"channel": "wechat_app"},
		"Idempotency-Key", "pay-"+code), 200, "pay").m(t)
	d.control("POST", "/sandbox/wechatpay/pay", map[string]any{"params": pay["wechat_params"]})
	paymentStatus := func() string {
		return d.want(d.api("GET", "/payments/"+code, token, nil), 200, "payment").m(t)["status"].(string)
	}
	d.waitFor("the payment confirmed by WeChat Pay's notify", func() bool { return paymentStatus() == "paid" })

	// A clerk refunds it: the refund goes over WeChat Pay's mutual-TLS
	// endpoint, whose private CA zwfw trusts only through WECHATPAY_ROOT_CA_FILE.
	staff := d.want(d.api("POST", "/auth/staff", "", map[string]string{"username": "admin01", "password": "Prod-pass-2026"}), 200, "staff login").m(t)["access_token"].(string)
	d.want(d.api("POST", "/admin/payments/"+code+"/refund", staff, map[string]any{"reason": "重复缴费"},
		"Idempotency-Key", "refund-"+code), 202, "refund")
	d.waitFor("the refund through the channel", func() bool { return paymentStatus() == "refunded" })

	// Ship the materials: the courier books the pickup and pushes its tracking.
	sh := d.want(d.api("POST", "/cases/"+id+"/shipments", token, map[string]any{"direction": "to_hall", "address": pickupAddress,
		"pickup_window": tomorrowWindow()}, "Idempotency-Key", "ship-"+id), 201, "pickup").m(t)
	shipment := sh["id"].(string)
	d.waitFor("the courier to book the pickup", func() bool {
		waybill, _ := d.want(d.api("GET", "/shipments/"+shipment, token, nil), 200, "shipment").m(t)["waybill_number"].(string)
		return waybill != ""
	})
	// The sandbox's courier moves each parcel a step a second (-courier-step).
	d.waitFor("the delivery pushed by the courier", func() bool {
		return d.want(d.api("GET", "/shipments/"+shipment, token, nil), 200, "shipment").m(t)["state"] == "delivered"
	})

	// Reminders: in the inbox, and on the phone through the push gateway.
	want := []string{"case.accepted", "payment.paid", "payment.refunded", "shipment.picked_up", "shipment.delivered"}
	d.waitFor(fmt.Sprintf("reminders %v in the inbox", want), func() bool {
		var inbox struct {
			Items []struct {
				Rule string `json:"rule"`
			} `json:"items"`
		}
		_ = json.Unmarshal(d.want(d.api("GET", "/me/notifications", token, nil), 200, "inbox").body, &inbox)
		got := map[string]bool{}
		for _, it := range inbox.Items {
			got[it.Rule] = true
		}
		for _, r := range want {
			if !got[r] {
				return false
			}
		}
		return true
	})
	d.waitFor("a push reaching the device", func() bool {
		var msgs []any
		_ = json.Unmarshal(d.control("GET", "/sandbox/push/messages?registration_id="+device, nil).body, &msgs)
		return len(msgs) > 0
	})
	if n := len(d.provinceCases()); n != 1 {
		t.Fatalf("the province holds %d cases, want 1", n)
	}
}

// tomorrowWindow is 09:00-11:00 China time tomorrow.
func tomorrowWindow() map[string]string {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Now().In(cst).AddDate(0, 0, 1)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, cst)
	return map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}
}

// What an in-process sandbox hides: the province received a submission and
// booked it, and zwfw was killed (SIGKILL) while it waited for the answer.
// After a restart zwfw submits again under the same Idempotency-Key, the
// province answers with the case it already has, and there is exactly one.
func killedAfterProvinceAccepted(t *testing.T, bin string) {
	d := deploy(t, bin, "ZWFW_JOB_LEASE=2s")
	zw := d.zwfw()
	token := d.citizen("prod02")
	g := d.mailItem(token)
	id := d.draft(token, g)

	// The province books the case at once and holds its answer a minute.
	d.control("POST", "/sandbox/province/faults", map[string]any{"group": "cases", "mode": "late", "delay_ms": 60000, "count": 1})
	d.want(d.api("POST", "/cases/"+id+"/submit", token, nil, "Idempotency-Key", "submit-"+id), 202, "submit")
	d.waitFor("the province to book the submission", func() bool { return len(d.provinceCases()) == 1 })
	if c := d.want(d.api("GET", "/cases/"+id, token, nil), 200, "case").m(t); c["case_number"] != nil {
		t.Fatalf("zwfw recorded the answer before the kill: %v", c["case_number"])
	}
	zw.stop(syscall.SIGKILL)

	d.zwfw()
	number := d.caseNumber(token, id)
	cases := d.provinceCases()
	if len(cases) != 1 || cases[0]["case_number"] != number {
		t.Fatalf("after the restart the province holds %d cases (%v), zwfw recorded %s", len(cases), cases, number)
	}
	var stats struct {
		Endpoints map[string]struct {
			Calls int `json:"calls"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(d.control("GET", "/sandbox/province/stats", nil).body, &stats); err != nil {
		t.Fatal(err)
	}
	if calls := stats.Endpoints["POST /api/cases"].Calls; calls < 2 {
		t.Fatalf("the province saw %d submissions: zwfw did not submit again after the restart", calls)
	}
}
