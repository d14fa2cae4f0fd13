package console_test

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/booking"
	"zwfw/cases"
	"zwfw/identity"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/pii"
	"zwfw/platform/mongox"
	"zwfw/platform/workdays"
)

// The hotline benchmarks' store: 10,000 cases of 2,500 people, four each,
// filed over the last 200 days; half of them with a booking, a third with a
// payment notice (paid, with its receipt), a quarter with a shipment of the
// result (delivered), each of these with its reminder, and half of the
// cases with a reminder of their own (about 16,000 messages). The caller
// is one of the people: all four of their cases have a booking, a payment,
// a shipment and reminders.
const (
	hotlineCases  = 10_000
	hotlinePeople = 2_500
	hotlineCaller = 1_234 // the person on the phone
)

// BenchmarkHotlineSearch: a 12345 operator's search by the caller's phone
// (POST /console/hotline/search with a ticket and the form's CSRF token),
// which finds the caller's four cases among 10,000 and writes its audit
// entry, through the whole stack (session, CSRF, the audited look-up, the
// session's search, the time limits, the template), next to a bare Fiber
// handler measured in the same run: requests per second and their ratio,
// 90th-percentile latencies under 8 concurrent clients, the median of each
// alone, and the first search after start. Nothing here asserts on speed.
func BenchmarkHotlineSearch(b *testing.B) {
	if probeOnly(b) {
		return
	}
	h := newHotlineBench(b)
	search := h.search
	load(b, h.client, h.bareURL, "", 200) // warm connections and caches
	loadEach(b, h.client, benchWorkers, 50, search)
	bareAlone, searchAlone := h.alone(h.get(h.bareURL, "")), h.alone(search)
	b.ResetTimer()
	bareRate, bareP90 := load(b, h.client, h.bareURL, "", b.N)
	searchRate, searchLat := loadEach(b, h.client, benchWorkers, b.N, search)
	b.StopTimer()
	searchP90 := searchLat[b.N*9/10]
	b.ReportMetric(bareRate, "bare_req/s")
	b.ReportMetric(searchRate, "search_req/s")
	b.ReportMetric(searchRate/bareRate, "search/bare")
	b.ReportMetric(ms(bareP90), "bare_p90_ms")
	b.ReportMetric(ms(searchP90), "search_p90_ms")
	b.ReportMetric(ms(h.coldSearch), "search_cold_ms")
	b.ReportMetric(ms(bareAlone), "bare_alone_ms")
	b.ReportMetric(ms(searchAlone), "search_alone_ms")
}

// BenchmarkHotlineCase: the one view of a case the search found (GET of
// the page the result links to, audited on every view): the case, its
// bookings, payments, shipments and the reminders about them, read from a
// store of 10,000 cases and their records, next to a bare Fiber handler
// measured in the same run, reported like BenchmarkHotlineSearch. Nothing
// here asserts on speed.
func BenchmarkHotlineCase(b *testing.B) {
	if probeOnly(b) {
		return
	}
	h := newHotlineBench(b)
	caseURL := h.z.base + "/console/hotline/cases/" + h.seed.viewed
	view := h.get(caseURL, h.session)
	// The first view of a case filed before the file's index existed
	// rebuilds its index from the domains' lists: the cold figure.
	t0 := time.Now()
	res, err := h.client.Do(view())
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cold, first := time.Since(t0), string(raw)
	if res.StatusCode != 200 {
		b.Fatalf("the case page: %d", res.StatusCode)
	}
	for _, want := range h.seed.shown {
		if !strings.Contains(first, want) {
			b.Fatalf("the case page lacks %q (its file was not read whole)", want)
		}
	}
	for _, empty := range []string{"无预约", "无缴费", "无快递", "无提醒"} {
		if strings.Contains(first, empty) {
			b.Fatalf("the case page says %s", empty)
		}
	}
	load(b, h.client, h.bareURL, "", 200) // warm connections and caches
	loadEach(b, h.client, benchWorkers, 50, view)
	bareAlone, caseAlone := h.alone(h.get(h.bareURL, "")), h.alone(view)
	b.ResetTimer()
	bareRate, bareP90 := load(b, h.client, h.bareURL, "", b.N)
	caseRate, caseLat := loadEach(b, h.client, benchWorkers, b.N, view)
	b.StopTimer()
	b.ReportMetric(bareRate, "bare_req/s")
	b.ReportMetric(caseRate, "case_req/s")
	b.ReportMetric(caseRate/bareRate, "case/bare")
	b.ReportMetric(ms(bareP90), "bare_p90_ms")
	b.ReportMetric(ms(caseLat[b.N*9/10]), "case_p90_ms")
	b.ReportMetric(ms(cold), "case_cold_ms")
	b.ReportMetric(ms(bareAlone), "bare_alone_ms")
	b.ReportMetric(ms(caseAlone), "case_alone_ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// probeOnly reports a call of a benchmark whose figures the framework
// throws away: with -benchtime Nx (N > 1) it calls the benchmark once with
// b.N = 1 to probe, then with b.N = N, and seeding the store takes longer
// than the measurement. Any other -benchtime measures every call.
func probeOnly(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if b.N != 1 || f == nil {
		return false
	}
	v := f.Value.String()
	return strings.HasSuffix(v, "x") && v != "1x"
}

// hotlineBench is a zwfw with the hotline store seeded and an operator
// signed in who searched the caller's phone once.
type hotlineBench struct {
	b          *testing.B
	z          *zwfw
	seed       hotlineSeed
	op         *browserless
	session    string
	client     *http.Client
	bareURL    string
	search     func() *http.Request
	coldSearch time.Duration
}

func newHotlineBench(b *testing.B) *hotlineBench {
	z := start(b, func(c *bff.Config) { c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000 })
	item := z.bookableItem("fz-gl")
	z.configureHall("fz-gl", item)
	seed := seedHotline(b, z, item)
	// Loaded in bulk: the _id index the embedded store adds by itself.
	if err := mongox.IndexIDs(b.Context()); err != nil {
		b.Fatal(err)
	}
	z.staff("hotline97", "Hotline-pass-2026", identity.RoleHotline)
	op := z.browserless()
	if p := op.login("hotline97", "Hotline-pass-2026"); p.Status != 200 {
		b.Fatalf("login: %d", p.Status)
	}
	form := url.Values{"_csrf": {op.get("/console/hotline").csrf(b)}, "ticket": {"GD-20261207-0001"},
		"kind": {"phone"}, "value": {seed.phone}}
	t0 := time.Now()
	first := op.do("POST", "/console/hotline/search", form)
	cold := time.Since(t0)
	if first.Status != 200 || !strings.Contains(first.Body, fmt.Sprintf("共 %d 件", len(seed.numbers))) {
		b.Fatalf("the search: %d (not the caller's %d cases)", first.Status, len(seed.numbers))
	}
	for _, n := range seed.numbers {
		if !strings.Contains(first.Body, n) {
			b.Fatalf("the search did not find %s", n)
		}
	}
	client, bareHost := bareBench(b)
	// A page that reads collections whole takes seconds under 8 clients on
	// the embedded store: the figures say so instead of a failed request.
	client.Timeout = 2 * time.Minute
	h := &hotlineBench{b: b, z: z, seed: seed, op: op, session: op.session(b), client: client,
		bareURL: "http://" + bareHost + "/hello", coldSearch: cold}
	body, searchURL := form.Encode(), z.base+"/console/hotline/search"
	h.search = func() *http.Request {
		req, _ := http.NewRequest("POST", searchURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "zwfw_console", Value: h.session})
		return req
	}
	return h
}

// get makes GETs of target (with the session cookie when given).
func (h *hotlineBench) get(target, session string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest("GET", target, nil)
		if session != "" {
			req.AddCookie(&http.Cookie{Name: "zwfw_console", Value: session})
		}
		return req
	}
}

// alone is the median latency of 101 requests sent one after another:
// what a page costs without waiting for a core.
func (h *hotlineBench) alone(newReq func() *http.Request) time.Duration {
	_, lat := loadEach(h.b, h.client, 1, 101, newReq)
	return lat[len(lat)/2]
}

// hotlineSeed is what seedHotline stored about the caller.
type hotlineSeed struct {
	phone   string
	numbers []string // the caller's case numbers
	viewed  string   // the caller's newest case
	shown   []string // what the viewed case's page shows from its file
}

// seedHotline stores the hotline benchmarks' store. The caller's cases
// and their records go through the domains' stores (so whatever a store
// keeps beside a document is kept as in use); the other people's straight
// into MongoDB in batches (single inserts would take many minutes on the
// embedded store), with the look-up keys the cases store files them under.
func seedHotline(b *testing.B, z *zwfw, bookable string) hotlineSeed {
	ctx := b.Context()
	db := z.app.DB()
	// The keys start() configures.
	sm4, _ := pii.ParseKeyHex(strings.Repeat("cd", 16))
	cipher, err := pii.NewCipher(map[byte][]byte{1: sm4}, 1)
	if err != nil {
		b.Fatal(err)
	}
	bidx, _ := pii.ParseBlindIndexKeyHex(strings.Repeat("ef", 32))
	index := pii.NewBlindIndex(bidx)
	seal := func(field, v string) string {
		enc, err := cipher.EncryptField(field, v)
		if err != nil {
			b.Fatal(err)
		}
		return enc
	}
	items := z.app.Sandbox().ProvinceServer().Items()
	caseStore, bookStore := cases.NewMongoStore(db), booking.NewMongoStore(db)
	payStore, shipStore, msgStore := payments.NewMongoStore(db), logistics.NewMongoStore(db), notify.NewMongoStore(db)

	type person struct {
		phone, idNumber, name string
		applicant             cases.Applicant
		caseIDs               []string
	}
	people := make([]person, hotlinePeople)
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
	for p := range people {
		pp := &people[p]
		pp.phone = fmt.Sprintf("139%08d", 10_000_000+p)
		pp.idNumber = fmt.Sprintf("3501021%03d%02d%02d%04d", 960+p%40, 1+p%12, 1+p%28, p%10_000)
		pp.name = string(surnames[p%len(surnames)]) + "压测" + fmt.Sprint(p%10)
		pp.applicant = cases.Applicant{Type: cases.ApplicantCitizen,
			NameEnc: seal("name", pp.name), NameMasked: pii.MaskName(pp.name),
			IDNumberEnc: seal("id_number", pp.idNumber), IDNumberIndex: index.Index("id_number", pp.idNumber), IDNumberMasked: pii.MaskIDNumber(pp.idNumber),
			PhoneEnc: seal("phone", pp.phone), PhoneIndex: index.Index("phone", pp.phone), PhoneMasked: pii.MaskPhone(pp.phone)}
	}

	now := time.Now().UTC().Truncate(time.Millisecond)
	today := workdays.DateOf(now)
	var seed hotlineSeed
	batches := map[string][]any{}
	flush := func(coll string, force bool) {
		if batch := batches[coll]; len(batch) > 0 && (force || len(batch) >= 500) {
			if _, err := db.Collection(coll).InsertMany(ctx, batch); err != nil {
				b.Fatalf("%s: %v", coll, err)
			}
			batches[coll] = batch[:0]
		}
	}
	add := func(coll string, doc any) {
		batches[coll] = append(batches[coll], doc)
		flush(coll, false)
	}
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	msgSeq := 0
	message := func(userID, rule string, kind notify.Kind, subject, title, body string, at time.Time, caller bool) {
		msgSeq++
		m := notify.Message{ID: "dedup:" + userID + ":" + rule + ":" + subject, PublicID: fmt.Sprintf("mhl%07d", msgSeq),
			UserID: userID, RuleID: rule, Kind: kind, Subject: subject, Title: title, Body: body, State: notify.StateSent,
			Channel: notify.ChannelWeChat, Inbox: true, ReadAt: &at, CreatedAt: at, UpdatedAt: at,
			Attempts: []notify.Attempt{{Channel: notify.ChannelWeChat, At: at, Outcome: notify.OutcomeSent}}}
		if msgSeq%10 == 0 {
			m.State, m.Channel, m.ReadAt = notify.StateFailed, "", nil
			m.Attempts = []notify.Attempt{{Channel: notify.ChannelWeChat, At: at, Outcome: notify.OutcomeNoConsent},
				{Channel: notify.ChannelSMS, At: at, Outcome: notify.OutcomeRefused, Detail: "isv.BUSINESS_LIMIT_CONTROL"}}
		}
		if caller {
			_, _, err := msgStore.InsertMessage(ctx, &m)
			check(err)
			return
		}
		add(notify.MessagesCollection, m)
	}

	for i := range hotlineCases {
		p := i % hotlinePeople
		pp := &people[p]
		caller := p == hotlineCaller
		withBooking, withPayment, withShipment := caller || i%2 == 0, caller || i%3 == 0, caller || i%4 == 0
		it := items[i%len(items)]
		owner := fmt.Sprintf("u_hl%05d", p)
		created := now.Add(-time.Duration(hotlineCases-i) * 29 * time.Minute) // the last 200 days
		id := fmt.Sprintf("c_%012x%012x", created.UnixMilli(), i)
		number := fmt.Sprintf("FZHL%012d", i)
		submitted, accepted := created.Add(10*time.Minute), created.Add(26*time.Hour)
		c := cases.Case{ID: id, OwnerID: owner, Applicant: pp.applicant, ItemCode: it.Code, ItemName: it.Name, Dept: it.Dept,
			PromisedDays: max(it.PromisedDays, 1), StatutoryDays: max(it.StatutoryDays, 1),
			Form:       map[string]any{"contact_phone": pp.applicant.PhoneEnc, "quantity": 1},
			FormMasked: map[string]string{"contact_phone": pp.applicant.PhoneMasked},
			Delivery:   cases.Delivery{Materials: "upload", Result: "electronic"}, Materials: []cases.Material{},
			SubmittedAt: &submitted, CaseNumber: number, ProvinceSeq: 2, Version: 4, CreatedAt: created, UpdatedAt: accepted,
			Timeline: []cases.Entry{{At: created, Status: cases.StatusDraft, Actor: "applicant", Note: "创建申报草稿"},
				{At: submitted, Status: cases.StatusSubmitted, Actor: "applicant"},
				{At: accepted, Status: cases.StatusAccepted, Actor: "province", Note: "已受理"}}}
		c.Status, c.AcceptedAt = cases.StatusAccepted, &accepted
		if withShipment { // the result is mailed
			c.Delivery = cases.Delivery{Materials: "upload", Result: "mail", AddressEnc: seal("delivery_address", pp.name+" "+pp.phone+" 压测路 1 号"),
				Address: &cases.PostalAddress{Name: pii.MaskName(pp.name), Phone: pii.MaskPhone(pp.phone), Province: "福建省", City: "福州市",
					District: "鼓楼区", Detail: "****"}}
		}
		if age := now.Sub(created); age > 30*24*time.Hour { // older cases are finished
			done := accepted.Add(time.Duration(1+i%10) * 24 * time.Hour)
			c.Status, c.CompletedAt, c.Result = cases.StatusCompletedApproved, &done, c.Delivery.Result
			c.Timeline = append(c.Timeline, cases.Entry{At: done, Status: cases.StatusCompletedApproved, Actor: "province", Note: "准予许可"})
			if i%3 == 0 {
				c.Evaluation = &cases.Evaluation{Level: 4 + i%2, At: done.Add(time.Hour), Reported: true}
			}
		}
		if caller {
			check(caseStore.Create(ctx, &c))
			check(caseStore.BindNumber(ctx, number, id))
			seed.numbers, seed.viewed = append(seed.numbers, number), id
			seed.shown = []string{number}
		} else {
			add("cases", c)
		}
		pp.caseIDs = append(pp.caseIDs, id)
		if caller || i%2 == 1 {
			message(owner, notify.RuleCaseAccepted, notify.KindCase, cases.Subject(id), "办件已受理",
				fmt.Sprintf("您的办件%s（%s）已受理，正在审核。", number, it.Name), accepted, caller)
		}

		if withBooking {
			slot := today.AddDays(-(hotlineCases-i)/50 + 1).Start().Add(time.Duration(9*60+30*(i%14)) * time.Minute).UTC()
			bk := booking.Booking{ID: fmt.Sprintf("b_%012x%012x", created.UnixMilli(), i), Number: fmt.Sprintf("YYHL%010d", i),
				UserID: owner, HallID: "fz-gl", ItemCode: bookable, CaseID: id, SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute),
				Status: booking.StatusCheckedIn, CheckInCode: fmt.Sprintf("HL%030d", i), QueueNumber: 1 + i%80, CheckedInAt: &slot,
				Timeline: []booking.Entry{{At: created, Status: booking.StatusConfirmed, Actor: "user", SlotStart: slot},
					{At: slot, Status: booking.StatusCheckedIn, Actor: "staff", SlotStart: slot}},
				Version: 2, CreatedAt: created, UpdatedAt: slot}
			if slot.After(now) {
				bk.Status, bk.QueueNumber, bk.CheckedInAt, bk.Timeline = booking.StatusConfirmed, 0, nil, bk.Timeline[:1]
			} else if i%7 == 0 {
				bk.Status, bk.QueueNumber, bk.CheckedInAt = booking.StatusNoShow, 0, nil
				bk.Timeline[1].Status, bk.Timeline[1].Actor = booking.StatusNoShow, "system"
			}
			if caller {
				check(bookStore.CreateBooking(ctx, &bk))
				seed.shown = append(seed.shown, bk.Number)
			} else {
				add(booking.BookingsCollection, bk)
			}
			message(owner, notify.RuleBookingConfirmed, notify.KindBooking, booking.Subject(bk.ID), "预约成功",
				fmt.Sprintf("您已成功预约%s，预约号%s。", it.Name, bk.Number), created, caller)
		}
		if withPayment {
			code := fmt.Sprintf("350100260%011d", i)
			amount := payments.Fen(1000 * (1 + i%20))
			pay := payments.Payment{ID: code, PayerName: pp.applicant.NameMasked, PayerKind: "person",
				PayerIndex: pp.applicant.IDNumberIndex, PayerMask: pp.applicant.IDNumberMasked, Agency: it.Dept,
				Items: []payments.NoticeItem{{Code: "103040101", Name: "工本费", Amount: amount, Quantity: 1}}, Amount: amount, IssuedAt: accepted,
				DueAt: accepted.Add(15 * 24 * time.Hour), CaseNumber: number, Status: payments.StatusPaid, UserIDs: []string{owner},
				PaidOrder: fmt.Sprintf("ZWHL%016d", i), PaidChannel: payments.AlipayApp, TransactionID: fmt.Sprintf("2026%024d", i),
				PaidAt: accepted.Add(2 * time.Hour), PaidAmount: amount, ConfirmedAt: accepted.Add(3 * time.Hour),
				Receipt: &payments.Receipt{Number: fmt.Sprintf("%010d", i), Code: "35010126", CheckSum: "a1b2c3", IssuedAt: accepted.Add(3 * time.Hour)},
				Version: 3, CreatedAt: accepted, UpdatedAt: accepted.Add(3 * time.Hour)}
			if caller {
				_, _, err := payStore.InsertPayment(ctx, pay)
				check(err)
				seed.shown = append(seed.shown, code)
			} else {
				add(payments.PaymentsCollection, pay)
			}
			message(owner, notify.RulePaymentPaid, notify.KindPayment, payments.Subject(code), "缴费成功",
				fmt.Sprintf("缴款码%s已缴费%d.%02d元。", code, amount/100, amount%100), pay.PaidAt, caller)
		}
		if withShipment {
			at := accepted.Add(48 * time.Hour)
			addr := logistics.Address{Name: pii.MaskName(pp.name), Phone: pii.MaskPhone(pp.phone), Province: "福建省", City: "福州市",
				District: "鼓楼区", Detail: "****", DivisionCode: "350102"}
			hall := logistics.Address{Name: "鼓楼区政务服务中心", Phone: "0591-87000000", Province: "福建省", City: "福州市",
				District: "鼓楼区", Detail: "五四路 1 号", DivisionCode: "350102"}
			sh := logistics.Shipment{ID: fmt.Sprintf("s_%012x%012x", at.UnixMilli(), i), CaseID: id, CaseNumber: number, UserID: owner,
				ItemCode: it.Code, ItemName: it.Name, Direction: logistics.ToApplicant, Carrier: "ems",
				WaybillNumber: fmt.Sprintf("EHL%010dCN", i), CourierOrderID: fmt.Sprintf("K%012d", i),
				Sender: logistics.SealedAddress{Masked: hall}, Receiver: logistics.SealedAddress{Masked: addr, NameEnc: seal("name", pp.name),
					PhoneEnc: seal("phone", pp.phone), DetailEnc: seal("address", "压测路 1 号")},
				State: logistics.StateDelivered, LastEventAt: at.Add(40 * time.Hour), LastCheckedAt: now,
				Postage: logistics.Postage{PaidBy: logistics.PaidByGovernment}, Salt: fmt.Sprintf("%016x", i), Version: 5,
				CreatedAt: at, UpdatedAt: at.Add(40 * time.Hour)}
			for k, st := range []logistics.State{logistics.StateCreated, logistics.StatePickedUp, logistics.StateInTransit,
				logistics.StateOutForDelivery, logistics.StateDelivered} {
				sh.Timeline = append(sh.Timeline, logistics.TrackEvent{At: at.Add(time.Duration(k*10) * time.Hour), State: st,
					Context: "【福州市】" + st.Label(), Area: "福州市", Source: logistics.SourcePush})
			}
			if caller {
				_, _, err := shipStore.InsertShipment(ctx, &sh)
				check(err)
				seed.shown = append(seed.shown, sh.WaybillNumber)
			} else {
				add(logistics.ShipmentsCollection, sh)
			}
			message(owner, notify.RuleShipmentDelivered, notify.KindShipment, logistics.Subject(sh.ID), "快递已签收",
				fmt.Sprintf("您的办件结果（运单号%s）已签收。", sh.WaybillNumber), sh.UpdatedAt, caller)
		}
	}
	// The look-up keys: each person's phone and ID number name their cases
	// (oldest first, as the cases store appends them).
	for p := range people {
		pp := &people[p]
		if p == hotlineCaller {
			for _, id := range pp.caseIDs {
				check(caseStore.IndexCase(ctx, id, []string{"phone:" + pp.applicant.PhoneIndex, "pid:" + pp.applicant.IDNumberIndex}))
			}
			continue
		}
		add("case_keys", bson.M{"_id": "ix:phone:" + pp.applicant.PhoneIndex, "case_ids": pp.caseIDs})
		add("case_keys", bson.M{"_id": "ix:pid:" + pp.applicant.IDNumberIndex, "case_ids": pp.caseIDs})
	}
	for coll := range batches {
		flush(coll, true)
	}
	seed.phone = people[hotlineCaller].phone
	seed.shown = append(seed.shown, "办件已受理", "预约成功", "缴费成功", "快递已签收")
	return seed
}
