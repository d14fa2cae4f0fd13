package nontax

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"zwfw/sandbox/province"
)

func TestDemoNoticesForEveryDemoPayer(t *testing.T) {
	e := newEnv(t, Options{})
	payers := map[string]string{}
	for _, p := range province.DemoPeople {
		payers[p.IDNumber] = PayerCitizen
	}
	for _, c := range province.DemoCompanies {
		payers[c.USCC] = PayerBusiness
	}
	for id, typ := range payers {
		list := e.s.Notices(id, StatusUnpaid)
		if len(list) == 0 {
			t.Errorf("payer %s has no unpaid demo notice", id)
		}
		for _, n := range list {
			var sum int64
			for _, it := range n.Items {
				if it.Amount != it.UnitPrice*int64(it.Quantity) {
					t.Errorf("%s: item %+v", n.PaymentCode, it)
				}
				sum += it.Amount
			}
			if n.PayerType != typ || n.Amount != sum || sum <= 0 || ValidatePaymentCode(n.PaymentCode) != nil ||
				!n.DueAt.After(start) || n.Agency == "" {
				t.Errorf("demo notice %+v", n)
			}
		}
	}
	// 张三's real-estate notice: 80 + 10 yuan, due in 15 days at 23:59:59.
	n := e.s.Notices(province.DemoPeople[0].IDNumber, "")[0]
	if n.Amount != 9000 || n.Agency != "福州市不动产登记和交易中心" ||
		n.DueAt.Format(time.RFC3339) != "2026-03-17T23:59:59+08:00" || n.IssuedAt.Format(time.RFC3339) != "2026-03-02T10:00:00+08:00" {
		t.Fatalf("张三's first notice %+v", n)
	}
}

func TestIssueValidates(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	zs := province.DemoPeople[0]
	co := province.DemoCompanies[0]
	cases := []struct {
		name string
		req  IssueRequest
		code string
	}{
		{"citizen", IssueRequest{PayerID: zs.IDNumber, PayerName: zs.Name, Items: itemsOf("103040100101")}, ""},
		{"company, lower case", IssueRequest{PayerID: " " + co.USCC[:17] + "p", PayerName: co.Name, Items: itemsOf("103045500103")}, ""},
		{"bad ID number", IssueRequest{PayerID: "350102199003071235", PayerName: zs.Name, Items: itemsOf("103040100101")}, CodePayerIDInvalid},
		{"no name", IssueRequest{PayerID: zs.IDNumber, Items: itemsOf("103040100101")}, CodeParamInvalid},
		{"no items", IssueRequest{PayerID: zs.IDNumber, PayerName: zs.Name}, CodeParamInvalid},
		{"unknown item", IssueRequest{PayerID: zs.IDNumber, PayerName: zs.Name, Items: itemsOf("999999999999")}, CodeItemUnknown},
		{"two agencies", IssueRequest{PayerID: zs.IDNumber, PayerName: zs.Name, Items: itemsOf("103040100101", "103045500101")}, CodeParamInvalid},
		{"negative quantity", IssueRequest{PayerID: zs.IDNumber, PayerName: zs.Name, Items: []IssueItem{{Code: "103040100101", Quantity: -1}}}, CodeParamInvalid},
		{"due too far", IssueRequest{PayerID: zs.IDNumber, PayerName: zs.Name, Items: itemsOf("103040100101"), DueDays: 400}, CodeParamInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := e.s.Issue(c.req)
			if c.code == "" {
				if err != nil || n.Status != StatusUnpaid {
					t.Fatalf("Issue: %v %+v", err, n)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != c.code {
				t.Fatalf("Issue error %v, want %s", err, c.code)
			}
		})
	}
	n, _ := e.s.Issue(IssueRequest{PayerID: co.USCC, PayerName: co.Name, CaseNumber: "FZ2026030200010001",
		Items: []IssueItem{{Code: "103044500201", Quantity: 60}, {Code: "103044500101", UnitPrice: 45000, Name: "城镇垃圾处理费（餐饮，一季度）"}}})
	if n.Amount != 60*200+45000 || n.Items[1].Name != "城镇垃圾处理费（餐饮，一季度）" || n.CaseNumber != "FZ2026030200010001" || n.PayerType != PayerBusiness {
		t.Fatalf("notice %+v", n)
	}
}

func TestNoticeAPI(t *testing.T) {
	e := newEnv(t, Options{})
	zs := province.DemoPeople[0]
	var list struct {
		Notices []Notice `json:"notices"`
	}
	e.get(APIPrefix+"/notices?payer_id="+zs.IDNumber).ok(t).into(t, &list)
	if len(list.Notices) != 3 || list.Notices[0].PayerID != zs.IDNumber {
		t.Fatalf("张三's notices %+v", list.Notices)
	}
	var one Notice
	e.get(apiNotices+list.Notices[1].PaymentCode).ok(t).into(t, &one)
	if one.PaymentCode != list.Notices[1].PaymentCode || one.Amount != 1000 {
		t.Fatalf("notice %+v", one)
	}
	e.get(APIPrefix+"/notices?payer_id="+zs.IDNumber+"&status=paid").ok(t).into(t, &list)
	if len(list.Notices) != 0 {
		t.Fatalf("paid notices %+v", list.Notices)
	}
	e.get(APIPrefix+"/notices").want(t, 400, CodeParamInvalid)
	e.get(APIPrefix+"/notices?payer_id=123").want(t, 400, CodePayerIDInvalid)
	e.get(APIPrefix+"/notices?payer_id="+zs.IDNumber+"&status=open").want(t, 400, CodeParamInvalid)
	e.get(apiNotices+"12345").want(t, 400, CodePaymentCodeInvalid)
	bad := []byte(one.PaymentCode)
	bad[19] = '0' + (bad[19]-'0'+1)%10
	e.get(apiNotices+string(bad)).want(t, 400, CodePaymentCodeInvalid)
	missing := "3501002699999999999"
	e.get(apiNotices+missing+string(PaymentCodeCheckDigit(missing))).want(t, 404, CodeNoticeNotFound)
	e.get(apiNotices+one.PaymentCode+"/receipt").want(t, 404, CodeReceiptNotFound)
}

func TestCancel(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103040100101")...)
	var got Notice
	if st := e.control("POST", "/sandbox/nontax/notices/"+n.PaymentCode+"/cancel", map[string]string{"reason": "申请已撤回"}, &got); st != 200 || got.Status != StatusCancelled || got.CancelReason != "申请已撤回" || got.CancelledAt == nil {
		t.Fatalf("cancel: %d %+v", st, got)
	}
	path := apiNotices + n.PaymentCode + "/payments"
	e.post(path, "c1", payment("T1", n.Amount, start)).want(t, 409, CodeNoticeCancelled)

	paid := e.issue(itemsOf("103040100101")...)
	e.post(apiNotices+paid.PaymentCode+"/payments", "c2", payment("T2", paid.Amount, start)).ok(t)
	var fail map[string]string
	if st := e.control("POST", "/sandbox/nontax/notices/"+paid.PaymentCode+"/cancel", nil, &fail); st != http.StatusConflict || fail["code"] != CodeNoticeAlreadyPaid {
		t.Fatalf("cancel of a paid notice: %d %v", st, fail)
	}
	if st := e.control("POST", "/sandbox/nontax/notices/00000000000000000000/cancel", nil, &fail); st != 404 {
		t.Fatalf("cancel of nothing: %d", st)
	}
}

func TestIssueControl(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	var n Notice
	st := e.control("POST", "/sandbox/nontax/notices", map[string]any{
		"payer_id": province.DemoPeople[1].IDNumber, "payer_name": province.DemoPeople[1].Name,
		"items": []map[string]any{{"code": "103040200101"}}, "due_days": 3, "case_number": "FZ2026030200010002",
	}, &n)
	if st != http.StatusCreated || n.Amount != 12000 || n.DueAt.Format(time.DateOnly) != "2026-03-05" {
		t.Fatalf("issue control: %d %+v", st, n)
	}
	var fail map[string]string
	if st := e.control("POST", "/sandbox/nontax/notices", map[string]any{"payer_id": "x", "payer_name": "x", "items": []map[string]any{{"code": "103040200101"}}}, &fail); st != 400 || fail["code"] != CodePayerIDInvalid {
		t.Fatalf("bad issue: %d %v", st, fail)
	}
	var all []Notice
	e.control("GET", "/sandbox/nontax/notices", nil, &all)
	var one Notice
	if len(all) != 1 || e.control("GET", "/sandbox/nontax/notices/"+n.PaymentCode, nil, &one) != 200 || one.PaymentCode != n.PaymentCode {
		t.Fatalf("notices %+v / %+v", all, one)
	}
	var items []FeeItem
	if e.control("GET", "/sandbox/nontax/items", nil, &items); len(items) != len(Schedule) {
		t.Fatalf("items %d", len(items))
	}
}
