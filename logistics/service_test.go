package logistics

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/apperr"
	"zwfw/logistics/courier"
	fakecourier "zwfw/sandbox/courier"
)

// The issue's journey: a pickup books a sandbox order; the sandbox moves
// the parcel to delivered with duplicated and reordered pushes; the
// timeline ends delivered, in order, each entry once, each event once.
func TestPickupToDeliveredByUnrulyPushes(t *testing.T) {
	e := newEnv(t)
	created, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(1), applicant(), tomorrowMorning())
	if err != nil {
		t.Fatal(err)
	}
	if created.State != StateCreated || created.WaybillNumber != "" || !strings.HasPrefix(created.ID, "shp_") {
		t.Fatalf("created %+v", created)
	}
	if created.Sender.Masked.Phone != "138****8000" || created.Sender.NameEnc == "" || strings.Contains(created.Sender.DetailEnc, "八一七") {
		t.Fatalf("sender not sealed and masked: %+v", created.Sender)
	}
	if err := e.runJob(JobCreatePickup, created.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.runJob(JobCreatePickup, created.ID); err != nil { // a retried job books nothing twice
		t.Fatal(err)
	}
	sh := e.reload(created.ID)
	orders := e.fake.Orders()
	if len(orders) != 1 || orders[0].ThirdOrderID != thirdOrderID(sh.ID) || orders[0].Kuaidinum != sh.WaybillNumber ||
		orders[0].Sender.Address != "福建省福州市鼓楼区八一七北路68号" || orders[0].Receiver.Address != "福建省厦门市思明区湖滨北路1号" ||
		!strings.HasSuffix(orders[0].PollCallback, "/callbacks/courier/ems") || orders[0].Remark != "办件编号 "+caseRef(1).Number {
		t.Fatalf("sandbox orders %+v for shipment %+v", orders, sh)
	}
	if sh.Carrier != "ems" || sh.State != StateCreated || sh.CourierOrderID == "" {
		t.Fatalf("booked shipment %+v", sh)
	}
	num := sh.WaybillNumber

	// Steps 1-3 pushed twice each, steps 4-6 each overtaken by the next,
	// the last one plain.
	if err := e.fake.SetFault(fakecourier.PushFault{Number: num, Mode: fakecourier.FaultDuplicate}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.advance(num)
		e.settled()
	}
	if err := e.fake.SetFault(fakecourier.PushFault{Number: num, Mode: fakecourier.FaultReorder}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		e.advance(num)
		e.settled()
	}
	parcel, _ := e.fake.ParcelByNumber(num)
	if !parcel.Checked {
		t.Fatalf("parcel not delivered in the sandbox: %+v", parcel)
	}
	// A replay of the first push after the end changes nothing either.
	first := e.cb.forms()[0]
	if reply, err := e.svc.HandlePush(e.ctx, "ems", first); err != nil || !strings.Contains(string(reply), `"result":true`) {
		t.Fatalf("replayed push: %s %v", reply, err)
	}

	sh = e.reload(sh.ID)
	entries := courierEntries(sh)
	if sh.State != StateDelivered || len(entries) != len(parcel.Events) {
		t.Fatalf("state %s with %d courier entries, sandbox has %d: %+v", sh.State, len(entries), len(parcel.Events), sh.Timeline)
	}
	for i, got := range entries {
		want := parcel.Events[i]
		if !got.At.Equal(want.Time) || got.Context != want.Context || got.Source != SourcePush {
			t.Fatalf("entry %d = %+v, sandbox %+v", i, got, want)
		}
		if i > 0 && !got.At.After(entries[i-1].At) {
			t.Fatalf("timeline not strictly ordered at %d", i)
		}
	}
	if last := entries[len(entries)-1]; last.State != StateDelivered {
		t.Fatalf("last entry %+v", last)
	}
	if sh.Timeline[0].Source != SourceSystem || sh.Timeline[0].State != StateCreated {
		t.Fatalf("first entry %+v", sh.Timeline[0])
	}
	pushes := e.fake.Pushes(num)
	dups, reordered := 0, 0
	for _, p := range pushes {
		switch p.Fault {
		case fakecourier.FaultDuplicate:
			dups++
		case "reordered":
			reordered++
		}
	}
	if dups != 3 || reordered < 2 || len(e.cb.errors()) != 0 {
		t.Fatalf("%d pushes (%d duplicates, %d reordered), handler errors %v", len(pushes), dups, reordered, e.cb.errors())
	}
	for typ, want := range map[string]int{EventPickedUp: 1, EventDelivered: 1, EventException: 0} {
		if n := e.eventsOf(typ, sh.ID); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
	evs, _ := e.log.ReadSubject(e.ctx, "shipment:"+sh.ID, 0, 10)
	var data map[string]any
	if err := evs[len(evs)-1].Decode(&data); err != nil || data["case_id"] != caseRef(1).ID ||
		data["waybill_number"] != num || data["state"] != "delivered" || data["user_id"] != "u1" {
		t.Fatalf("delivered event data %v %v", data, err)
	}
}

// With pushes switched off, polling alone brings the shipment to delivered.
func TestPollingAloneReachesDelivered(t *testing.T) {
	e := newEnv(t)
	if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultOff}); err != nil {
		t.Fatal(err)
	}
	sh := e.pickup(2)
	// Not collected yet: the aggregator has no track; nothing changes.
	e.clock.Advance(11 * time.Minute)
	if n, err := e.svc.Poll(e.ctx, 10); err != nil || n != 0 {
		t.Fatalf("poll before pickup: %d %v", n, err)
	}
	// Just polled: not due again until PollStaleAfter has passed.
	e.advance(sh.WaybillNumber)
	if due, _ := e.store.DueForPoll(e.ctx, e.clock.Now().Add(-2*time.Hour), 10); len(due) != 0 {
		t.Fatalf("recently checked shipment due: %d", len(due))
	}
	for i := 0; ; i++ {
		if n, err := e.svc.Poll(e.ctx, 10); err != nil || n != 1 {
			t.Fatalf("poll %d: %d %v", i, n, err)
		}
		if e.reload(sh.ID).State == StateDelivered {
			break
		}
		if i > 10 {
			t.Fatal("never delivered")
		}
		e.advance(sh.WaybillNumber)
		e.advance(sh.WaybillNumber)
	}
	sh = e.reload(sh.ID)
	parcel, _ := e.fake.ParcelByNumber(sh.WaybillNumber)
	entries := courierEntries(sh)
	if len(entries) != len(parcel.Events) || entries[0].Source != SourcePoll || len(e.cb.forms()) != 0 {
		t.Fatalf("%d entries (sandbox %d), %d pushes received", len(entries), len(parcel.Events), len(e.cb.forms()))
	}
	if e.eventsOf(EventPickedUp, sh.ID) != 1 || e.eventsOf(EventDelivered, sh.ID) != 1 {
		t.Fatal("events not appended exactly once")
	}
	// Delivered shipments are not polled any more.
	e.clock.Advance(time.Hour)
	if due, _ := e.store.DueForPoll(e.ctx, e.clock.Now(), 10); len(due) != 0 {
		t.Fatalf("a delivered shipment is still due for polling")
	}
}

// A forged push is refused and changes nothing; the genuine one applies.
func TestForgedPushRefused(t *testing.T) {
	e := newEnv(t)
	if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultOff}); err != nil {
		t.Fatal(err)
	}
	sh := e.pickup(3)
	for range 7 {
		e.advance(sh.WaybillNumber)
	}
	pushes := e.fake.Pushes(sh.WaybillNumber)
	genuine := url.Values{"param": {pushes[0].Param}, "sign": {pushes[0].Sign}}
	delivered := pushes[len(pushes)-1].Param
	forged := []struct {
		name string
		form url.Values
	}{
		{"signed with another salt", url.Values{"param": {delivered}, "sign": {fakecourier.PushSign(delivered, "guessed-salt")}}},
		{"genuine signature over another param", url.Values{"param": {delivered}, "sign": {pushes[0].Sign}}},
		{"no signature", url.Values{"param": {delivered}}},
		{"not JSON", url.Values{"param": {"<xml/>"}, "sign": {"00"}}},
	}
	before := e.reload(sh.ID)
	for _, f := range forged {
		reply, err := e.svc.HandlePush(e.ctx, "ems", f.form)
		if !errors.Is(err, ErrPushSignatureInvalid) || !strings.Contains(string(reply), `"result":false`) {
			t.Errorf("%s: %s %v", f.name, reply, err)
		}
	}
	other := strings.Replace(pushes[0].Param, sh.WaybillNumber, "11999999999", 1)
	if _, err := e.svc.HandlePush(e.ctx, "ems", url.Values{"param": {other}, "sign": {fakecourier.PushSign(other, sh.Salt)}}); !errors.Is(err, ErrPushUnknownWaybill) {
		t.Errorf("unknown waybill: %v", err)
	}
	after := e.reload(sh.ID)
	if after.Version != before.Version || after.State != StateCreated || len(after.Timeline) != len(before.Timeline) {
		t.Fatalf("a refused push changed the shipment: %+v", after)
	}
	if e.eventsOf(EventDelivered, sh.ID)+e.eventsOf(EventPickedUp, sh.ID) != 0 {
		t.Fatal("a refused push appended events")
	}
	if _, err := e.svc.HandlePush(e.ctx, "ems", genuine); err != nil {
		t.Fatal(err)
	}
	if got := e.reload(sh.ID); got.State != StatePickedUp {
		t.Fatalf("genuine push: %s", got.State)
	}
	// A signed order-status callback carries no track: acknowledged, nothing changes.
	order := fmt.Sprintf(`{"kuaidicom":"ems","kuaidinum":%q,"status":"10","message":"已下单"}`, sh.WaybillNumber)
	reply, err := e.svc.HandlePush(e.ctx, "ems", url.Values{"param": {order}, "sign": {fakecourier.PushSign(order, sh.Salt)}})
	if err != nil || !strings.Contains(string(reply), `"result":true`) || e.reload(sh.ID).State != StatePickedUp {
		t.Fatalf("order callback: %s %v", reply, err)
	}
}

// thirdOrderID is the courier's idempotency key of a shipment's pickup:
// its id, or the id's MD5 when longer than the aggregator takes.
func thirdOrderID(shipmentID string) string {
	if len(shipmentID) <= 32 {
		return shipmentID
	}
	sum := md5.Sum([]byte(shipmentID))
	return hex.EncodeToString(sum[:])
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultOff}); err != nil {
		t.Fatal(err)
	}

	// Booked, not collected: cancelled at the courier and here, announced
	// once; cancelling again is refused and changes nothing.
	booked := e.pickup(4)
	got, err := e.svc.Cancel(e.ctx, "u1", booked.ID)
	if err != nil || got.State != StateCancelled {
		t.Fatalf("cancel: %+v %v", got, err)
	}
	if o := e.fake.Orders()[0]; o.Status != "cancelled" {
		t.Fatalf("sandbox order %s", o.Status)
	}
	if _, err := e.svc.Cancel(e.ctx, "u1", booked.ID); !errors.Is(err, ErrAlreadyCancelled) {
		t.Fatalf("second cancel: %v", err)
	}
	if again := e.reload(booked.ID); again.Version != got.Version || e.eventsOf(EventCancelled, booked.ID) != 1 {
		t.Fatalf("after a second cancel: version %d (was %d), %d cancelled events", again.Version, got.Version, e.eventsOf(EventCancelled, booked.ID))
	}

	// Not booked yet: cancelled here; the booking job then books nothing.
	early, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(5), applicant(), tomorrowMorning())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(e.ctx, "u1", early.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.runJob(JobCreatePickup, early.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Orders()); n != 1 {
		t.Fatalf("%d sandbox orders after cancelling before booking", n)
	}

	// Collected, though no push said so yet: the courier refuses, nothing changes.
	taken := e.pickup(6)
	e.advance(taken.WaybillNumber)
	if _, err := e.svc.Cancel(e.ctx, "u1", taken.ID); !errors.Is(err, ErrAlreadyPickedUp) {
		t.Fatalf("cancel after pickup: %v", err)
	}
	if got := e.reload(taken.ID); got.State != StateCreated || got.Version != taken.Version {
		t.Fatalf("refused cancel changed the shipment: %+v", got)
	}
	// Once zwfw knows it was collected, it refuses without asking.
	e.clock.Advance(time.Hour)
	if _, err := e.svc.Poll(e.ctx, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(e.ctx, "u1", taken.ID); !errors.Is(err, ErrAlreadyPickedUp) {
		t.Fatalf("cancel of a known pickup: %v", err)
	}

	// Someone else's shipment does not exist for them.
	if _, err := e.svc.Cancel(e.ctx, "u2", booked.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stranger cancel: %v", err)
	}
	if _, err := e.svc.Get(e.ctx, "u2", booked.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stranger get: %v", err)
	}
}

func TestCreatePickupValidation(t *testing.T) {
	e := newEnv(t)
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, 2+d, h, m, 0, 0, chinaTime) }
	cases := []struct {
		name   string
		addr   func(*Address)
		window Window
		err    *apperr.Error
		fields []string
	}{
		{"every address problem at once", func(a *Address) { a.Phone = "12345"; a.District = "思明区"; a.Name = "" },
			tomorrowMorning(), ErrAddressInvalid, []string{"address.name", "address.phone", "address.district"}},
		{"address and window together", func(a *Address) { a.Province = "火星" },
			Window{Start: day(0, 10, 30), End: day(0, 12, 0)}, ErrAddressInvalid, []string{"address.province", "pickup_window.start"}},
		{"less than an hour ahead", nil, Window{Start: day(0, 10, 30), End: day(0, 12, 0)}, ErrWindowInvalid, []string{"pickup_window.start"}},
		{"more than 7 days ahead", nil, Window{Start: day(8, 9, 0), End: day(8, 11, 0)}, ErrWindowInvalid, []string{"pickup_window.start"}},
		{"too short", nil, Window{Start: day(1, 9, 0), End: day(1, 9, 30)}, ErrWindowInvalid, []string{"pickup_window.end"}},
		{"too long", nil, Window{Start: day(1, 9, 0), End: day(1, 13, 30)}, ErrWindowInvalid, []string{"pickup_window.end"}},
		{"before 08:00", nil, Window{Start: day(1, 7, 0), End: day(1, 9, 0)}, ErrWindowInvalid, []string{"pickup_window.start"}},
		{"after 18:00", nil, Window{Start: day(1, 17, 0), End: day(1, 19, 0)}, ErrWindowInvalid, []string{"pickup_window.start"}},
		{"missing", nil, Window{}, ErrWindowInvalid, []string{"pickup_window.start"}},
		{"last bookable", nil, Window{Start: day(7, 9, 0), End: day(7, 10, 0)}, nil, nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := applicant()
			if c.addr != nil {
				c.addr(&a)
			}
			_, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(100+i), a, c.window)
			if c.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("got %v, want %s", err, c.err.Code)
			}
			var fields []string
			for _, f := range apperr.From(err).Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, c.fields) {
				t.Fatalf("fields %v, want %v", fields, c.fields)
			}
		})
	}
	// A window beyond the courier's reach is booked two days before its day.
	list, _ := e.svc.OfCase(e.ctx, caseRef(100+len(cases)-1).ID)
	j, err := e.queue.Get(e.ctx, "logistics.create_pickup:"+list[0].ID)
	if err != nil || !j.RunAt.Equal(time.Date(2026, 3, 7, 0, 0, 0, 0, chinaTime)) {
		t.Fatalf("booking job due %v (%v)", j.RunAt, err)
	}
}

// A booking the courier refuses for good moves the shipment to exception
// and tells the applicant; the applicant can still cancel it.
func TestBookingRefused(t *testing.T) {
	e := newEnv(t)
	sh, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(8), applicant(), tomorrowMorning())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * 24 * time.Hour) // the runner was down: the window is past
	err = e.runJob(JobCreatePickup, sh.ID)
	if !errors.Is(err, courier.ErrInvalidRequest) {
		t.Fatalf("job: %v", err)
	}
	got := e.reload(sh.ID)
	if got.State != StateException || e.eventsOf(EventException, sh.ID) != 1 || !strings.Contains(got.Timeline[len(got.Timeline)-1].Context, "预约上门取件未成功") {
		t.Fatalf("refused booking: %+v", got)
	}
	if _, err := e.svc.Cancel(e.ctx, "u1", sh.ID); err != nil {
		t.Fatal(err)
	}
}

// The exception scenario: one shipment.exception, then delivered.
func TestExceptionThenDelivered(t *testing.T) {
	e := newEnv(t)
	sh := e.pickup(9)
	if _, err := e.fake.SetScenario(sh.WaybillNumber, fakecourier.ScenarioException); err != nil {
		t.Fatal(err)
	}
	for range 9 {
		e.advance(sh.WaybillNumber)
		e.settled()
	}
	got := e.reload(sh.ID)
	if got.State != StateDelivered || e.eventsOf(EventException, sh.ID) != 1 || e.eventsOf(EventDelivered, sh.ID) != 1 {
		t.Fatalf("state %s, exception events %d", got.State, e.eventsOf(EventException, sh.ID))
	}
}

type postageRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (p *postageRecorder) IssuePostage(_ context.Context, sh Shipment) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, sh.ID)
	return "350100260000000001", nil
}

// Completing a case with result: mail makes one result shipment per case,
// booked from the hall to the applicant; 到付 postage is a payment notice.
func TestResultShipmentIsIdempotentPerCase(t *testing.T) {
	e := newEnv(t)
	postage := &postageRecorder{}
	e.svc.postage = postage
	c := caseRef(10)
	c.PostagePaidBy = PaidByRecipient
	first, err := e.svc.CreateResultShipment(e.ctx, c, applicant())
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.CreateResultShipment(e.ctx, c, applicant())
	if err != nil || second.ID != first.ID || first.ID != "shp_result_"+c.ID || first.Direction != ToApplicant {
		t.Fatalf("second call: %+v %v", second, err)
	}
	for range 2 {
		if err := e.runJob(JobCreatePickup, first.ID); err != nil {
			t.Fatal(err)
		}
	}
	orders := e.fake.Orders()
	if len(orders) != 1 || orders[0].Sender.Mobile != hall.Phone || orders[0].Receiver.Address != "福建省福州市鼓楼区八一七北路68号" || orders[0].Cargo != "办理结果" {
		t.Fatalf("orders %+v", orders)
	}
	got := e.reload(first.ID)
	if got.WaybillNumber == "" || got.Postage.PaidBy != PaidByRecipient || got.Postage.PaymentCode == "" || len(postage.calls) != 1 {
		t.Fatalf("result shipment %+v, postage calls %v", got, postage.calls)
	}
	if list, _ := e.svc.OfCase(e.ctx, c.ID); len(list) != 1 {
		t.Fatalf("%d shipments of the case", len(list))
	}
	if n := e.eventsOf(EventCreated, first.ID); n != 1 {
		t.Fatalf("%d shipment.created events for one result shipment", n)
	}
	// Government-paid materials never issue a notice.
	e.pickup(11)
	if len(postage.calls) != 1 {
		t.Fatal("postage notice for a government-paid shipment")
	}
	// The result of a case that had a pickup can go back to where it came from.
	a, found, err := e.svc.PickupAddress(e.ctx, caseRef(11).ID)
	if err != nil || !found || a.Detail != applicant().Detail || a.Phone != applicant().Phone {
		t.Fatalf("pickup address %+v %v %v", a, found, err)
	}
}

// Twenty copies of the final push at once (and the poller at the same
// time): the shipment is delivered once and each event is appended once.
func TestConcurrentPushesAnnounceOnce(t *testing.T) {
	e := newEnv(t)
	if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultOff}); err != nil {
		t.Fatal(err)
	}
	sh := e.pickup(12)
	for range 7 {
		e.advance(sh.WaybillNumber)
	}
	pushes := e.fake.Pushes(sh.WaybillNumber)
	last := pushes[len(pushes)-1]
	form := url.Values{"param": {last.Param}, "sign": {last.Sign}}
	e.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	for i := range 21 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i == 20 {
				if _, err := e.svc.Poll(e.ctx, 10); err != nil {
					t.Error(err)
				}
				return
			}
			if _, err := e.svc.HandlePush(e.ctx, "ems", form); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	got := e.reload(sh.ID)
	if got.State != StateDelivered || len(courierEntries(got)) != 7 {
		t.Fatalf("state %s with %d entries", got.State, len(courierEntries(got)))
	}
	if e.eventsOf(EventPickedUp, sh.ID) != 1 || e.eventsOf(EventDelivered, sh.ID) != 1 {
		t.Fatalf("events: picked_up %d, delivered %d", e.eventsOf(EventPickedUp, sh.ID), e.eventsOf(EventDelivered, sh.ID))
	}
}

// Personal data is encrypted at rest and masked in every view.
func TestPersonalDataSealed(t *testing.T) {
	e := newEnv(t)
	sh := e.pickup(13)
	var raw bson.Raw
	if err := e.store.shipments.FindOne(e.ctx, bson.D{{Key: "_id", Value: sh.ID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	view, _ := json.Marshal(sh)
	for _, secret := range []string{"13800138000", "八一七北路68号", "张三"} {
		if strings.Contains(raw.String(), secret) || strings.Contains(string(view), secret) {
			t.Errorf("%q stored or shown in clear", secret)
		}
	}
	for _, hidden := range []string{sh.Salt, sh.CourierOrderID, "name_enc", "u1"} {
		if strings.Contains(string(view), hidden) {
			t.Errorf("view shows %q: %s", hidden, view)
		}
	}
	a, err := e.svc.open(sh.Sender)
	if err != nil || a.Phone != "13800138000" || a.Detail != "八一七北路68号" || a.DivisionCode != "350102" {
		t.Fatalf("opened sender %+v %v", a, err)
	}
}
