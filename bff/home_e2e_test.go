package bff_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/identity"
	"zwfw/platform/testenv"
	"zwfw/sandbox/courier"
	sbfake "zwfw/sandbox/fake"
	"zwfw/sandbox/nontax"
	sbprovince "zwfw/sandbox/province"
)

// homeJSON is the part of GET /api/v1/home the tests read.
type homeJSON struct {
	Client   string `json:"client"`
	Degraded bool   `json:"degraded"`
	Todos    struct {
		sectionJSON
		Items []struct {
			Kind        string    `json:"kind"`
			DueAt       time.Time `json:"due_at"`
			CheckInCode string    `json:"check_in_code"`
			Link        linkJSON  `json:"link"`
		} `json:"items"`
	} `json:"todos"`
	Cases struct {
		sectionJSON
		Items []struct {
			ID        string `json:"id"`
			TimeLimit struct {
				WorkdaysLeft *int `json:"working_days_left"`
			} `json:"time_limit"`
			Link linkJSON `json:"link"`
		} `json:"items"`
	} `json:"cases_in_progress"`
	Shipments struct {
		sectionJSON
		Items []struct {
			ID   string   `json:"id"`
			Link linkJSON `json:"link"`
		} `json:"items"`
	} `json:"shipments_in_transit"`
	Licenses struct {
		sectionJSON
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	} `json:"licenses_expiring"`
	Messages struct {
		sectionJSON
		Unread int `json:"unread"`
	} `json:"messages"`
	Recommended struct {
		sectionJSON
		Items []struct {
			Name string   `json:"name"`
			Link linkJSON `json:"link"`
		} `json:"items"`
	} `json:"recommended"`
}

type sectionJSON struct {
	Status      string   `json:"status"`
	Unavailable []string `json:"unavailable"`
	Message     string   `json:"message"`
}

type linkJSON struct {
	Target string `json:"target"`
	ID     string `json:"id"`
	Client string `json:"client"`
	URL    string `json:"url"`
}

func (s *server) home(token string, headers ...string) (homeJSON, *response) {
	s.t.Helper()
	r := s.request("GET", "/api/v1/home", token, nil, headers...)
	if r.Status != 200 {
		s.t.Fatalf("home: %d %s", r.Status, r.Body)
	}
	var h homeJSON
	r.JSON(s.t, &h)
	return h, r
}

// todoWorld gives 张三 one thing of each kind to do: a result parcel out
// for delivery (today), a hall visit tomorrow, a fee due the day after, a
// supplement the province asked for (five working days), and a finished
// case to rate (fifteen days). It returns the token and the ids in that
// order of urgency.
func todoWorld(t *testing.T, opts ...option) (*server, string, []string) {
	clock := sbfake.NewManualClock(time.Now())
	s := start(t, append([]option{fastCallbacks, noRateLimits, func(c *bff.Config) { c.SandboxClock = clock.Now }}, opts...)...)
	province := s.app.Sandbox().ProvinceServer()

	// A case completed with its result by mail: to rate, and its parcel on the way.
	token, mailed, number := s.pickupCase("zhangsan")
	advance(t, province, number, sbprovince.Advance{Status: "accepted"})
	advance(t, province, number, sbprovince.Advance{Status: "completed_approved", Result: "mail"})
	var result shipmentJSON
	testenv.WaitFor(t, "the result shipment booked with the courier", func() bool {
		for _, sh := range s.shipmentsOfCase(token, mailed) {
			if sh.Direction == "to_applicant" && sh.WaybillNumber != "" {
				result = sh
				return true
			}
		}
		return false
	})
	parcels := s.app.Sandbox().CourierServer()
	for i := 0; ; i++ {
		if i == 30 {
			t.Fatal("the parcel never went out for delivery")
		}
		clock.Advance(2 * time.Second)
		p, err := parcels.Advance(result.WaybillNumber, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.State == courier.StateDelivering {
			break
		}
	}
	testenv.WaitFor(t, "zwfw saw the parcel out for delivery", func() bool {
		return s.shipment(token, result.ID).State == "out_for_delivery"
	})

	// A case the province wants more materials for.
	_, supp, suppNumber := s.submittedCase("zhangsan")
	advance(t, province, suppNumber, sbprovince.Advance{Status: "supplement_requested", Materials: []string{onlineItem(t, province).Materials[0].ID}})
	s.waitCase(token, supp, "the supplement request", statusIs("supplement_requested"))

	// A fee due the day after tomorrow (and none of the sandbox's demo notices).
	zhang := sbprovince.DemoPeople[0]
	fees := s.app.Sandbox().NonTaxServer()
	for _, demo := range fees.Notices(zhang.IDNumber, nontax.StatusUnpaid) {
		if _, err := fees.Cancel(demo.PaymentCode, "测试：只留一笔待缴费用"); err != nil {
			t.Fatal(err)
		}
	}
	n, err := fees.Issue(nontax.IssueRequest{PayerID: zhang.IDNumber, PayerName: zhang.Name,
		Items: []nontax.IssueItem{{Code: "103040300101"}}, DueDays: 2})
	if err != nil {
		t.Fatal(err)
	}

	// A hall visit tomorrow at 09:00, whatever day tomorrow is: stored as
	// the booking service stores one (booking through the API needs a
	// working day).
	booked := "b_" + fmt.Sprintf("%024x", time.Now().UnixNano())
	cst := time.FixedZone("CST", 8*3600)
	d := time.Now().In(cst).AddDate(0, 0, 1)
	slot := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, cst).UTC()
	me := s.loginWeChat("zhangsan")
	if _, err := s.app.DB().Collection("bookings").InsertOne(t.Context(), bson.M{"_id": booked, "number": "YY" + booked[2:16],
		"user_id": me.UserID, "hall_id": "fz-gl", "item_code": onlineItem(t, province).Code, "slot_start": slot,
		"slot_end": slot.Add(30 * time.Minute), "status": "confirmed", "check_in_code": "CHK" + booked[2:], "timeline": bson.A{},
		"version": 1, "created_at": time.Now().UTC(), "updated_at": time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	return s, token, []string{result.ID, booked, n.PaymentCode, supp, mailed}
}

// GET /api/v1/home for a person with one to-do of each kind: in urgency
// order, every link in the form of the client asking (X-Client), or of the
// client the sign-in implies.
func TestHomeTodosInUrgencyOrderPerClient(t *testing.T) {
	s, token, ids := todoWorld(t)
	kinds := []string{"receive", "booking", "pay", "supplement", "evaluate"}
	targets := []string{"shipment", "booking", "payment", "case", "case_evaluate"}
	for _, c := range []struct {
		client  string
		headers []string
		prefix  string
	}{
		{"miniprogram", []string{"X-Client", "miniprogram"}, "pages/"},
		{"app", []string{"X-Client", "app"}, "zwfw://"},
		{"h5", []string{"X-Client", "h5"}, "http://localhost:5173/"},
		// No X-Client: a WeChat sign-in is the mini-program.
		{"miniprogram", nil, "pages/"},
	} {
		t.Run(c.client+fmt.Sprint(len(c.headers)), func(t *testing.T) {
			h, _ := s.home(token, c.headers...)
			if h.Client != c.client || h.Degraded || h.Todos.Status != "ok" {
				t.Fatalf("client %q degraded %v todos %s", h.Client, h.Degraded, h.Todos.Status)
			}
			var gotKinds, gotIDs, gotTargets []string
			for i, td := range h.Todos.Items {
				gotKinds, gotIDs, gotTargets = append(gotKinds, td.Kind), append(gotIDs, td.Link.ID), append(gotTargets, td.Link.Target)
				if td.Link.Client != c.client || !strings.HasPrefix(td.Link.URL, c.prefix) || !strings.Contains(td.Link.URL, td.Link.ID) {
					t.Errorf("to-do %d link %+v is not the %s form", i, td.Link, c.client)
				}
				if i > 0 && td.DueAt.Before(h.Todos.Items[i-1].DueAt) {
					t.Errorf("to-do %d is due before the one above it", i)
				}
			}
			if !slices.Equal(gotKinds, kinds) || !slices.Equal(gotIDs, ids) || !slices.Equal(gotTargets, targets) {
				t.Fatalf("to-dos %v %v %v\nwant     %v %v %v", gotKinds, gotIDs, gotTargets, kinds, ids, targets)
			}
			if code := h.Todos.Items[1].CheckInCode; !strings.HasPrefix(code, "CHK") {
				t.Fatalf("the booking to-do has no check-in code: %q", code)
			}
			// The case waiting for a supplement is in progress, with its working days.
			found := false
			for _, cs := range h.Cases.Items {
				if cs.ID == ids[3] {
					found = cs.TimeLimit.WorkdaysLeft != nil && cs.Link.Client == c.client
				}
			}
			if !found {
				t.Fatalf("cases in progress: %+v", h.Cases.Items)
			}
			if len(h.Shipments.Items) != 1 || h.Shipments.Items[0].ID != ids[0] || !strings.HasPrefix(h.Shipments.Items[0].Link.URL, c.prefix) {
				t.Fatalf("parcels under way: %+v", h.Shipments.Items)
			}
		})
	}
	// An unknown client is refused (the OpenAPI enum).
	if m := wantError(t, s.request("GET", "/api/v1/home", token, nil, "X-Client", "tv"), 400, "REQUEST_INVALID"); !strings.Contains(fmt.Sprint(m["fields"]), "CLIENT_INVALID") {
		t.Fatalf("fields %v", m["fields"])
	}
	// Staff have no home screen.
	wantError(t, s.request("GET", "/api/v1/home", s.admin(), nil), 403, "AUTH_FORBIDDEN")
}

// The province failing or hanging (sandbox faults) costs the screen the
// sections it feeds, marked in the body; the rest is whole and the answer 200.
func TestHomeWithTheProvinceFailing(t *testing.T) {
	s := start(t, fastCallbacks)
	me, _ := s.verifiedCitizen("zhangsan")
	h, _ := s.home(me.Access)
	// 张三's driving licence expires within 30 days in the sandbox: shown, with its renewal item.
	if h.Degraded || h.Licenses.Status != "ok" || len(h.Licenses.Items) == 0 || len(h.Recommended.Items) == 0 ||
		!strings.Contains(h.Recommended.Items[0].Name, "换证") || h.Recommended.Items[0].Link.Target != "guide" {
		t.Fatalf("with the province up: degraded %v licences %+v recommended %+v", h.Degraded, h.Licenses, h.Recommended)
	}
	li := s.loginWeChat("li")
	if r := s.request("POST", "/api/v1/me/realname", li.Access, map[string]string{"name": sbprovince.DemoPeople[1].Name,
		"id_number": sbprovince.DemoPeople[1].IDNumber}); r.Status != 200 {
		t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	province := s.app.Sandbox().ProvinceServer()
	for _, fault := range []sbprovince.Fault{
		{Group: "licenses", Mode: sbprovince.FaultTimeout}, // held past the section's budget
		{Group: "*", Mode: sbprovince.FaultError, Status: 503},
	} {
		t.Run(fault.Mode, func(t *testing.T) {
			if err := province.SetFault(fault); err != nil {
				t.Fatal(err)
			}
			defer province.ClearFaults()
			// 张三's licences were listed a moment ago: kept, not asked again.
			if h, _ := s.home(me.Access); h.Licenses.Status != "ok" || len(h.Licenses.Items) == 0 {
				t.Fatalf("licences listed a moment ago, with the province %s: %+v", fault.Mode, h.Licenses)
			}
			// Someone whose licences were never listed (a failed answer is not kept) asks the province.
			h, _ := s.home(li.Access)
			if !h.Degraded || h.Licenses.Status != "unavailable" || !slices.Equal(h.Licenses.Unavailable, []string{"licenses"}) ||
				!strings.Contains(h.Licenses.Message, "电子证照") || len(h.Licenses.Items) != 0 {
				t.Fatalf("licences with the province %s: %+v", fault.Mode, h.Licenses)
			}
			if h.Recommended.Status == "ok" || !slices.Contains(h.Recommended.Unavailable, "licenses") {
				t.Fatalf("recommendations that depend on the licences: %+v", h.Recommended)
			}
			for name, sec := range map[string]sectionJSON{"todos": h.Todos.sectionJSON, "cases": h.Cases.sectionJSON,
				"shipments": h.Shipments.sectionJSON, "messages": h.Messages.sectionJSON} {
				if sec.Status != "ok" || len(sec.Unavailable) != 0 {
					t.Fatalf("%s marked although its sources answered: %+v", name, sec)
				}
			}
		})
	}
}

// notModified asks for path twice, the second time with the ETag of the
// first, until nothing changed in between (reminders still being sent
// change a screen), and returns the first answer and the second.
func (s *server) notModified(path, token string, headers ...string) (*response, *response) {
	s.t.Helper()
	var first, second *response
	testenv.WaitFor(s.t, "two answers of "+path+" with nothing changed between them", func() bool {
		first = s.request("GET", path, token, nil, headers...)
		second = s.request("GET", path, token, nil, append(headers, "If-None-Match", `W/"other", `+first.Header.Get("ETag"))...)
		return first.Status == 200 && second.Status != 200
	})
	return first, second
}

// A second GET with the ETag answers 304 (home and every detail view); a
// change makes a new answer; personal data is private, a guide public.
func TestConditionalGETs(t *testing.T) {
	// Budgets no busy machine runs out of: a source marked unavailable in
	// both screens would make them equal for the wrong reason.
	s, token, ids := todoWorld(t, func(c *bff.Config) { c.HomeBudget = 20 * time.Second })
	first, r := s.notModified("/api/v1/home", token)
	etag := first.Header.Get("ETag")
	if r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != etag || r.Header.Get("Cache-Control") != "private, no-cache" ||
		first.Header.Get("Cache-Control") != "private, no-cache" || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("home with its ETag: %d %q etag %q cache %q", r.Status, r.Body, r.Header.Get("ETag"), r.Header.Get("Cache-Control"))
	}
	// Another client's links are another answer.
	if r := s.request("GET", "/api/v1/home", token, nil, "If-None-Match", etag, "X-Client", "app"); r.Status != 200 || r.Header.Get("ETag") == etag {
		t.Fatalf("the app's home with the mini-program's ETag: %d", r.Status)
	}
	// Reading an unread message changes the screen.
	type message struct {
		ID   string `json:"id"`
		Read bool   `json:"read"`
	}
	var inbox struct {
		Items []message `json:"items"`
	}
	s.request("GET", "/api/v1/me/notifications", token, nil).JSON(t, &inbox)
	unread := slices.IndexFunc(inbox.Items, func(m message) bool { return !m.Read })
	if unread < 0 {
		t.Fatal("no unread messages")
	}
	if r := s.request("POST", "/api/v1/me/notifications/"+inbox.Items[unread].ID+"/read", token, nil); r.Status != 200 {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	if r := s.request("GET", "/api/v1/home", token, nil, "If-None-Match", etag); r.Status != 200 || r.Header.Get("ETag") == etag {
		t.Fatalf("home after a change: %d, etag %q", r.Status, r.Header.Get("ETag"))
	}

	guide := onlineItem(t, s.app.Sandbox().ProvinceServer()).Code
	for _, c := range []struct {
		path, token, cache string
	}{
		{"/api/v1/cases/" + ids[3], token, "private, no-cache"},
		{"/api/v1/bookings/" + ids[1], token, "private, no-cache"},
		{"/api/v1/payments/" + ids[2], token, "private, no-cache"},
		{"/api/v1/shipments/" + ids[0], token, "private, no-cache"},
		{"/api/v1/items/" + guide, "", "public, max-age=300"},
	} {
		first, again := s.notModified(c.path, c.token)
		etag := first.Header.Get("ETag")
		if first.Header.Get("Cache-Control") != c.cache || !strings.HasPrefix(etag, `"`) {
			t.Fatalf("%s: Cache-Control %q, ETag %q", c.path, first.Header.Get("Cache-Control"), etag)
		}
		if again.Status != 304 || len(again.Body) != 0 || again.Header.Get("ETag") != etag || again.Header.Get("Cache-Control") != c.cache {
			t.Fatalf("%s with its ETag: %d %s", c.path, again.Status, again.Body)
		}
		if other := s.request("GET", c.path, c.token, nil, "If-None-Match", `"stale"`); other.Status != 200 {
			t.Fatalf("%s with another ETag: %d", c.path, other.Status)
		}
	}
	// Not found stays an error, not a 304.
	wantError(t, s.request("GET", "/api/v1/cases/c_000000000000000000000000", token, nil, "If-None-Match", "*"), 404, "CASE_NOT_FOUND")
}

// The owner's case view and the hotline's one screen are the same file:
// the hotline now shows the booking made for the case (without its check-in
// code), its reminders, and links for the console.
func TestCaseFileInTheOwnerAndHotlineViews(t *testing.T) {
	s := start(t, fastCallbacks)
	province := s.app.Sandbox().ProvinceServer()
	me, caseID, number := s.submittedCase("zhangsan")
	admin := s.admin()
	item := bookableItem(t, province, "fz-gl")
	s.configureHall(admin, "fz-gl", item, 2)
	free := bookable(t, s.slots("fz-gl", item, time.Now().Format("2006-01-02"), 7), 1)
	r := s.request("POST", "/api/v1/bookings", me.Access, map[string]string{"hall_id": "fz-gl", "item_code": item,
		"slot_start": free[0].Start, "case_id": caseID}, "Idempotency-Key", "book-for-case")
	if r.Status != 201 {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	booked := r.M(t)["id"].(string)
	// Someone else naming the case in a booking does not get into its file.
	other := s.loginWeChat("lisi")
	if r := s.request("POST", "/api/v1/me/realname", other.Access, map[string]string{"name": sbprovince.DemoPeople[1].Name,
		"id_number": sbprovince.DemoPeople[1].IDNumber}); r.Status != 200 {
		t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	if r := s.request("POST", "/api/v1/bookings", other.Access, map[string]string{"hall_id": "fz-gl", "item_code": item,
		"slot_start": free[0].Start, "case_id": caseID}, "Idempotency-Key", "foreign-booking"); r.Status != 201 {
		t.Fatalf("foreign booking: %d %s", r.Status, r.Body)
	}
	advance(t, province, number, sbprovince.Advance{Status: "accepted"})

	type fileJSON struct {
		ID       string   `json:"id"`
		Link     linkJSON `json:"link"`
		Bookings []struct {
			ID          string   `json:"id"`
			CheckInCode string   `json:"check_in_code"`
			Link        linkJSON `json:"link"`
		} `json:"bookings"`
		Links struct {
			Bookings []string `json:"bookings"`
		} `json:"links"`
		Reminders []struct {
			Rule  string `json:"rule"`
			State string `json:"state"`
		} `json:"reminders"`
	}
	var own fileJSON
	testenv.WaitFor(t, "the acceptance reminder in the case's file", func() bool {
		s.request("GET", "/api/v1/cases/"+caseID, me.Access, nil, "X-Client", "app").JSON(t, &own)
		return slices.ContainsFunc(own.Reminders, func(m struct {
			Rule  string `json:"rule"`
			State string `json:"state"`
		}) bool {
			return m.Rule == "case.accepted"
		})
	})
	if len(own.Bookings) != 1 || own.Bookings[0].ID != booked || own.Bookings[0].CheckInCode == "" ||
		own.Bookings[0].Link.URL != "zwfw://booking/"+booked || own.Link.URL != "zwfw://case/"+caseID ||
		!slices.Equal(own.Links.Bookings, []string{booked}) {
		t.Fatalf("the owner's file: %+v", own)
	}

	if _, err := s.app.Identity().CreateStaff(t.Context(), "hotline18", "坐席", "Staff-pass-2026", []identity.Role{identity.RoleHotline}); err != nil {
		t.Fatal(err)
	}
	op := s.loginStaff("hotline18", "Staff-pass-2026")
	r = s.request("GET", "/api/v1/hotline/cases?number="+number, op, nil, "X-Hotline-Ticket", "T2026180001")
	if r.Status != 200 {
		t.Fatalf("hotline: %d %s", r.Status, r.Body)
	}
	var found struct {
		Items []fileJSON `json:"items"`
	}
	r.JSON(t, &found)
	if len(found.Items) != 1 {
		t.Fatalf("hotline found %d cases", len(found.Items))
	}
	hl := found.Items[0]
	if len(hl.Bookings) != 1 || hl.Bookings[0].ID != booked || hl.Bookings[0].CheckInCode != "" || len(hl.Reminders) == 0 ||
		hl.Link.Client != "h5" || !strings.HasPrefix(hl.Bookings[0].Link.URL, "http://localhost:5173/booking/") {
		t.Fatalf("the hotline's file: %+v", hl)
	}
}
