package courier

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// The signatures are the documented concatenations (vectors computed with md5sum).
func TestSignatures(t *testing.T) {
	cases := []struct{ got, want string }{
		{QuerySign(`{"com":"ems","num":"1100000000000"}`, "KEY", "CUSTOMER"), "6E824DB7543280ABB7B1079C44D94D41"},
		{OrderSign(`{"a":"b"}`, "1700000000000", "kk", "-secret"), "CCE5F488C89A3062968315540A9CE18C"},
		{PushSign(`{"status":"polling"}`, "salt123"), "D3E37349DAA1504C5808621A3D636F88"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %s, want %s", i, c.got, c.want)
		}
	}
	if !signOK("d3e37349daa1504c5808621a3d636f88", cases[2].want) {
		t.Error("lower-case hex refused")
	}
}

func TestOrderRefusals(t *testing.T) {
	e := newEnv(t, Options{})
	mutate := func(f func(p map[string]string)) map[string]string {
		p := validOrder(e, "ems")
		f(p)
		return p
	}
	cases := []struct {
		name  string
		param map[string]string
		code  string
	}{
		{"unknown carrier", mutate(func(p map[string]string) { p["kuaidicom"] = "EMS" }), CodeBadParam},
		{"bad sender mobile", mutate(func(p map[string]string) { p["sendManMobile"] = "12345" }), CodeBadParam},
		{"no receiver address", mutate(func(p map[string]string) { p["recManPrintAddr"] = "" }), CodeBadParam},
		{"no cargo", mutate(func(p map[string]string) { p["cargo"] = " " }), CodeBadParam},
		{"bad weight", mutate(func(p map[string]string) { p["weight"] = "1,5" }), CodeBadParam},
		{"no callback", mutate(func(p map[string]string) { p["callBackUrl"] = "ftp://x" }), CodeBadParam},
		{"op without poll callback", mutate(func(p map[string]string) { p["pollCallBackUrl"] = "" }), CodeBadParam},
		{"bad day", mutate(func(p map[string]string) { p["dayType"] = "下周" }), CodeBadParam},
		{"window backwards", mutate(func(p map[string]string) { p["pickupEndTime"] = "08:00" }), CodeBadParam},
		{"shunfeng without window", mutate(func(p map[string]string) {
			p["kuaidicom"] = "shunfeng"
			delete(p, "dayType")
			delete(p, "pickupStartTime")
			delete(p, "pickupEndTime")
		}), CodeBadParam},
		{"long thirdOrderId", mutate(func(p map[string]string) { p["thirdOrderId"] = "123456789012345678901234567890123" }), CodeBadParam},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.order("bOrder", c.param)
			if r["result"] != false || code(r) != c.code {
				t.Fatalf("got %v, want returnCode %s", r, c.code)
			}
		})
	}
	if n := len(e.s.Orders()); n != 0 {
		t.Fatalf("%d orders booked by refused requests", n)
	}
}

func TestOrderAuthentication(t *testing.T) {
	e := newEnv(t, Options{})
	param := `{"kuaidicom":"ems"}`
	now := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	stale := strconv.FormatInt(e.clock.Now().Add(-MaxSkew-time.Second).UnixMilli(), 10)
	cases := []struct {
		name string
		form url.Values
		code string
	}{
		{"missing sign", url.Values{"method": {"bOrder"}, "key": {e.s.Key()}, "t": {now}, "param": {param}}, CodeBadParam},
		{"wrong key", url.Values{"method": {"bOrder"}, "key": {"nope"}, "t": {now}, "param": {param}, "sign": {OrderSign(param, now, "nope", e.s.Secret())}}, CodeBadKey},
		{"wrong secret", url.Values{"method": {"bOrder"}, "key": {e.s.Key()}, "t": {now}, "param": {param}, "sign": {OrderSign(param, now, e.s.Key(), "x")}}, CodeBadSign},
		{"stale t", url.Values{"method": {"bOrder"}, "key": {e.s.Key()}, "t": {stale}, "param": {param}, "sign": {OrderSign(param, stale, e.s.Key(), e.s.Secret())}}, CodeTimestamp},
		{"unknown method", url.Values{"method": {"price"}, "key": {e.s.Key()}, "t": {now}, "param": {param}, "sign": {OrderSign(param, now, e.s.Key(), e.s.Secret())}}, CodeUnknownMethod},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := e.postForm(BasePath+"/order/borderapi.do", c.form); code(r) != c.code {
				t.Fatalf("got %v, want %s", r, c.code)
			}
		})
	}
}

// The same thirdOrderId within 48 hours answers the first order.
func TestOrderIdempotency(t *testing.T) {
	e := newEnv(t, Options{})
	first := e.book("ems", "zwfw-ship-1")
	again := e.book("ems", "zwfw-ship-1")
	if first["orderId"] != again["orderId"] || first["kuaidinum"] != again["kuaidinum"] || first["taskId"] != again["taskId"] {
		t.Fatalf("retry booked another order: %v vs %v", first, again)
	}
	other := e.book("ems", "zwfw-ship-2")
	if other["orderId"] == first["orderId"] {
		t.Fatal("a different thirdOrderId answered the first order")
	}
	e.clock.Advance(IdempotencyWindow)
	later := e.book("ems", "zwfw-ship-1")
	if later["orderId"] == first["orderId"] {
		t.Fatal("thirdOrderId remembered past 48 hours")
	}
	if n := len(e.s.Orders()); n != 3 {
		t.Fatalf("%d orders, want 3", n)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.book("ems", "c1")
	cancel := func(task, order any) map[string]any {
		return e.order("cancel", map[string]any{"taskId": task, "orderId": order, "cancelMsg": "不寄了"})
	}
	if r := cancel("WRONG", d["orderId"]); code(r) != CodeOrderNotFound {
		t.Fatalf("wrong taskId: %v", r)
	}
	if r := cancel(d["taskId"], d["orderId"]); r["result"] != true {
		t.Fatalf("cancel: %v", r)
	}
	if r := cancel(d["taskId"], d["orderId"]); code(r) != CodeAlreadyCancelled {
		t.Fatalf("second cancel: %v", r)
	}
	if _, err := e.s.Advance(d["kuaidinum"].(string), 1); err != ErrParcelCancelled {
		t.Fatalf("advance of a cancelled parcel: %v", err)
	}
	if o := e.s.Orders()[0]; o.Status != "cancelled" || o.CancelMsg != "不寄了" {
		t.Fatalf("order after cancel: %+v", o)
	}

	d2 := e.book("ems", "c2")
	must(e.s.Advance(d2["kuaidinum"].(string), 1))
	if r := cancel(d2["taskId"], d2["orderId"]); code(r) != CodeAlreadyPickedUp {
		t.Fatalf("cancel after pickup: %v", r)
	}
}

func TestQuery(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.book("ems", "q1")
	num := d["kuaidinum"].(string)
	if r := e.query(map[string]string{"com": "ems", "num": num}); code(r) != CodeNoResult {
		t.Fatalf("before pickup: %v", r)
	}
	must(e.s.Advance(num, 1))
	e.clock.Advance(3 * time.Hour)
	must(e.s.Advance(num, 1))

	r := e.query(map[string]string{"com": "ems", "num": num, "resultv2": "4"})
	if r["message"] != "ok" || r["status"] != "200" || r["state"] != StateInTransit || r["ischeck"] != "0" || r["nu"] != num || r["com"] != "ems" {
		t.Fatalf("query: %v", r)
	}
	data := r["data"].([]any)
	newest, oldest := data[0].(map[string]any), data[1].(map[string]any)
	if newest["time"] != "2026-03-02 13:00:00" || oldest["time"] != "2026-03-02 10:00:00" {
		t.Fatalf("not newest first, or not China time: %v", data)
	}
	if oldest["context"] != "【福州市】EMS 已收取快件" || oldest["status"] != "揽收" || oldest["statusCode"] != "103" ||
		oldest["areaName"] != "福建,福州市" || oldest["areaCode"] != "CN350100000000" {
		t.Fatalf("pickup entry: %v", oldest)
	}
	if newest["context"] != "快件已到达【福州鼓楼集散中心】" {
		t.Fatalf("hub entry: %v", newest)
	}

	plain := e.query(map[string]string{"com": "ems", "num": num, "order": "asc"})
	first := plain["data"].([]any)[0].(map[string]any)
	if first["time"] != "2026-03-02 10:00:00" || first["status"] != nil || first["areaName"] != nil {
		t.Fatalf("asc without resultv2: %v", first)
	}

	for name, c := range map[string]struct {
		param map[string]string
		code  string
	}{
		"wrong carrier":   {map[string]string{"com": "yunda", "num": num}, CodeNoResult},
		"unknown carrier": {map[string]string{"com": "nope", "num": num}, CodeBadParam},
		"no number":       {map[string]string{"com": "ems"}, CodeBadParam},
	} {
		if r := e.query(c.param); code(r) != c.code {
			t.Errorf("%s: %v, want %s", name, r, c.code)
		}
	}
	b := `{"com":"ems","num":"` + num + `"}`
	if r := e.postForm(BasePath+"/poll/query.do", url.Values{"customer": {e.s.Customer()}, "param": {b}, "sign": {QuerySign(b, "wrong", e.s.Customer())}}); code(r) != CodeBadSign {
		t.Fatalf("bad sign: %v", r)
	}
	if r := e.postForm(BasePath+"/poll/query.do", url.Values{"customer": {"OTHER"}, "param": {b}, "sign": {QuerySign(b, e.s.Key(), "OTHER")}}); code(r) != CodeBadSign {
		t.Fatalf("unknown customer: %v", r)
	}
}

// 顺丰 answers only with the sender's or receiver's phone (full or last 4).
func TestQueryShunfengPhone(t *testing.T) {
	e := newEnv(t, Options{})
	num := e.book("shunfeng", "sf1")["kuaidinum"].(string)
	must(e.s.Advance(num, 1))
	for phone, want := range map[string]string{"": CodePhoneCheck, "1234": CodePhoneCheck, "9000": "", "13800138000": "", "8000": ""} {
		r := e.query(map[string]string{"com": "shunfeng", "num": num, "phone": phone})
		if code(r) != want {
			t.Errorf("phone %q: %v", phone, r)
		}
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct {
		name, com, num, phone string
		code                  string
	}{
		{"ok", "ems", "1100000000001", "", CodeOK},
		{"duplicate", "ems", "1100000000001", "", CodeDuplicate},
		{"same number other carrier", "yunda", "1100000000001", "", CodeOK},
		{"unknown carrier", "nope", "1", "", CodeSubscribeBad},
		{"shunfeng without phone", "shunfeng", "SF1", "", CodeSubscribeBad},
		{"shunfeng with phone", "shunfeng", "SF1", "8000", CodeOK},
	}
	for _, c := range cases {
		if r := e.subscribe(c.com, c.num, c.phone, "s"); code(r) != c.code {
			t.Errorf("%s: %v, want %s", c.name, r, c.code)
		}
	}
	b, _ := json.Marshal(map[string]any{"company": "ems", "number": "2", "key": "bad", "parameters": map[string]string{"callbackurl": e.cb.url()}})
	if r := e.postForm(BasePath+"/poll", url.Values{"schema": {"json"}, "param": {string(b)}}); code(r) != CodeBadKey {
		t.Errorf("bad key: %v", r)
	}
	b, _ = json.Marshal(map[string]any{"company": "ems", "number": "2", "key": e.s.Key(), "parameters": map[string]string{"callbackurl": "not a url"}})
	if r := e.postForm(BasePath+"/poll", url.Values{"schema": {"json"}, "param": {string(b)}}); code(r) != CodeSubscribeBad {
		t.Errorf("bad callback: %v", r)
	}
}

// A subscriber of a parcel already on its way hears its track at once.
func TestSubscribeLatePushesCurrentTrack(t *testing.T) {
	e := newEnv(t, Options{})
	p := must(e.s.AddParcel(ParcelSpec{Com: "ems", From: "福建省福州市鼓楼区", To: "福建省福州市台江区"}))
	must(e.s.Advance(p.Number, 2))
	if r := e.subscribe("ems", p.Number, "", "salt"); r["result"] != true {
		t.Fatal(r)
	}
	waitFor(t, "the first push", func() bool { return len(e.cb.received()) == 1 })
	got := e.cb.received()[0]
	if got.Get("sign") != PushSign(got.Get("param"), "salt") {
		t.Fatal("push not signed with the salt")
	}
	var body pushBody
	if err := json.Unmarshal([]byte(got.Get("param")), &body); err != nil || len(body.LastResult.Data) != 2 || body.Status != "polling" {
		t.Fatalf("push body %s: %v", got.Get("param"), err)
	}
}

func TestUnknownAPI(t *testing.T) {
	e := newEnv(t, Options{})
	if r := e.postForm(BasePath+"/order/eorder.do", url.Values{}); r["result"] != false || code(r) != "404" {
		t.Fatal(r)
	}
}
