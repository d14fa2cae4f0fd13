package home_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
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
	"zwfw/platform/events"
	"zwfw/province"
)

var shanghai = time.FixedZone("CST", 8*3600)

// now is Tuesday 2026-03-03 10:00 in Shanghai.
var now = time.Date(2026, 3, 3, 10, 0, 0, 0, shanghai)

type fakeCases []*cases.Case

func (f fakeCases) List(context.Context, string, cases.Status, string, int) ([]*cases.Case, string, error) {
	return f, "", nil
}

func (f fakeCases) ByID(_ context.Context, id string) (*cases.Case, error) {
	for _, c := range f {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, cases.ErrNotFound
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

func (f fakeBookings) ByID(_ context.Context, id string) (*booking.Booking, error) {
	for _, b := range f {
		if b.ID == id {
			return b, nil
		}
	}
	return nil, booking.ErrNotFound
}

// fakePayments are the notices the platform lists (all of them) and zwfw holds.
type fakePayments []payments.Payment

func (f fakePayments) List(context.Context, string, payments.Status) ([]payments.Payment, error) {
	return f, nil
}

func (f fakePayments) Discover(context.Context, string) ([]payments.Payment, error) { return f, nil }

func (f fakePayments) ByCode(_ context.Context, code string) (payments.Payment, error) {
	for _, p := range f {
		if p.ID == code {
			return p, nil
		}
	}
	return payments.Payment{}, payments.ErrNotFound
}

type fakeShipments []logistics.Shipment

func (f fakeShipments) ActiveOf(context.Context, string, int) ([]logistics.Shipment, error) {
	return f, nil
}

func (f fakeShipments) GetAny(_ context.Context, id string) (logistics.Shipment, error) {
	for _, sh := range f {
		if sh.ID == id {
			return sh, nil
		}
	}
	return logistics.Shipment{}, logistics.ErrNotFound
}

// memIndex keeps indexes in memory.
type memIndex struct {
	mu sync.Mutex
	m  map[string]*home.Index
}

func newMemIndex() *memIndex { return &memIndex{m: map[string]*home.Index{}} }

func (x *memIndex) Index(_ context.Context, u string) (*home.Index, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if idx, ok := x.m[u]; ok {
		cp := *idx
		cp.Cases, cp.Bookings = slices.Clone(idx.Cases), slices.Clone(idx.Bookings)
		cp.Payments, cp.Shipments = slices.Clone(idx.Payments), slices.Clone(idx.Shipments)
		return &cp, nil
	}
	return nil, nil
}

func (x *memIndex) list(idx *home.Index, part home.Part) *[]string {
	return map[home.Part]*[]string{home.PartCases: &idx.Cases, home.PartBookings: &idx.Bookings,
		home.PartPayments: &idx.Payments, home.PartShipments: &idx.Shipments}[part]
}

func (x *memIndex) get(u string) *home.Index {
	if x.m[u] == nil {
		x.m[u] = &home.Index{UserID: u}
	}
	return x.m[u]
}

func (x *memIndex) Add(_ context.Context, u string, part home.Part, ids ...string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	l := x.list(x.get(u), part)
	for _, id := range ids {
		if !slices.Contains(*l, id) {
			*l = append(*l, id)
		}
	}
	return nil
}

func (x *memIndex) Remove(_ context.Context, u string, part home.Part, ids ...string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if idx, ok := x.m[u]; ok {
		l := x.list(idx, part)
		*l = slices.DeleteFunc(*l, func(id string) bool { return slices.Contains(ids, id) })
	}
	return nil
}

func (x *memIndex) Rebuilt(ctx context.Context, idx *home.Index) error {
	for part, ids := range map[home.Part][]string{home.PartCases: idx.Cases, home.PartBookings: idx.Bookings,
		home.PartPayments: idx.Payments, home.PartShipments: idx.Shipments} {
		_ = x.Add(ctx, idx.UserID, part, ids...)
	}
	x.mu.Lock()
	x.get(idx.UserID).BuiltAt = idx.BuiltAt
	x.mu.Unlock()
	return nil
}

func (x *memIndex) Forget(_ context.Context, u string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.m, u)
	return nil
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
		Index: newMemIndex(),
		Cases: fakeCases{
			{ID: "c_supp", OwnerID: "u1", ItemName: "食品经营许可证核发", Status: cases.StatusSupplementRequested, Supplement: []string{"m1", "m3"},
				Timeline: []cases.Entry{{At: supp, Status: cases.StatusSupplementRequested}}},
			{ID: "c_done", OwnerID: "u1", ItemName: "户籍类证明开具", Status: cases.StatusCompletedApproved, CompletedAt: &completed},
			{ID: "c_prog", OwnerID: "u1", ItemName: "机动车驾驶证换证", Status: cases.StatusAccepted, PromisedDays: 10, AcceptedAt: &accepted},
			{ID: "c_draft", OwnerID: "u1", Status: cases.StatusDraft},
		},
		Bookings: fakeBookings{
			{ID: "b_tomorrow", UserID: "u1", HallID: "fz-gl", ItemCode: "A1", Status: booking.StatusConfirmed, CheckInCode: "QR-1",
				SlotStart: at("2026-03-04", "09:00"), SlotEnd: at("2026-03-04", "09:30")},
			{ID: "b_later", UserID: "u1", Status: booking.StatusConfirmed, SlotStart: at("2026-03-10", "09:00"), SlotEnd: at("2026-03-10", "09:30")},
			{ID: "b_past", UserID: "u1", Status: booking.StatusConfirmed, SlotStart: at("2026-03-03", "08:00"), SlotEnd: at("2026-03-03", "08:30")},
		},
		Payments: fakePayments{{ID: "35010026000000000017", Agency: "福州市公安局", Amount: 1000, Status: payments.StatusUnpaid,
			DueAt: at("2026-03-05", "23:59")}},
		Shipments: fakeShipments{
			{ID: "shp_result_c_x", UserID: "u1", Direction: logistics.ToApplicant, State: logistics.StateOutForDelivery, WaybillNumber: "EMS1"},
			{ID: "shp_pickup_c_y_1", UserID: "u1", Direction: logistics.ToHall, State: logistics.StateInTransit},
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

// casesListDown answers by id but not by owner: a screen that needs the
// list would show the cases unavailable.
type casesListDown struct{ fakeCases }

func (casesListDown) List(context.Context, string, cases.Status, string, int) ([]*cases.Case, string, error) {
	return nil, "", errors.New("a list by owner reads the whole collection")
}

// The first screen builds the person's index from the domains' lists;
// later screens read each record by its id only.
func TestIndexBuiltOnceThenReadByID(t *testing.T) {
	d := world()
	idx := d.Index.(*memIndex)
	first := home.New(d).Screen(context.Background(), home.Viewer{UserID: "u1"})
	built, _ := idx.Index(context.Background(), "u1")
	if built == nil || built.BuiltAt.IsZero() || !slices.Equal(built.Cases, []string{"c_supp", "c_done", "c_prog"}) ||
		!slices.Equal(built.Bookings, []string{"b_tomorrow", "b_later"}) || len(built.Shipments) != 2 || len(built.Payments) != 1 {
		t.Fatalf("index after the first screen: %+v", built)
	}
	d.Cases = casesListDown{d.Cases.(fakeCases)}
	second := home.New(d).Screen(context.Background(), home.Viewer{UserID: "u1"})
	if second.Degraded() || len(second.Todos.Items) != len(first.Todos.Items) || len(second.Cases.Items) != len(first.Cases.Items) {
		t.Fatalf("second screen: degraded %v, %d to-dos (first %d)", second.Degraded(), len(second.Todos.Items), len(first.Todos.Items))
	}
	// A day later the index is rebuilt (and the list is needed again).
	d.Now = func() time.Time { return now.Add(25 * time.Hour) }
	if later := home.New(d).Screen(context.Background(), home.Viewer{UserID: "u1"}); later.Cases.Status() != home.StatusUnavailable {
		t.Fatalf("a stale index was not rebuilt: cases %s", later.Cases.Status())
	}
}

// Events add their records to their person's index; records that no
// longer matter (cancelled, paid, someone else's) drop off when seen.
func TestEventsAddAndStaleIDsDropOff(t *testing.T) {
	d := world()
	idx := d.Index.(*memIndex)
	svc := home.New(d)
	svc.Screen(context.Background(), home.Viewer{UserID: "u1"}) // built
	newBooking := &booking.Booking{ID: "b_new", UserID: "u1", HallID: "fz-gl", Status: booking.StatusConfirmed,
		SlotStart: at("2026-03-03", "15:00"), SlotEnd: at("2026-03-03", "15:30")}
	d.Bookings = append(d.Bookings.(fakeBookings), newBooking)
	svc = home.New(d)
	ev, err := events.NewEvent(booking.EventConfirmed, "booking:b_new", "u1", map[string]any{"user_id": "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.HandleEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	sc := svc.Screen(context.Background(), home.Viewer{UserID: "u1"})
	if sc.Todos.Items[0].Link.ID != "b_new" || sc.Todos.Items[0].Title != "今日预约" {
		t.Fatalf("the booking announced by its event is not the first to-do: %+v", sc.Todos.Items[0])
	}
	// Cancelled: it drops off the screen and the index.
	newBooking.Status = booking.StatusCancelled
	svc.Screen(context.Background(), home.Viewer{UserID: "u1"})
	got, _ := idx.Index(context.Background(), "u1")
	if slices.Contains(got.Bookings, "b_new") || !slices.Contains(got.Bookings, "b_tomorrow") {
		t.Fatalf("index bookings %v", got.Bookings)
	}
	// A case event adds the case to its owner's index, whoever the actor.
	caseEv, _ := events.NewEvent(cases.EventStatusChanged, "case:c_prog", "province", map[string]any{"status": "accepted"})
	_ = idx.Forget(context.Background(), "u1")
	if err := svc.HandleEvent(context.Background(), caseEv); err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.Index(context.Background(), "u1"); got == nil || !slices.Equal(got.Cases, []string{"c_prog"}) || !got.BuiltAt.IsZero() {
		t.Fatalf("index after a case event: %+v", got)
	}
}
