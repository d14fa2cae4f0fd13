package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/notify"
)

// runKill kills zwfw with SIGKILL twice: once while the province holds
// submissions it booked but has not answered yet (the lost-answer case an
// in-process sandbox hides), once in the middle of a burst of state
// changes (province decisions, bookings), when some are written with their
// events and not relayed yet.
func runKill(ctx context.Context, d *deployment, short bool) []*scenario {
	a := newScenario("1a kill -9: province booked, answer unrecorded", d, short)
	t0 := time.Now()
	subs, err := killLostAnswer(ctx, a)
	a.took = time.Since(t0)
	if err != nil {
		a.err = err
		return []*scenario{a}
	}
	b := newScenario("1b kill -9: state written, outbox not relayed", d, short)
	t0 = time.Now()
	if err := killBeforeRelay(ctx, b, subs); err != nil {
		b.err = err
	}
	b.took = time.Since(t0)
	return []*scenario{a, b}
}

// submission is a case of a person's, submitted to the province.
type submission struct {
	p      *person
	caseID string
}

// killLostAnswer: the province books each submission at once and holds its
// answer a minute; zwfw is killed while it waits. After the restart zwfw
// submits again under the same Idempotency-Key (the case id), the province
// answers with the case it already has: one province case per zwfw case.
func killLostAnswer(ctx context.Context, s *scenario) ([]submission, error) {
	d := s.d
	n := 4 // ZWFW_JOB_CONCURRENCY: every submission in flight at the kill
	subs, g, err := drafts(ctx, s, n, "lost")
	if err != nil {
		return nil, err
	}
	d.progress("%d drafts ready", n)
	if err := d.provinceFault(ctx, "cases", "late", map[string]any{"delay_ms": 60000, "count": n}); err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if _, err := sub.p.want(ctx, 202, "POST", "/cases/"+sub.caseID+"/submit", nil, "submit-"+sub.caseID); err != nil {
			return nil, err
		}
	}
	if err := waitUntil(ctx, 60*time.Second, "the province to book every submission", func() (bool, error) {
		pcs, err := d.provinceCases(ctx)
		return len(pcs) >= n, err
	}); err != nil {
		return nil, err
	}
	unanswered := 0
	for _, sub := range subs {
		c, err := sub.p.getCase(ctx, sub.caseID)
		if err != nil {
			return nil, err
		}
		if c.CaseNumber == "" {
			unanswered++
		}
	}
	d.progress("the province booked %d submissions of %s; zwfw holds the answer of none of %d: kill -9", n, g.Code, unanswered)
	d.crash()
	if err := d.provinceFault(ctx, "cases", "off", nil); err != nil {
		return nil, err
	}
	restart := time.Now()
	if err := d.start(ctx); err != nil {
		return nil, err
	}
	waitErr := waitUntil(ctx, 90*time.Second, "every case's number after the restart", func() (bool, error) {
		for _, sub := range subs {
			c, err := sub.p.getCase(ctx, sub.caseID)
			if err != nil || c.CaseNumber == "" {
				return false, err
			}
		}
		return true, nil
	})
	if waitErr == nil {
		s.recovered = time.Since(restart)
	}
	// The relay's sweep at start, not the consumers (they wait out the dead
	// process's lease; the next part counts their work).
	if err := d.settle(ctx, 60*time.Second, false); err != nil {
		s.note("%v", err)
	}
	s.note("%d submissions booked by the province while zwfw waited for the answers, %d unanswered at the kill", n, unanswered)
	var stats struct {
		Endpoints map[string]struct {
			Calls int `json:"calls"`
		} `json:"endpoints"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/province/stats", nil, &stats); err == nil {
		s.note("the province was asked to create a case %d times for %d drafts", stats.Endpoints["POST /api/cases"].Calls, n)
	}
	log := auditLog(ctx, s)
	countSubmissions(ctx, s, subs, log)
	return subs, nil
}

// drafts makes n people with one complete application each.
func drafts(ctx context.Context, s *scenario, n int, tag string) ([]submission, guide, error) {
	var subs []submission
	var g guide
	for i := 0; i < n; i++ {
		p, err := s.d.citizen(ctx, s.t, tag)
		if err != nil {
			return nil, g, err
		}
		if i == 0 {
			if g, err = s.d.findItem(ctx, p, mailItem); err != nil {
				return nil, g, err
			}
		}
		id, err := p.draft(ctx, g)
		if err != nil {
			return nil, g, err
		}
		subs = append(subs, submission{p, id})
	}
	return subs, g, nil
}

// countSubmissions counts, per zwfw case, the province's cases of its
// applicant (each person applies once), whether zwfw recorded the
// province's number, and the submitted_to_province events.
func countSubmissions(ctx context.Context, s *scenario, subs []submission, log []eventRow) {
	pcs, err := s.d.provinceCases(ctx)
	if err != nil {
		s.err = err
		return
	}
	rows, err := caseRows(ctx, s.d.store)
	if err != nil {
		s.err = err
		return
	}
	stored := map[string]caseRow{}
	for _, r := range rows {
		stored[r.ID] = r
	}
	perCase := map[string]int{}
	numbers := map[string]int{}
	for _, sub := range subs {
		var mine []provinceCase
		for _, pc := range pcs {
			if pc.idNumber() == sub.p.idNumber {
				mine = append(mine, pc)
			}
		}
		perCase[sub.caseID] = len(mine)
		numbers[sub.caseID] = 0
		if c := stored[sub.caseID]; c.CaseNumber != "" && len(mine) > 0 && mine[0].CaseNumber == c.CaseNumber {
			numbers[sub.caseID] = 1
		}
	}
	exactlyOnce(s, "province cases per zwfw case", perCase)
	exactlyOnce(s, "province's case number recorded by zwfw", numbers)
	per := eventCount(log)
	submitted := map[string]int{}
	for _, sub := range subs {
		submitted[sub.caseID] = per[caseSubject(sub.caseID)][cases.EventSubmittedToProvince]
	}
	exactlyOnce(s, "case.submitted_to_province events per case", submitted)
}

// killBeforeRelay: the province accepts every submitted case, then the
// clerks complete them with the result by mail while people book and
// cancel hall appointments; zwfw is killed when half the completions have
// been delivered. The dead store shows what the crash left between the
// state writes and the relay. The full run kills it once more right after
// the restart, while the consumers make the result shipments and the
// courier bookings. In the end every decision has its event, reminder and
// result shipment once, the courier one pickup per shipment, and every
// acknowledged booking and cancellation is stored with its events once.
func killBeforeRelay(ctx context.Context, s *scenario, subs []submission) error {
	d := s.d
	admin, err := d.admin(ctx, s.t)
	if err != nil {
		return err
	}
	bookers, more := 6, 6
	if s.short {
		bookers, more = 3, 2
	}
	extra, _, err := drafts(ctx, s, more, "decided")
	if err != nil {
		return err
	}
	for _, sub := range extra {
		if _, err := sub.p.want(ctx, 202, "POST", "/cases/"+sub.caseID+"/submit", nil, "submit-"+sub.caseID); err != nil {
			return err
		}
	}
	subs = append(subs, extra...)
	numbers, err := d.waitStatus(ctx, subs, "", 60*time.Second)
	if err != nil {
		return err
	}
	for _, n := range numbers {
		if err := d.advance(ctx, n, "accepted", ""); err != nil {
			return err
		}
	}
	if _, err := d.waitStatus(ctx, subs, "accepted", 60*time.Second); err != nil {
		return err
	}
	hall, err := d.setupHall(ctx, admin, 50)
	if err != nil {
		return err
	}
	var people []*person
	for i := 0; i < bookers; i++ {
		p, err := d.citizen(ctx, s.t, "booker")
		if err != nil {
			return err
		}
		people = append(people, p)
	}
	deliveredBefore, err := d.callbacksDelivered(ctx)
	if err != nil {
		return err
	}
	d.progress("%d cases accepted, %d people about to book: the burst", len(subs), bookers)

	// The burst: completions at the province, bookings at zwfw.
	var wg sync.WaitGroup
	books := newBookLedger()
	crashed := make(chan struct{})
	for _, p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			books.bookAndCancel(ctx, p, hall, crashed)
		}()
	}
	decided := make(chan error, len(numbers))
	for _, n := range numbers {
		go func() { decided <- d.advance(ctx, n, "completed_approved", "mail") }()
	}
	_ = waitUntil(ctx, 30*time.Second, "half the completions delivered and bookings made", func() (bool, error) {
		n, err := d.callbacksDelivered(ctx)
		return n-deliveredBefore >= len(numbers)/2 && books.acknowledged() >= bookers, err
	})
	d.crash()
	close(crashed)
	wg.Wait()
	for range numbers {
		if err := <-decided; err != nil {
			return err
		}
	}
	if err := s.inspectCrash(ctx, "mid-burst"); err != nil {
		return err
	}
	restart := time.Now()
	if err := d.start(ctx); err != nil {
		return err
	}
	if !s.short {
		// Again, while the restarted process relays what the first left and
		// its consumers and jobs make the result shipments.
		_ = waitUntil(ctx, 60*time.Second, "the first result shipment", func() (bool, error) {
			ships, err := shipmentRows(ctx, d.store)
			return len(ships) > 0, err
		})
		d.crash()
		if err := s.inspectCrash(ctx, "while shipping the results"); err != nil {
			return err
		}
		restart = time.Now()
		if err := d.start(ctx); err != nil {
			return err
		}
	}
	waitErr := waitUntil(ctx, 120*time.Second, "every case completed with its result shipment booked", func() (bool, error) {
		return d.resultsShipped(ctx, subs)
	})
	if waitErr == nil {
		s.recovered = time.Since(restart)
	} else {
		s.note("%v", waitErr)
	}
	if err := d.settle(ctx, 90*time.Second, true); err != nil {
		s.note("%v", err)
	}

	log := auditLog(ctx, s)
	per := eventCount(log)
	accepted, completed, shipped := map[string]int{}, map[string]int{}, map[string]int{}
	var want []reminderKey
	for _, sub := range subs {
		subject := caseSubject(sub.caseID)
		accepted[sub.caseID] = per[subject][cases.EventStatusChanged+"/accepted"]
		completed[sub.caseID] = per[subject][cases.EventStatusChanged+"/completed_approved"]
		want = append(want, reminderKey{sub.p.userID, notify.RuleCaseAccepted, subject},
			reminderKey{sub.p.userID, notify.RuleCaseCompleted, subject})
		shipped[sub.caseID] = 0
	}
	exactlyOnce(s, "status events per decision (accepted)", accepted)
	exactlyOnce(s, "status events per decision (completed)", completed)
	ships, err := shipmentRows(ctx, d.store)
	if err != nil {
		return err
	}
	var resultShipments []shipmentRow
	for _, sh := range ships {
		if _, ok := shipped[sh.CaseID]; ok && sh.Direction == string(logistics.ToApplicant) {
			shipped[sh.CaseID]++
			resultShipments = append(resultShipments, sh)
		}
	}
	exactlyOnce(s, "result shipments per completed case", shipped)
	if err := countCourierOrders(ctx, s, resultShipments); err != nil {
		return err
	}
	books.count(ctx, s, per, people)
	auditReminders(ctx, s, append(want, books.reminders()...))
	return nil
}

// inspectCrash opens the killed zwfw's store and notes what the crash left
// between state writes and the relay.
func (s *scenario) inspectCrash(ctx context.Context, when string) error {
	var pending, logged int
	kinds := map[string]int{}
	if err := s.d.openDeadStore(ctx, func(db *mongo.Database) error {
		p, err := pendingEvents(ctx, db)
		if err != nil {
			return err
		}
		pending = len(p)
		for _, e := range p {
			kinds[e.Type]++
		}
		l, err := eventLog(ctx, db)
		logged = len(l)
		return err
	}); err != nil {
		return fmt.Errorf("open the dead zwfw's store: %w", err)
	}
	s.d.progress("kill -9 %s: %d events written with their state and not relayed %v, %d in the log", when, pending, kinds, logged)
	s.note("killed %s: the store held %d events written with their state, not yet relayed %v (%d in the log)", when, pending, kinds, logged)
	return nil
}

// waitStatus waits until each case has its province number and, when
// status is set, that status in zwfw; it returns the numbers.
func (d *deployment) waitStatus(ctx context.Context, subs []submission, status string, limit time.Duration) ([]string, error) {
	numbers := make([]string, len(subs))
	err := waitUntil(ctx, limit, "cases "+status, func() (bool, error) {
		for i, sub := range subs {
			c, err := sub.p.getCase(ctx, sub.caseID)
			if err != nil || c.CaseNumber == "" || status != "" && c.Status != status {
				return false, err
			}
			numbers[i] = c.CaseNumber
		}
		return true, nil
	})
	return numbers, err
}

// callbacksDelivered is how many of the province's callbacks zwfw took.
func (d *deployment) callbacksDelivered(ctx context.Context) (int, error) {
	var v struct {
		Deliveries []struct {
			Delivered bool `json:"delivered"`
		} `json:"deliveries"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/province/callback", nil, &v); err != nil {
		return 0, err
	}
	n := 0
	for _, x := range v.Deliveries {
		if x.Delivered {
			n++
		}
	}
	return n, nil
}

// resultsShipped: every case is completed in zwfw and its result shipment
// has a waybill from the courier.
func (d *deployment) resultsShipped(ctx context.Context, subs []submission) (bool, error) {
	rows, err := caseRows(ctx, d.store)
	if err != nil {
		return false, err
	}
	done := map[string]bool{}
	for _, r := range rows {
		done[r.ID] = r.Status == string(cases.StatusCompletedApproved)
	}
	ships, err := shipmentRows(ctx, d.store)
	if err != nil {
		return false, err
	}
	waybill := map[string]bool{}
	for _, sh := range ships {
		if sh.Direction == string(logistics.ToApplicant) && sh.Waybill != "" {
			waybill[sh.CaseID] = true
		}
	}
	for _, sub := range subs {
		if !done[sub.caseID] || !waybill[sub.caseID] {
			return false, nil
		}
	}
	return true, nil
}

// countCourierOrders counts the courier's pickup orders per shipment (by
// waybill): the courier must have booked each exactly once.
func countCourierOrders(ctx context.Context, s *scenario, ships []shipmentRow) error {
	var orders []struct {
		Kuaidinum string `json:"kuaidinum"`
		Status    string `json:"status"`
	}
	if err := s.d.sb(ctx, "GET", "/sandbox/courier/orders", nil, &orders); err != nil {
		return err
	}
	per := map[string]int{}
	for _, o := range orders {
		per[o.Kuaidinum]++
	}
	counts := map[string]int{}
	for _, sh := range ships {
		counts[sh.ID] = per[sh.Waybill]
		if sh.Waybill == "" {
			counts[sh.ID] = 0
		}
	}
	exactlyOnce(s, "courier pickup orders per shipment", counts)
	s.note("the courier holds %d pickup orders in all", len(orders))
	return nil
}

// bookLedger is what zwfw acknowledged to the people booking during a
// fault: each booking it confirmed and each it said it cancelled.
type bookLedger struct {
	mu        sync.Mutex
	booked    map[string]*person // booking id -> owner
	cancelled map[string]bool
	attempts  int
}

func newBookLedger() *bookLedger {
	return &bookLedger{booked: map[string]*person{}, cancelled: map[string]bool{}}
}

// bookAndCancel books the hall's slots one after another and cancels each
// booking, until stop is closed. What zwfw acknowledged is recorded; a
// request cut off by the crash is left to the store to tell.
func (l *bookLedger) bookAndCancel(ctx context.Context, p *person, h hallSetup, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		r := p.api(ctx, "POST", "/bookings", map[string]string{"hall_id": h.hall, "item_code": h.item, "slot_start": h.slots[i%len(h.slots)]},
			fmt.Sprintf("book-%s-%d", p.name, i))
		if r.status != 201 {
			return
		}
		id, _ := r.m()["id"].(string)
		l.mu.Lock()
		l.booked[id] = p
		l.mu.Unlock()
		if r = p.api(ctx, "POST", "/bookings/"+id+"/cancel", nil, "cancel-"+id); r.status != 200 {
			return
		}
		l.mu.Lock()
		l.cancelled[id] = true
		l.mu.Unlock()
	}
}

func (l *bookLedger) acknowledged() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.booked)
}

// count checks every acknowledged booking and cancellation in the store,
// and, for every booking stored (acknowledged or not: an answer lost in
// the crash), its events once each.
func (l *bookLedger) count(ctx context.Context, s *scenario, per map[string]map[string]int, people []*person) {
	rows, err := bookingRows(ctx, s.d.store)
	if err != nil {
		s.err = err
		return
	}
	mine := map[string]bool{}
	for _, p := range people {
		mine[p.userID] = true
	}
	status := map[string]string{}
	confirmed, cancelled := map[string]int{}, map[string]int{}
	for _, r := range rows {
		if !mine[r.UserID] {
			continue
		}
		status[r.ID] = r.Status
		confirmed[r.ID] = per[bookingSubject(r.ID)][booking.EventConfirmed]
		if r.Status == "cancelled" {
			cancelled[r.ID] = per[bookingSubject(r.ID)][booking.EventCancelled]
		}
	}
	present := map[string]int{}
	for id := range l.booked {
		present[id] = 0
		if st, ok := status[id]; ok && (!l.cancelled[id] || st == "cancelled") {
			present[id] = 1
		}
	}
	exactlyOnce(s, "acknowledged bookings and cancellations stored", present)
	exactlyOnce(s, "booking.confirmed events per stored booking", confirmed)
	exactlyOnce(s, "booking.cancelled events per cancelled booking", cancelled)
	s.note("%d bookings and %d cancellations acknowledged; %d bookings stored", len(l.booked), len(l.cancelled), len(status))
}

// reminders are the booking confirmations zwfw must have sent.
func (l *bookLedger) reminders() []reminderKey {
	var out []reminderKey
	for id, p := range l.booked {
		out = append(out, reminderKey{p.userID, notify.RuleBookingConfirmed, bookingSubject(id)})
	}
	return out
}
