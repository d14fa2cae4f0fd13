package bff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/logistics/courier"
	"zwfw/platform/events"
)

// pathCourierPush is the courier's push route; the carrier code follows.
const pathCourierPush = "/api/v1/callbacks/courier/"

// consumerResultShipments follows completed cases to mail their results.
const consumerResultShipments = "logistics.result_shipments"

// buildLogistics wires shipments: the courier client and the service.
func (a *App) buildLogistics(ctx context.Context) error {
	store := logistics.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	cc := courier.New(courier.Config{BaseURL: a.cfg.CourierBaseURL, Customer: a.cfg.CourierCustomer, Key: a.cfg.CourierKey,
		Secret: a.cfg.CourierSecret, Timeout: 10 * time.Second}, &http.Client{Timeout: 15 * time.Second})
	a.logistics = logistics.NewService(logistics.Deps{
		Store: store, Courier: cc, Queue: a.queue, Events: a.events, PII: a.pii,
		HallAddress: a.hallAddress,
		CallbackURL: func(carrier string) string { return a.callbackURL(pathCourierPush + carrier) },
		Settings: logistics.Settings{Carrier: a.cfg.CourierCarrier, PollEvery: a.cfg.ShipmentPollEvery,
			PollStaleAfter: a.cfg.ShipmentPollStaleAfter},
		Logger: a.log.With("component", "logistics"),
	})
	return nil
}

// Logistics is the shipments service (tests drive its poller directly).
func (a *App) Logistics() *logistics.Service { return a.logistics }

func (a *App) registerLogisticsJobs() {
	for typ, h := range a.logistics.Jobs() {
		a.jobs.Register(typ, h)
	}
}

// hallAddress is where a case's materials go and its result comes from: the
// first hall that handles the item, at its mail desk.
func (a *App) hallAddress(ctx context.Context, caseID string) (logistics.Address, error) {
	c, err := a.cases.ByID(ctx, caseID)
	if err != nil {
		return logistics.Address{}, err
	}
	halls, err := a.catalog.Halls(ctx, c.ItemCode, "")
	if err != nil {
		return logistics.Address{}, err
	}
	if len(halls) == 0 {
		return logistics.Address{}, fmt.Errorf("no hall handles item %s", c.ItemCode)
	}
	h := halls[0]
	city, district, detail := splitHallAddress(h.Address)
	return logistics.Address{Name: h.Name + "收件窗口", Phone: a.cfg.HallMailPhone, Province: a.cfg.HallProvince,
		City: city, District: district, Detail: detail}, nil
}

// splitHallAddress cuts "福州市鼓楼区杨桥中路219号" into city, district and
// street (the halls' addresses are written city first, as on their signs).
func splitHallAddress(addr string) (city, district, detail string) {
	rest := addr
	if i := strings.Index(rest, "市"); i > 0 {
		city, rest = rest[:i+len("市")], rest[i+len("市"):]
	}
	for _, suffix := range []string{"区", "县", "市"} {
		if i := strings.Index(rest, suffix); i > 0 {
			district, rest = rest[:i+len(suffix)], rest[i+len(suffix):]
			break
		}
	}
	return city, district, rest
}

// caseRef is what logistics needs of a case.
func caseRef(c *cases.Case) logistics.CaseRef {
	return logistics.CaseRef{ID: c.ID, Number: c.CaseNumber, UserID: c.OwnerID, ItemCode: c.ItemCode, ItemName: c.ItemName,
		PostagePaidBy: logistics.PaidByGovernment}
}

// mailResults mails the result of a case the province completed with
// result "mail" to the address the applicant gave for it. It is idempotent per case (the result shipment's id is the case's).
func (a *App) mailResults(ctx context.Context, e events.Event) error {
	var d cases.StatusChanged
	if e.Type != cases.EventStatusChanged || e.Decode(&d) != nil || d.Status != string(cases.StatusCompletedApproved) || d.Result != "mail" {
		return nil
	}
	caseID := strings.TrimPrefix(e.Subject, "case:")
	c, err := a.cases.ByID(ctx, caseID)
	if errors.Is(err, cases.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	addr, found, err := a.cases.ResultAddress(ctx, caseID)
	if err != nil {
		return err
	}
	to := logistics.Address{Name: addr.Name, Phone: addr.Phone, Province: addr.Province, City: addr.City,
		District: addr.District, Detail: addr.Detail}
	if !found {
		// Cases filed before mailing addresses were asked for: where the materials came from.
		if to, found, err = a.logistics.PickupAddress(ctx, caseID); err != nil {
			return err
		}
	}
	if !found {
		a.log.Warn("result to be mailed but the case has no address on file; the hall contacts the applicant", "case_id", caseID)
		return nil
	}
	_, err = a.logistics.CreateResultShipment(ctx, caseRef(c), to)
	return err
}

// runResultShipments consumes case events until ctx ends.
func (a *App) runResultShipments(ctx context.Context) {
	c := events.NewConsumer(a.db, consumerResultShipments, a.mailResults, events.ConsumerOptions{
		Types: []string{cases.EventStatusChanged}, Logger: a.log.With("component", "logistics-consumer"),
		LeaseDuration: a.cfg.JobLease,
	})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("result shipment consumer stopped", "err", err)
	}
}
