package home_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/catalog"
	"zwfw/home"
	"zwfw/links"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/province"
)

var shanghai = time.FixedZone("CST", 8*3600)

// now is Tuesday 2026-03-03 10:00 in Shanghai.
var now = time.Date(2026, 3, 3, 10, 0, 0, 0, shanghai)

type fakeCases []*cases.Case

func (f fakeCases) List(context.Context, string, cases.Status, string, int) ([]*cases.Case, string, error) {
	return f, "", nil
}

type fakeBookings []*booking.Booking

func (f fakeBookings) List(_ context.Context, _ string, st booking.Status, _ string) ([]*booking.Booking, string, error) {
	var out []*booking.Booking
	for _, b := range f {
		if b.Status == st {
			out = append(out, b)
		}
	}
	return out, "", nil
}

type fakePayments []payments.Payment

func (f fakePayments) List(context.Context, string, payments.Status) ([]payments.Payment, error) {
	return f, nil
}

type fakeShipments []logistics.Shipment

func (f fakeShipments) ActiveOf(context.Context, string, int) ([]logistics.Shipment, error) {
	return f, nil
}

type fakeMessages struct{}

func (fakeMessages) Unread(context.Context, string, int) ([]notify.Message, int, error) {
	return []notify.Message{{PublicID: "p1", Title: "办件已受理"}}, 7, nil
}

// licensesFunc lets a test make the province answer, fail, or hang.
type licensesFunc func(ctx context.Context) ([]home.License, error)

func (f licensesFunc) Held(ctx context.Context, _ string) ([]home.License, error) { return f(ctx) }

// fakeCatalog finds items whose name contains the query.
type fakeCatalog []province.ItemSummary

func (f fakeCatalog) Search(_ context.Context, q catalog.Query) (province.ItemPage, error) {
	var page province.ItemPage
	for _, it := range f {
		if strings.Contains(it.Name, q.Q) || slices.Contains(it.Keywords, q.Q) {
			page.Items = append(page.Items, it)
		}
	}
	return page, nil
}

// workdays counts Monday to Friday.
type workdays struct{}

func (workdays) AddWorkdays(from time.Time, n int) time.Time {
	d := from
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			n--
		}
	}
	return d
}

func (workdays) WorkdaysBetween(from, to time.Time) int {
	n := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if next := d.AddDate(0, 0, 1); next.Weekday() != time.Saturday && next.Weekday() != time.Sunday {
			n++
		}
	}
	return n
}

func at(day, hm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// world is one person with one thing of each kind to do.
func world() home.Deps {
	accepted, completed := at("2026-02-20", "09:00"), at("2026-03-02", "16:00")
	supp := at("2026-03-02", "11:00")
	return home.Deps{
		Cases: fakeCases{
			{ID: "c_supp", ItemName: "食品经营许可证核发", Status: cases.StatusSupplementRequested, Supplement: []string{"m1", "m3"},
				Timeline: []cases.Entry{{At: supp, Status: cases.StatusSupplementRequested}}},
			{ID: "c_done", ItemName: "户籍类证明开具", Status: cases.StatusCompletedApproved, CompletedAt: &completed},
			{ID: "c_prog", ItemName: "机动车驾驶证换证", Status: cases.StatusAccepted, PromisedDays: 10, AcceptedAt: &accepted},
			{ID: "c_draft", Status: cases.StatusDraft},
		},
		Bookings: fakeBookings{
			{ID: "b_tomorrow", HallID: "fz-gl", ItemCode: "A1", Status: booking.StatusConfirmed, CheckInCode: "QR-1",
				SlotStart: at("2026-03-04", "09:00"), SlotEnd: at("2026-03-04", "09:30")},
			{ID: "b_later", Status: booking.StatusConfirmed, SlotStart: at("2026-03-10", "09:00"), SlotEnd: at("2026-03-10", "09:30")},
			{ID: "b_past", Status: booking.StatusConfirmed, SlotStart: at("2026-03-03", "08:00"), SlotEnd: at("2026-03-03", "08:30")},
		},
		Payments: fakePayments{{ID: "35010026000000000017", Agency: "福州市公安局", Amount: 1000, Status: payments.StatusUnpaid,
			DueAt: at("2026-03-05", "23:59")}},
		Shipments: fakeShipments{
			{ID: "shp_result_c_x", Direction: logistics.ToApplicant, State: logistics.StateOutForDelivery, WaybillNumber: "EMS1"},
			{ID: "shp_pickup_c_y_1", Direction: logistics.ToHall, State: logistics.StateInTransit},
		},
		Messages: fakeMessages{},
		Licenses: licensesFunc(func(context.Context) ([]home.License, error) {
			return []home.License{
				{ID: "EL1", Name: "居民身份证", HolderType: province.HolderCitizen, ExpiresOn: at("2026-03-20", "00:00"), Status: province.LicenseValid},
				{ID: "EL2", Name: "结婚证", HolderType: province.HolderCitizen, Status: province.LicenseValid},
				{ID: "EL3", Name: "机动车驾驶证", HolderType: province.HolderCitizen, ExpiresOn: at("2026-09-01", "00:00"), Status: province.LicenseValid},
			}, nil
		}),
		Catalog: fakeCatalog{
			{Code: "ID1", Name: "居民身份证换领"}, {Code: "ID2", Name: "居民身份证补领"},
			{Code: "GJJ", Name: "住房公积金单位缴存登记"},
		},
		Calendar: workdays{},
		Now:      func() time.Time { return now },
	}
}

// The to-dos come in urgency order: the earliest due first.
func TestTodosInUrgencyOrder(t *testing.T) {
	sc := home.New(world()).Screen(context.Background(), home.Viewer{UserID: "u1"})
	var got []string
	for _, td := range sc.Todos.Items {
		got = append(got, string(td.Kind)+":"+td.Link.ID)
	}
	want := []string{
		"receive:shp_result_c_x",   // out for delivery: today
		"booking:b_tomorrow",       // tomorrow 09:00
		"pay:35010026000000000017", // due 5 March
		"supplement:c_supp",        // asked 2 March + 5 working days = 9 March
		"evaluate:c_done",          // finished 2 March, rated within 15 days
	}
	if !slices.Equal(got, want) {
		t.Fatalf("to-dos %v\nwant     %v", got, want)
	}
	b := sc.Todos.Items[1]
	if b.CheckInCode != "QR-1" || b.Title != "明日预约" || b.Link != links.To(links.Booking, "b_tomorrow") {
		t.Fatalf("booking to-do %+v", b)
	}
	if s := sc.Todos.Items[3]; !s.DueAt.Equal(at("2026-03-09", "23:59").Add(59*time.Second)) || !strings.Contains(s.Detail, "2项") {
		t.Fatalf("supplement due %v (%s)", s.DueAt, s.Detail)
	}
	if e := sc.Todos.Items[4]; e.Link.Target != links.CaseEvaluate {
		t.Fatalf("evaluation to-do links to %v", e.Link)
	}
	if sc.Degraded() {
		t.Fatal("nothing failed, yet the screen is degraded")
	}
}

// The other sections: bounded, filtered and sorted.
func TestSections(t *testing.T) {
	sc := home.New(world()).Screen(context.Background(), home.Viewer{UserID: "u1"})
	if n := len(sc.Cases.Items); n != 2 || sc.Cases.Items[0].Case.ID != "c_supp" && sc.Cases.Items[0].Case.ID != "c_prog" {
		t.Fatalf("cases in progress: %+v", sc.Cases.Items)
	}
	for _, c := range sc.Cases.Items {
		if c.Case.ID == "c_prog" && (c.TimeLimit.DueOn == nil || c.TimeLimit.DaysLeft <= 0) {
			t.Fatalf("case in progress without its working days left: %+v", c.TimeLimit)
		}
	}
	if len(sc.Shipments.Items) != 2 {
		t.Fatalf("parcels under way: %+v", sc.Shipments.Items)
	}
	if len(sc.Licenses.Items) != 1 || sc.Licenses.Items[0].ID != "EL1" || sc.Licenses.Items[0].DaysLeft != 17 {
		t.Fatalf("expiring licences: %+v", sc.Licenses.Items)
	}
	if sc.Unread != 7 || len(sc.Messages.Items) != 1 {
		t.Fatalf("unread %d %+v", sc.Unread, sc.Messages.Items)
	}
	if r := sc.Recommended.Items; len(r) != 1 || r[0].ItemCode != "ID1" || !strings.Contains(r[0].Reason, "2026年3月20日") {
		t.Fatalf("recommended: %+v (want the ID card's renewal, not its replacement)", r)
	}
}

// The province failing or hanging marks the licences (and the renewals
// that depend on them); the rest of the screen is whole.
func TestProvinceFailingMarksItsSections(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	for name, held := range map[string]licensesFunc{
		"fails": func(context.Context) ([]home.License, error) { return nil, errors.New("province down") },
		// A source that ignores its deadline costs no more than its budget.
		"hangs": func(context.Context) ([]home.License, error) { <-hang; return nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			d := world()
			d.Licenses = held
			d.Rules.Budgets = map[home.Source]time.Duration{home.SourceLicenses: 50 * time.Millisecond}
			sc := home.New(d).Screen(context.Background(), home.Viewer{UserID: "u1"})
			if sc.Licenses.Status() != home.StatusUnavailable || !slices.Equal(sc.Licenses.Missing, []home.Source{home.SourceLicenses}) ||
				!strings.Contains(sc.Licenses.Message(), "电子证照") {
				t.Fatalf("licences: %s %v %q", sc.Licenses.Status(), sc.Licenses.Missing, sc.Licenses.Message())
			}
			if sc.Recommended.Status() != home.StatusPartial {
				t.Fatalf("recommended: %s", sc.Recommended.Status())
			}
			if sc.Todos.Status() != home.StatusOK || len(sc.Todos.Items) != 5 || !sc.Degraded() {
				t.Fatalf("to-dos: %s, %d items, degraded %v", sc.Todos.Status(), len(sc.Todos.Items), sc.Degraded())
			}
		})
	}
}

// Businesses see the items due in season; citizens do not.
func TestSeasonalItemsForBusinesses(t *testing.T) {
	d := world()
	d.Now = func() time.Time { return at("2026-07-06", "10:00") }
	d.Licenses = licensesFunc(func(context.Context) ([]home.License, error) { return nil, nil })
	biz := home.New(d).Screen(context.Background(), home.Viewer{UserID: "u1", Business: true})
	if r := biz.Recommended.Items; len(r) != 1 || r[0].ItemCode != "GJJ" || !strings.Contains(r[0].Reason, "7月") {
		t.Fatalf("a business in July: %+v", r)
	}
	if r := home.New(d).Screen(context.Background(), home.Viewer{UserID: "u1"}).Recommended.Items; len(r) != 0 {
		t.Fatalf("a citizen in July: %+v", r)
	}
}
