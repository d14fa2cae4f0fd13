package courier

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/province"
	"zwfw/sandbox/sms"
	"zwfw/sandbox/wechat"
)

// call sends a control request and decodes the JSON answer into out.
func (e *env) call(method, path, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %s", method, path, b)
		}
	}
	return res.StatusCode
}

func TestControls(t *testing.T) {
	e := newEnv(t, Options{})
	var p Parcel
	if st := e.call("POST", "/sandbox/courier/parcels", `{"com":"ems","num":"1100000000009","from":"福建省福州市鼓楼区","to":"福建省厦门市思明区"}`, &p); st != 201 || p.Number != "1100000000009" || p.StateName != "待揽收" {
		t.Fatalf("create: %d %+v", st, p)
	}
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/sandbox/courier/parcels", `{"com":"ems","num":"1100000000009"}`, 409},
		{"POST", "/sandbox/courier/parcels", `{"com":"EMS"}`, 400},
		{"POST", "/sandbox/courier/parcels/1100000000009/advance", ``, 200},
		{"POST", "/sandbox/courier/parcels/1100000000009/advance", `{"steps":2}`, 200},
		{"POST", "/sandbox/courier/parcels/1100000000009/advance", `{"scenario":"exception"}`, 200},
		{"POST", "/sandbox/courier/parcels/1100000000009/advance", `{"scenario":"lost"}`, 400},
		{"POST", "/sandbox/courier/parcels/1100000000009/advance", `{"steps":-1}`, 400},
		{"POST", "/sandbox/courier/parcels/nope/advance", ``, 404},
		{"GET", "/sandbox/courier/parcels/nope", ``, 404},
		{"POST", "/sandbox/courier/faults", `{"mode":"sometimes"}`, 400},
		{"POST", "/sandbox/courier/faults", `{"mode":"drop","drop_rate":2}`, 400},
		{"POST", "/sandbox/courier/faults", `{"mode":"drop","number":"1100000000009"}`, 200},
		{"DELETE", "/sandbox/courier/faults", ``, 204},
		{"GET", "/sandbox/courier/pushes?number=1100000000009", ``, 200},
		{"GET", "/sandbox/courier/orders", ``, 200},
	}
	for _, c := range cases {
		if st := e.call(c.method, c.path, c.body, nil); st != c.status {
			t.Errorf("%s %s %s: %d, want %d", c.method, c.path, c.body, st, c.status)
		}
	}
	e.call("GET", "/sandbox/courier/parcels/1100000000009", "", &p)
	if p.Steps != 3 || p.Scenario != ScenarioException || p.State != StateInTransit {
		t.Fatalf("after the controls: %+v", p)
	}
	var moved map[string]int
	e.call("POST", "/sandbox/courier/advance", "", &moved)
	if moved["moved"] != 1 {
		t.Fatalf("advance all: %v", moved)
	}
	e.call("POST", "/sandbox/courier/parcels/1100000000009/advance", `{"steps":100}`, &p)
	if st := e.call("POST", "/sandbox/courier/parcels/1100000000009/advance", ``, nil); st != 409 {
		t.Fatalf("advance after the end: %d", st)
	}
	var faults []PushFault
	e.call("GET", "/sandbox/courier/faults", "", &faults)
	if len(faults) != 0 {
		t.Fatalf("faults after DELETE: %v", faults)
	}
}

func TestOrdersControlShowsPickup(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.book("ems", "o1")
	var orders []Order
	e.call("GET", "/sandbox/courier/orders", "", &orders)
	if len(orders) != 1 || orders[0].OrderID != d["orderId"] || orders[0].Status != "created" || orders[0].ThirdOrderID != "o1" ||
		orders[0].PickupStart == nil || orders[0].PickupStart.Format("2006-01-02 15:04") != "2026-03-03 09:00" {
		t.Fatalf("orders %+v", orders)
	}
}

// The fake mounts beside the others on one mux, as sandbox.New does.
func TestRegistersBesideTheOtherFakes(t *testing.T) {
	c := New(Options{TickEvery: -1})
	defer c.Close()
	p := province.New(province.Options{})
	defer p.Close()
	mux := http.NewServeMux()
	for _, f := range []fake.Fake{wechat.New(wechat.Options{}), sms.New(sms.Options{}), p, c} {
		f.Register(mux)
	}
	mux.HandleFunc("GET /sandbox/{$}", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.PostForm(srv.URL+BasePath+"/poll/query.do", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("query: HTTP %d", res.StatusCode)
	}
	if d := c.Describe(); d.Name != "courier" || len(d.Controls) == 0 || d.Info["customer"] != c.Customer() {
		t.Fatalf("describe %+v", d)
	}
}
