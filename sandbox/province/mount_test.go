package province

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"zwfw/sandbox/fake"
	"zwfw/sandbox/sms"
	"zwfw/sandbox/wechat"
)

// The fake mounts beside the others on one mux, as sandbox.New does,
// without pattern conflicts, and answers under /province.
func TestRegistersBesideTheOtherFakes(t *testing.T) {
	p := New(Options{})
	mux := http.NewServeMux()
	for _, f := range []fake.Fake{wechat.New(wechat.Options{}), sms.New(sms.Options{}), p} {
		f.Register(mux)
	}
	mux.HandleFunc("GET /sandbox/{$}", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/province/api/catalog/halls", nil)
	if err := SignRequest(req, nil, p.AppKey(), p.AppSecret(), "", p.now()); err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("HTTP %d", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "/sandbox/province/stats")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("stats: HTTP %d", res.StatusCode)
	}
}
