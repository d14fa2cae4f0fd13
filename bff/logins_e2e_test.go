package bff_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/bff"
	"zwfw/booking"
	"zwfw/identity"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/testenv"
	"zwfw/sandbox/alipay"
	sbprovince "zwfw/sandbox/province"
	"zwfw/sandbox/wechatpay"
)

// loginSMS signs the app in by a code sent to phone.
func (s *server) loginSMS(phone string) session {
	s.t.Helper()
	if r := s.request("POST", "/api/v1/auth/sms/send", "", map[string]string{"phone": phone}); r.Status != 202 {
		s.t.Fatalf("sms send: %d %s", r.Status, r.Body)
	}
	r := s.request("POST", "/api/v1/auth/sms/verify", "", map[string]string{"phone": phone, "code": s.lastSMSCode(phone)})
	if r.Status != 200 {
		s.t.Fatalf("sms login: %d %s", r.Status, r.Body)
	}
	var v struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.JSON(s.t, &v)
	return session{Access: v.AccessToken, Refresh: v.RefreshToken, UserID: v.User.ID}
}

// phoneCode is the mini-program user tapping the getPhoneNumber button.
func (s *server) phoneCode(phone string) string {
	return s.app.Sandbox().WeChatServer().IssuePhoneCode(phone)
}

type loginsJSON struct {
	Logins []struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Label   string `json:"label"`
		Via     string `json:"via"`
		Current bool   `json:"current"`
	} `json:"logins"`
	Merges []mergeJSON `json:"merges"`
}

type mergeJSON struct {
	ID             string   `json:"id"`
	State          string   `json:"state"`
	Role           string   `json:"role"`
	Via            string   `json:"via"`
	AbsorbedLogins []string `json:"absorbed_logins"`
	Steps          []struct {
		Name  string `json:"name"`
		Moved int64  `json:"moved"`
	} `json:"steps"`
}

func (s *server) logins(token string) loginsJSON {
	s.t.Helper()
	r := s.request("GET", "/api/v1/me/logins", token, nil)
	if r.Status != 200 {
		s.t.Fatalf("logins: %d %s", r.Status, r.Body)
	}
	var v loginsJSON
	r.JSON(s.t, &v)
	return v
}

// fileCase files and submits a case for me as person: by upload with an
// electronic result, or (mail) with a courier pickup and a mailed result.
// It returns the case id and number.
func (s *server) fileCase(me session, person sbprovince.Person, mail bool) (string, string) {
	s.t.Helper()
	fake := s.app.Sandbox().ProvinceServer()
	g := onlineItem(s.t, fake)
	delivery := map[string]any{"materials": "upload", "result": "electronic"}
	if mail {
		g = mailItem(s.t, fake)
		delivery = map[string]any{"materials": "pickup", "result": "mail", "address": pickupAddress}
	}
	r := s.request("POST", "/api/v1/cases", me.Access, map[string]any{"item_code": g.Code,
		"form": fullForm(g, person, sbprovince.DemoCompanies[0].USCC), "delivery": delivery})
	if r.Status != 201 {
		s.t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.M(s.t)["id"].(string)
	for _, mat := range g.Materials {
		if mat.Required {
			if r := s.upload(me.Access, id, mat.ID, "m.pdf", bytes.NewReader(minimalPDF)); r.Status != 201 {
				s.t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
		}
	}
	if r := s.request("POST", "/api/v1/cases/"+id+"/submit", me.Access, nil, "Idempotency-Key", "submit-"+id); r.Status != 202 {
		s.t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	c := s.waitCase(me.Access, id, "a case number", func(c map[string]any) bool { return c["case_number"] != nil })
	return id, c["case_number"].(string)
}

// bookSlot books the first free slot of item at the hall for me.
func (s *server) bookSlot(me session, hall, item, key string) string {
	s.t.Helper()
	free := bookable(s.t, s.slots(hall, item, time.Now().Format("2006-01-02"), 7), 1)
	r := s.request("POST", "/api/v1/bookings", me.Access, map[string]string{"hall_id": hall, "item_code": item, "slot_start": free[0].Start},
		"Idempotency-Key", key)
	if r.Status != 201 {
		s.t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	return r.M(s.t)["id"].(string)
}

// listed returns the ids of the items of a list answer.
func (s *server) listed(path, token string) []string {
	s.t.Helper()
	r := s.request("GET", path, token, nil)
	if r.Status != 200 {
		s.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var v struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	r.JSON(s.t, &v)
	out := []string{}
	for _, it := range v.Items {
		out = append(out, it.ID)
	}
	return out
}

// The issue's journey: a citizen uses the mini-program (WeChat), files a
// case, pays and books; binds the phone WeChat verified; then signs in to
// the app by SMS with that phone and finds the same case, payment and
// booking. Someone else's ID number typed into a third account is refused.
func TestOnePersonAcrossMiniProgramAndApp(t *testing.T) {
	s := start(t, fastCallbacks)
	fake := s.app.Sandbox().ProvinceServer()
	item := bookableItem(t, fake, "fz-gl")
	s.configureHall(s.admin(), "fz-gl", item, 2)

	// The mini-program.
	mp, zhang := s.verifiedCitizen("xiaozhang")
	caseID, _ := s.fileCase(mp, zhang, false)
	code := s.issueNotice(zhang.IDNumber, zhang.Name)
	p := s.payOrder(mp.Access, code, "wechat_jsapi", "pay-journey")
	s.userPays("wechat_jsapi", p, wechatpay.PayOptions{}, alipay.PayOptions{})
	testenv.WaitFor(t, "paid", func() bool { return s.payment(mp.Access, code)["status"] == "paid" })
	bookingID := s.bookSlot(mp, "fz-gl", item, "book-journey")

	// getPhoneNumber: the phone WeChat verified becomes a login of this person.
	bindCode := s.phoneCode(zhang.Phone)
	r := s.request("POST", "/api/v1/me/logins/wechat-phone", mp.Access, map[string]string{"code": bindCode},
		"Idempotency-Key", "bind-phone-1")
	if r.Status != 200 {
		t.Fatalf("bind phone: %d %s", r.Status, r.Body)
	}
	var linked struct {
		User   struct{ Phone string } `json:"user"`
		Logins []struct{ Kind, Via string }
		Merge  *mergeJSON `json:"merge"`
	}
	r.JSON(t, &linked)
	if linked.Merge != nil || len(linked.Logins) != 2 || linked.Logins[1].Via != "wechat_phone" || linked.User.Phone != "138****8000" {
		t.Fatalf("bound: %s", r.Body)
	}
	// A retry of the same tap (same key, same code) gets the same answer, though the code is spent.
	again := s.request("POST", "/api/v1/me/logins/wechat-phone", mp.Access, map[string]string{"code": bindCode},
		"Idempotency-Key", "bind-phone-1")
	if again.Status != 200 || !bytes.Equal(again.Body, r.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retried tap: %d %s", again.Status, again.Body)
	}
	wantError(t, s.request("POST", "/api/v1/me/logins/wechat-phone", mp.Access, map[string]string{"code": "other"},
		"Idempotency-Key", "bind-phone-1"), 422, "IDEMPOTENCY_KEY_REUSED")
	wantError(t, s.request("POST", "/api/v1/me/logins/wechat-phone", mp.Access, map[string]string{"code": "never-issued"}), 400, "LOGIN_PROOF_INVALID")

	// The app, by SMS with the same phone: the same person, the same records.
	app := s.loginSMS(zhang.Phone)
	if app.UserID != mp.UserID {
		t.Fatalf("the app signed in as %s, the mini-program is %s", app.UserID, mp.UserID)
	}
	if got := s.listed("/api/v1/cases", app.Access); !slices.Contains(got, caseID) {
		t.Fatalf("the app's cases %v lack %s", got, caseID)
	}
	if got := s.payment(app.Access, code); got["status"] != "paid" {
		t.Fatalf("the app sees the payment as %v", got["status"])
	}
	if got := s.listed("/api/v1/payments", app.Access); !slices.Contains(got, code) {
		t.Fatalf("the app's payments %v lack %s", got, code)
	}
	if got := s.listed("/api/v1/bookings", app.Access); !slices.Contains(got, bookingID) {
		t.Fatalf("the app's bookings %v lack %s", got, bookingID)
	}
	l := s.logins(app.Access)
	if len(l.Logins) != 2 || l.Logins[0].Kind != "wechat" || l.Logins[0].Current || l.Logins[1].Kind != "phone" || !l.Logins[1].Current {
		t.Fatalf("the app's logins: %+v", l.Logins)
	}

	// A third account typing 张三's name and ID number is refused, and told where to go.
	third := s.loginWeChat("impostor")
	r = s.request("POST", "/api/v1/me/realname", third.Access, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber})
	e := wantError(t, r, 409, "REALNAME_HELD_BY_OTHER_ACCOUNT")
	if kinds, _ := e["details"].(map[string]any)["holder_logins"].([]any); len(kinds) != 2 {
		t.Fatalf("the refusal does not say how the holder signs in: %s", r.Body)
	}
	if me := s.request("GET", "/api/v1/me", third.Access, nil).M(t); me["real_name_verified"] != false {
		t.Fatalf("the third account was verified: %v", me)
	}
}

// ownership is, per kind of record, the ids a user owns in the store.
type ownership map[string][]string

func (s *server) ownedBy(userID string) ownership {
	s.t.Helper()
	ctx := context.Background()
	db := s.app.DB()
	ids := func(coll string, filter bson.D) []string {
		cur, err := db.Collection(coll).Find(ctx, filter)
		if err != nil {
			s.t.Fatal(err)
		}
		var docs []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			s.t.Fatal(err)
		}
		out := []string{}
		for _, d := range docs {
			out = append(out, d.ID)
		}
		sort.Strings(out)
		return out
	}
	// The user's active-item keys, as the booking store names them.
	activeItems := func() []string {
		var u struct {
			Items map[string]string `bson:"items"`
		}
		err := db.Collection(booking.UsersCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "user:" + userID}}).Decode(&u)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			s.t.Fatal(err)
		}
		out := []string{}
		for item := range u.Items {
			out = append(out, "active:"+userID+":"+item)
		}
		sort.Strings(out)
		return out
	}
	return ownership{
		"cases":          ids("cases", bson.D{{Key: "owner_id", Value: userID}}),
		"bookings":       ids(booking.BookingsCollection, bson.D{{Key: "user_id", Value: userID}}),
		"payments":       ids(payments.PaymentsCollection, bson.D{{Key: "user_ids", Value: userID}}),
		"payment_orders": ids(payments.OrdersCollection, bson.D{{Key: "user_id", Value: userID}}),
		"shipments":      ids("shipments", bson.D{{Key: "user_id", Value: userID}}),
		"messages":       ids(notify.MessagesCollection, bson.D{{Key: "user_id", Value: userID}}),
		"prefs":          ids(notify.PrefsCollection, bson.D{{Key: "user_id", Value: userID}}),
		"booking_users":  ids(booking.UsersCollection, bson.D{{Key: "_id", Value: "user:" + userID}}),
		"booking_keys":   activeItems(),
		"login_keys":     ids("user_keys", bson.D{{Key: "user_id", Value: userID}}),
		"sessions":       ids("session_families", bson.D{{Key: "user_id", Value: userID}}),
		"refresh_tokens": ids("refresh_tokens", bson.D{{Key: "user_id", Value: userID}}),
	}
}

func (o ownership) summary() map[string]int {
	out := map[string]int{}
	for k, v := range o {
		out[k] = len(v)
	}
	return out
}

// records the app account owns before a merge, and what the merge must show.
type mergeScene struct {
	s           *server
	app, mp     session
	phone       string
	caseID      string
	mailCase    string
	bookingID   string
	code        string
	item        string
	appDevice   string
	beforeApp   ownership
	beforeMP    ownership
	totalBefore map[string]int64
}

var countedCollections = []string{"cases", booking.BookingsCollection, payments.PaymentsCollection, payments.OrdersCollection, "shipments"}

func (sc *mergeScene) totals() map[string]int64 {
	out := map[string]int64{}
	for _, c := range countedCollections {
		n, err := sc.s.app.DB().Collection(c).CountDocuments(context.Background(), bson.D{})
		if err != nil {
			sc.s.t.Fatal(err)
		}
		out[c] = n
	}
	return out
}

// newMergeScene: the app account (SMS) is verified as 张三 and has a case
// with a courier pickup, a booking, a paid notice, a reminder in its inbox,
// a device, a consent and its settings; the mini-program's account (WeChat)
// has a notice it looked up, a device and consents of the same template.
func newMergeScene(t *testing.T, s *server, withShipment bool) *mergeScene {
	t.Helper()
	sc := &mergeScene{s: s, phone: sbprovince.DemoPeople[0].Phone}
	fake := s.app.Sandbox().ProvinceServer()
	sc.item = bookableItem(t, fake, "fz-gl")
	s.configureHall(s.admin(), "fz-gl", sc.item, 2)
	zhang := sbprovince.DemoPeople[0]

	sc.app = s.loginSMS(sc.phone)
	if r := s.request("POST", "/api/v1/me/realname", sc.app.Access, map[string]string{"name": zhang.Name, "id_number": zhang.IDNumber}); r.Status != 200 {
		t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	sc.caseID, _ = s.fileCase(sc.app, zhang, false)
	if withShipment {
		sc.mailCase, _ = s.fileCase(sc.app, zhang, true)
		s.bookPickup(sc.app.Access, sc.mailCase, "pickup-"+sc.mailCase)
	}
	sc.bookingID = s.bookSlot(sc.app, "fz-gl", sc.item, "book-merge")
	sc.code = s.issueNotice(zhang.IDNumber, zhang.Name)
	p := s.payOrder(sc.app.Access, sc.code, "alipay_app", "pay-merge")
	s.userPays("alipay_app", p, wechatpay.PayOptions{}, alipay.PayOptions{})
	testenv.WaitFor(t, "paid, with its e-receipt", func() bool {
		p := s.payment(sc.app.Access, sc.code)
		return p["status"] == "paid" && p["receipt"] != nil
	})
	sc.appDevice = s.app.Sandbox().PushServer().RegisterDevice("android")
	for _, r := range []*response{
		s.request("POST", "/api/v1/me/devices", sc.app.Access, map[string]string{"registration_id": sc.appDevice, "platform": "android"}),
		s.request("PUT", "/api/v1/me/notification-settings", sc.app.Access, map[string]any{
			"channels": map[string][]string{"case": {"push"}}, "quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}}),
		s.request("POST", "/api/v1/me/subscriptions", sc.app.Access, map[string]any{
			"template_ids": []string{"tmpl_payment_notice"}, "results": map[string]string{"tmpl_payment_notice": "accept"}}),
	} {
		if r.Status/100 != 2 {
			t.Fatalf("app preferences: %d %s", r.Status, r.Body)
		}
	}
	testenv.WaitFor(t, "the booking's confirmation in the app's inbox", func() bool {
		return len(s.listed("/api/v1/me/notifications", sc.app.Access)) > 0
	})

	sc.mp = s.loginWeChat("xiaozhang")
	company := s.issueNotice(sbprovince.DemoCompanies[0].USCC, sbprovince.DemoCompanies[0].Name)
	if r := s.request("GET", "/api/v1/payments/lookup?payment_code="+company, sc.mp.Access, nil); r.Status != 200 {
		t.Fatalf("lookup: %d %s", r.Status, r.Body)
	}
	mpDevice := s.app.Sandbox().PushServer().RegisterDevice("ios")
	for _, r := range []*response{
		s.request("POST", "/api/v1/me/devices", sc.mp.Access, map[string]string{"registration_id": mpDevice, "platform": "ios"}),
		s.request("POST", "/api/v1/me/subscriptions", sc.mp.Access, map[string]any{
			"template_ids": []string{"tmpl_payment_notice"}, "results": map[string]string{"tmpl_payment_notice": "accept"}}),
		s.request("POST", "/api/v1/me/subscriptions", sc.mp.Access, map[string]any{
			"template_ids": []string{"tmpl_payment_notice"}, "results": map[string]string{"tmpl_payment_notice": "accept"}}),
	} {
		if r.Status/100 != 2 {
			t.Fatalf("mini-program preferences: %d %s", r.Status, r.Body)
		}
	}
	// The reminders of the events so far are written (the count holds still).
	last, still := -1, 0
	testenv.WaitFor(t, "the reminders settled", func() bool {
		n := len(s.ownedBy(sc.app.UserID)["messages"])
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		return still >= 5
	})
	sc.beforeApp, sc.beforeMP = s.ownedBy(sc.app.UserID), s.ownedBy(sc.mp.UserID)
	sc.totalBefore = sc.totals()
	for kind, n := range sc.beforeApp.summary() {
		if n == 0 && (kind != "shipments" || withShipment) {
			t.Fatalf("the app account has no %s to move: %v", kind, sc.beforeApp.summary())
		}
	}
	return sc
}

// checkMerged: every record of the app account is the mini-program
// person's now, once; nothing is left under the app's id; the counters
// and preferences are merged, not doubled.
func (sc *mergeScene) checkMerged(t *testing.T) {
	t.Helper()
	s := sc.s
	afterApp, afterMP := s.ownedBy(sc.app.UserID), s.ownedBy(sc.mp.UserID)
	for kind, ids := range afterApp {
		if len(ids) != 0 {
			t.Errorf("%d %s left under the absorbed account: %v", len(ids), kind, ids)
		}
	}
	for _, kind := range []string{"cases", "bookings", "payments", "payment_orders", "shipments", "messages", "login_keys", "sessions", "refresh_tokens"} {
		for _, id := range append(append([]string{}, sc.beforeApp[kind]...), sc.beforeMP[kind]...) {
			if !slices.Contains(afterMP[kind], id) {
				t.Errorf("%s %s is not the survivor's", kind, id)
			}
		}
	}
	if got, want := sc.totals(), sc.totalBefore; !mapsEqual(got, want) {
		t.Errorf("records before %v, after %v: something was duplicated or lost", want, got)
	}
	t.Logf("merge moved: app before %v; survivor before %v, after %v", sc.beforeApp.summary(), sc.beforeMP.summary(), afterMP.summary())

	ctx := context.Background()
	db := s.app.DB()
	var counter struct {
		Active  int      `bson:"active"`
		NoShows []bson.M `bson:"no_shows"`
	}
	if err := db.Collection(booking.UsersCollection).FindOne(ctx, bson.M{"_id": "user:" + sc.mp.UserID}).Decode(&counter); err != nil || counter.Active != 1 {
		t.Errorf("survivor's active bookings counted %d (%v), want 1", counter.Active, err)
	}
	if holder, _, err := booking.NewMongoStore(db).ActiveItemHolder(ctx, sc.mp.UserID, sc.item); err != nil || holder != sc.bookingID {
		t.Errorf("survivor's active-item key: %v %v", holder, err)
	}
	var consent struct {
		Count int `bson:"count"`
	}
	if err := db.Collection(notify.PrefsCollection).FindOne(ctx, bson.M{"_id": "consent:" + sc.mp.UserID + ":tmpl_payment_notice"}).Decode(&consent); err != nil || consent.Count != 3 {
		t.Errorf("consents after the merge: %d (%v), want 2 + 1", consent.Count, err)
	}
	if n, _ := db.Collection(notify.PrefsCollection).CountDocuments(ctx, bson.M{"_id": "device:" + sc.mp.UserID + ":" + sc.appDevice}); n != 1 {
		t.Error("the app's device was not moved")
	}
	var set struct {
		Settings struct {
			Channels map[string][]string `bson:"channels"`
		} `bson:"settings"`
	}
	if err := db.Collection(notify.PrefsCollection).FindOne(ctx, bson.M{"_id": "settings:" + sc.mp.UserID}).Decode(&set); err != nil ||
		!slices.Equal(set.Settings.Channels["case"], []string{"push"}) {
		t.Errorf("the app's settings did not come over: %+v %v", set, err)
	}

	// The app's existing session now acts for the survivor: its token, its refresh.
	if me := s.request("GET", "/api/v1/me", sc.app.Access, nil).M(t); me["id"] != sc.mp.UserID || me["real_name_verified"] != true {
		t.Errorf("the app's old token is %v", me)
	}
	for path, id := range map[string]string{"/api/v1/cases": sc.caseID, "/api/v1/bookings": sc.bookingID, "/api/v1/payments": sc.code} {
		if got := s.listed(path, sc.mp.Access); !slices.Contains(got, id) {
			t.Errorf("the mini-program's %s lacks %s: %v", path, id, got)
		}
		if got := s.listed(path, sc.app.Access); !slices.Contains(got, id) {
			t.Errorf("the app's %s lacks %s: %v", path, id, got)
		}
	}
	r := s.request("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": sc.app.Refresh})
	if r.Status != 200 || r.M(t)["user"].(map[string]any)["id"] != sc.mp.UserID {
		t.Errorf("the app's refresh: %d %s", r.Status, r.Body)
	}
	l := s.logins(sc.mp.Access)
	if len(l.Logins) != 2 || len(l.Merges) != 1 {
		t.Fatalf("logins after the merge: %+v", l)
	}
	m := l.Merges[0]
	names := map[string]int{}
	for _, st := range m.Steps {
		names[st.Name]++
	}
	if m.State != "done" || m.Role != "survivor" || m.Via != "wechat_phone" || len(m.AbsorbedLogins) != 1 || len(m.Steps) != 11 {
		t.Fatalf("the merge's record: %+v", m)
	}
	for name, n := range names {
		if n != 1 {
			t.Errorf("step %s recorded %d times", name, n)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The app account came first; the mini-program's person binds the same
// phone through getPhoneNumber, and the two become one: every record moves
// once, the app's session goes on as the survivor.
func TestBindingTheAppsPhoneMergesTheAppAccount(t *testing.T) {
	s := start(t, fastCallbacks, noRateLimits)
	sc := newMergeScene(t, s, true)
	r := s.request("POST", "/api/v1/me/logins/wechat-phone", sc.mp.Access, map[string]string{"code": s.phoneCode(sc.phone)},
		"Idempotency-Key", "bind-merge")
	if r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	var res struct {
		Merge mergeJSON `json:"merge"`
	}
	r.JSON(t, &res)
	if res.Merge.State != "done" {
		t.Fatalf("merge: %s", r.Body)
	}
	sc.checkMerged(t)
	// The app's account cannot be merged twice, and a merged account links nothing.
	r = s.request("POST", "/api/v1/me/logins/wechat-phone", sc.mp.Access, map[string]string{"code": s.phoneCode(sc.phone)})
	if r.Status != 200 || r.M(t)["merge"] != nil {
		t.Fatalf("binding again: %d %s", r.Status, r.Body)
	}
}

// A merge stopped midway (the test hook stops it after five recorded
// steps, the sixth written but not recorded, as a crash would) finishes
// exactly once when zwfw starts again on the same data.
func TestMergeInterruptedMidwayFinishesAfterRestart(t *testing.T) {
	var cfg bff.Config
	s := start(t, fastCallbacks, noRateLimits, func(c *bff.Config) { c.MergeStopAfterSteps = 5; cfg = *c })
	sc := newMergeScene(t, s, false)
	r := s.request("POST", "/api/v1/me/logins/wechat-phone", sc.mp.Access, map[string]string{"code": s.phoneCode(sc.phone)})
	if r.Status != 202 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	var res struct {
		Merge mergeJSON `json:"merge"`
	}
	r.JSON(t, &res)
	if res.Merge.State != "running" || len(res.Merge.Steps) != 5 {
		t.Fatalf("halted merge: %s", r.Body)
	}
	// Meanwhile the person is locked for links, and the half-merged data is
	// already reachable from both sessions (the absorbed id leads to the survivor).
	wantError(t, s.request("POST", "/api/v1/me/logins/wechat", sc.mp.Access, map[string]string{"code": "test:someone"}), 409, "ACCOUNT_MERGE_IN_PROGRESS")
	ctx := context.Background()
	var rec identity.Merge
	if err := s.app.DB().Collection(identity.MergesCollection).FindOne(ctx, bson.M{"_id": res.Merge.ID}).Decode(&rec); err != nil ||
		rec.State != identity.MergeRunning || len(rec.Steps) != 5 || rec.Steps[4].Name != "cases" {
		t.Fatalf("record at the crash: %+v %v", rec, err)
	}
	shutdown, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.app.Shutdown(shutdown); err != nil {
		t.Fatal(err)
	}

	cfg.MergeStopAfterSteps = 0
	s = launch(t, cfg)
	sc.s = s
	testenv.WaitFor(t, "the merge finished after the restart", func() bool {
		l := s.logins(sc.mp.Access)
		return len(l.Merges) == 1 && l.Merges[0].State == "done"
	})
	sc.checkMerged(t)
	var job struct {
		State    string `bson:"state"`
		Attempts int    `bson:"attempts"`
	}
	if err := s.app.DB().Collection("jobs").FindOne(ctx, bson.M{"type": identity.JobMerge}).Decode(&job); err != nil || job.State != "done" || job.Attempts < 2 {
		t.Fatalf("the merge job: %+v %v", job, err)
	}
}

// Linking by SMS code and by WeChat code; unlinking keeps at least one
// login, refuses the session's own login, and ends the unlinked login's sessions.
func TestLinkAndUnlinkLogins(t *testing.T) {
	s := start(t)
	app := s.loginSMS("13912345678")
	// Another phone, by the code sent to it.
	if r := s.request("POST", "/api/v1/auth/sms/send", "", map[string]string{"phone": "13787654321"}); r.Status != 202 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	code := s.lastSMSCode("13787654321")
	r := s.request("POST", "/api/v1/me/logins/sms", app.Access, map[string]string{"phone": "13787654321", "code": wrongCode(code)})
	if e := wantError(t, r, 400, "LOGIN_PROOF_INVALID"); e["details"].(map[string]any)["reason"] != "AUTH_SMS_CODE_INVALID" {
		t.Fatalf("reason: %s", r.Body)
	}
	if r := s.request("POST", "/api/v1/me/logins/sms", app.Access, map[string]string{"phone": "13787654321", "code": code}); r.Status != 200 {
		t.Fatalf("link by SMS: %d %s", r.Status, r.Body)
	}
	// The mini-program's WeChat, by a wx.login code.
	wantError(t, s.request("POST", "/api/v1/me/logins/wechat", app.Access, map[string]string{"code": "never-issued"}), 400, "LOGIN_PROOF_INVALID")
	if r := s.request("POST", "/api/v1/me/logins/wechat", app.Access, map[string]string{"code": "test:linked"}, "Idempotency-Key", "link-wx"); r.Status != 200 {
		t.Fatalf("link by WeChat: %d %s", r.Status, r.Body)
	}
	mp := s.loginWeChat("linked")
	if mp.UserID != app.UserID {
		t.Fatalf("the linked WeChat signs in as %s", mp.UserID)
	}
	l := s.logins(app.Access)
	if len(l.Logins) != 3 {
		t.Fatalf("logins: %+v", l.Logins)
	}
	ids := map[string]string{}
	for _, x := range l.Logins {
		ids[x.Kind+" "+x.Label] = x.ID
	}
	wantError(t, s.request("DELETE", "/api/v1/me/logins/"+ids["phone 139****5678"], app.Access, nil), 409, "LOGIN_IN_USE")
	wantError(t, s.request("DELETE", "/api/v1/me/logins/lg_0000000000000000", app.Access, nil), 404, "LOGIN_NOT_FOUND")
	var wechatID string
	for k, id := range ids {
		if k[:6] == "wechat" {
			wechatID = id
		}
	}
	if r := s.request("DELETE", "/api/v1/me/logins/"+wechatID, app.Access, nil, "Idempotency-Key", "unlink-wx"); r.Status != 200 {
		t.Fatalf("unlink WeChat: %d %s", r.Status, r.Body)
	}
	// The mini-program's session (opened with that WeChat) ended; the WeChat is a stranger now.
	wantError(t, s.request("GET", "/api/v1/me", mp.Access, nil), 401, "AUTH_SESSION_REVOKED")
	if other := s.loginWeChat("linked"); other.UserID == app.UserID {
		t.Fatal("the unlinked WeChat still signs in to the person")
	}
	if r := s.request("DELETE", "/api/v1/me/logins/"+ids["phone 137****4321"], app.Access, nil); r.Status != 200 {
		t.Fatalf("unlink the second phone: %d %s", r.Status, r.Body)
	}
	left := s.logins(app.Access).Logins
	if len(left) != 1 || !left[0].Current {
		t.Fatalf("left: %+v", left)
	}
	wantError(t, s.request("DELETE", "/api/v1/me/logins/"+left[0].ID, app.Access, nil), 409, "LOGIN_LAST_ONE")
	// Staff have no logins to link.
	wantError(t, s.request("GET", "/api/v1/me/logins", s.admin(), nil), 403, "AUTH_FORBIDDEN")
}
