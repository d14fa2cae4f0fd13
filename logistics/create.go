package logistics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/platform/jobs"
)

// CaseRef is what logistics needs to know of a case; the caller reads it
// from the cases service (which also checked that the user owns the case).
type CaseRef struct {
	ID       string
	Number   string // the case number, once the province gave one
	UserID   string // the case's owner: the applicant
	ItemCode string
	ItemName string
	// PostagePaidBy comes from the item's guide: government (default) or
	// recipient (到付).
	PostagePaidBy PaidBy
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,64}$`)

// Pickup window rules (China time).
const (
	windowMinLead  = time.Hour          // book at least an hour ahead
	windowMaxAhead = 7 * 24 * time.Hour // and within the next 7 days
	windowMinLen   = time.Hour
	windowMaxLen   = 4 * time.Hour
	windowOpens    = 8  // couriers come from 08:00
	windowCloses   = 18 // until 18:00
)

// chinaTime is UTC+8 without tzdata: China has had no daylight saving since 1991.
var chinaTime = time.FixedZone("CST", 8*3600)

// Fields of the personal data Protector binds each ciphertext to.
const (
	fieldName   = "shipment.name"
	fieldPhone  = "shipment.phone"
	fieldDetail = "shipment.detail"
)

// CreatePickup books a courier to collect the case's materials at addr
// within window and bring them to the case's hall. It stores the shipment
// in state created (with shipment.created in its outbox) and queues the
// booking (JobCreatePickup); the waybill number appears once that job ran.
//
// A case has one pickup under way at a time: the shipment's id is the
// case's pickup number (shp_pickup_<case id>_<n>), so of concurrent
// requests (a double tap, retries under different keys) one insert wins
// and the others are refused with SHIPMENT_PICKUP_EXISTS naming the
// shipment. A new pickup can be booked once the last one was cancelled,
// ended, or could not be booked. Retries of one request are the HTTP
// idempotency mechanism's business, not this method's.
//
// Returns SHIPMENT_ADDRESS_INVALID (every bad field of the address and the
// window), SHIPMENT_WINDOW_INVALID, SHIPMENT_REQUEST_INVALID,
// SHIPMENT_NOT_FOUND (the case is not the user's),
// SHIPMENT_PICKUP_EXISTS or SHIPMENT_STATE_CONFLICT (the case's pickups
// kept changing under concurrent writers).
func (s *Service) CreatePickup(ctx context.Context, userID string, c CaseRef, addr Address, window Window) (Shipment, error) {
	var refs []apperr.FieldError
	if userID == "" || strings.Contains(userID, ":") {
		refs = append(refs, apperr.Field("user_id", "INVALID", "用户标识有误"))
	}
	if !refPattern.MatchString(c.ID) {
		refs = append(refs, apperr.Field("case_id", "INVALID", "办件编号有误"))
	}
	if len(refs) > 0 {
		return Shipment{}, ErrRequestInvalid.WithFields(refs...)
	}
	if c.UserID != userID {
		return Shipment{}, ErrNotFound.WithMessage("未找到该办件")
	}
	now := s.clock()
	addrErrs := prefixed("address.", addr.Validate())
	w, winErr := checkWindow(window, now)
	switch {
	case len(addrErrs) > 0 && winErr != nil:
		return Shipment{}, ErrAddressInvalid.WithFields(append(addrErrs, winErr.Fields...)...)
	case len(addrErrs) > 0:
		return Shipment{}, ErrAddressInvalid.WithFields(addrErrs...)
	case winErr != nil:
		return Shipment{}, winErr
	}
	addr = trimAddress(addr).Canonical()
	var hall *Address // looked up once, and not for a double tap
	for range maxWriteAttempts {
		list, err := s.store.ShipmentsOfCase(ctx, c.ID)
		if err != nil {
			return Shipment{}, err
		}
		pickups := 0
		for _, sh := range list {
			if sh.Direction != ToHall {
				continue
			}
			pickups++
			if sh.holdsPickup() {
				return Shipment{}, s.pickupExists(ctx, sh)
			}
		}
		if hall == nil {
			h, err := s.hallAddress(ctx, c.ID)
			if err != nil {
				return Shipment{}, err
			}
			hall = &h
		}
		now := s.clock()
		sh, err := s.newShipment(pickupShipmentID(c.ID, pickups+1), c, ToHall, addr, *hall, now)
		if err != nil {
			return Shipment{}, err
		}
		sh.PickupWindow = &w
		sh.created(now, fmt.Sprintf("已提交上门取件预约（%s），等待快递公司受理", windowLabel(w)))
		stored, inserted, err := s.store.InsertShipment(ctx, sh)
		if err != nil {
			return Shipment{}, err
		}
		if !inserted {
			if stored.holdsPickup() {
				return Shipment{}, s.pickupExists(ctx, stored)
			}
			continue // that number was taken and has ended since: count again
		}
		if err := s.enqueueBooking(ctx, stored); err != nil {
			return Shipment{}, err
		}
		return *stored, nil
	}
	return Shipment{}, ErrStateConflict
}

// pickupExists refuses a second pickup of a case. A first request that
// died between storing its shipment and queueing the booking left one not
// queued: queueing it here (keyed by the shipment, so at most once) makes
// the pickup happen all the same.
func (s *Service) pickupExists(ctx context.Context, sh *Shipment) error {
	if err := s.enqueueBooking(ctx, sh); err != nil {
		return err
	}
	return ErrPickupExists.WithDetail("shipment_id", sh.ID)
}

// pickupShipmentID is the id of a case's n-th pickup of materials.
func pickupShipmentID(caseID string, n int) string {
	return "shp_pickup_" + caseID + "_" + strconv.Itoa(n)
}

// CreateResultShipment sends the case's result from its hall to the
// applicant at receiver. It is idempotent per case (the id is
// shp_result_<case id>, and the insert decides): a second call returns the
// first shipment, and shipment.created is in the log once. The booking
// runs as JobCreatePickup, like a pickup.
//
// Returns SHIPMENT_ADDRESS_INVALID, SHIPMENT_REQUEST_INVALID or the
// hall lookup's error.
func (s *Service) CreateResultShipment(ctx context.Context, c CaseRef, receiver Address) (Shipment, error) {
	if !refPattern.MatchString(c.ID) || c.UserID == "" {
		return Shipment{}, ErrRequestInvalid.WithFields(apperr.Field("case_id", "INVALID", "办件编号有误"))
	}
	id := resultShipmentID(c.ID)
	if sh, err := s.store.Shipment(ctx, id); err == nil {
		return *sh, s.enqueueBooking(ctx, sh)
	} else if !errors.Is(err, ErrNotFound) {
		return Shipment{}, err
	}
	if errs := prefixed("address.", receiver.Validate()); len(errs) > 0 {
		return Shipment{}, ErrAddressInvalid.WithFields(errs...)
	}
	hall, err := s.hallAddress(ctx, c.ID)
	if err != nil {
		return Shipment{}, err
	}
	now := s.clock()
	sh, err := s.newShipment(id, c, ToApplicant, hall, trimAddress(receiver).Canonical(), now)
	if err != nil {
		return Shipment{}, err
	}
	sh.created(now, "办理结果待寄出，等待快递公司受理")
	stored, _, err := s.store.InsertShipment(ctx, sh)
	if err != nil {
		return Shipment{}, err
	}
	return *stored, s.enqueueBooking(ctx, stored)
}

// resultShipmentID is the one result shipment a case can have.
func resultShipmentID(caseID string) string { return "shp_result_" + caseID }

// newShipment builds a shipment in state created with sealed addresses.
func (s *Service) newShipment(id string, c CaseRef, dir Direction, from, to Address, now time.Time) (*Shipment, error) {
	sender, err := s.seal(from)
	if err != nil {
		return nil, err
	}
	receiver, err := s.seal(to)
	if err != nil {
		return nil, err
	}
	paidBy := c.PostagePaidBy
	if paidBy != PaidByRecipient {
		paidBy = PaidByGovernment
	}
	return &Shipment{
		ID: id, CaseID: c.ID, CaseNumber: c.Number, UserID: c.UserID, ItemCode: c.ItemCode, ItemName: c.ItemName,
		Direction: dir, Sender: sender, Receiver: receiver, State: StateCreated, Timeline: []TrackEvent{},
		Postage: Postage{PaidBy: paidBy}, Salt: randomHex(16), Version: 1, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// created records the shipment's first timeline entry and announces it
// (shipment.created, stored with the new document).
func (sh *Shipment) created(now time.Time, text string) {
	entry := sh.note(now, StateCreated, text)
	sh.Emit(changeEvent(EventCreated, sh, Transition{To: StateCreated, Event: entry}, now))
}

// hallAddress asks for the case's hall and puts it in canonical form.
func (s *Service) hallAddress(ctx context.Context, caseID string) (Address, error) {
	if s.hall == nil {
		return Address{}, apperr.Internal.WithCause(errors.New("logistics: no HallAddress dependency"))
	}
	a, err := s.hall(ctx, caseID)
	if err != nil {
		return Address{}, err
	}
	return trimAddress(a).Canonical(), nil
}

// enqueueBooking queues the booking of a shipment not booked yet. The job
// is keyed by the shipment id, so calling this again is harmless. A pickup
// window further ahead than the courier books (today to the day after
// tomorrow) waits until it is in reach.
func (s *Service) enqueueBooking(ctx context.Context, sh *Shipment) error {
	if sh.CourierOrderID != "" || sh.State != StateCreated {
		return nil
	}
	var runAt time.Time
	if w := sh.PickupWindow; w != nil {
		y, m, d := w.Start.In(chinaTime).Date()
		runAt = time.Date(y, m, d-2, 0, 0, 0, 0, chinaTime)
		if runAt.Before(s.now()) {
			runAt = time.Time{}
		}
	}
	_, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{
		Type: JobCreatePickup, Key: sh.ID, Payload: shipmentJob{ShipmentID: sh.ID}, RunAt: runAt, MaxAttempts: 20,
	})
	if err != nil {
		return fmt.Errorf("logistics: queue booking of %s: %w", sh.ID, err)
	}
	return nil
}

// shipmentJob is the payload of JobCreatePickup.
type shipmentJob struct {
	ShipmentID string `bson:"shipment_id"`
}

// checkWindow applies the pickup window rules; the window comes back in
// UTC, to the minute (couriers book HH:mm).
func checkWindow(w Window, now time.Time) (Window, *apperr.Error) {
	bad := func(field, msg string) (Window, *apperr.Error) {
		return Window{}, ErrWindowInvalid.WithMessage(msg).WithFields(apperr.Field("pickup_window."+field, "INVALID_WINDOW", msg))
	}
	if w.Start.IsZero() || w.End.IsZero() {
		return bad("start", "请选择预约取件时间段")
	}
	start, end := w.Start.Truncate(time.Minute).UTC(), w.End.Truncate(time.Minute).UTC()
	cs, ce := start.In(chinaTime), end.In(chinaTime)
	opens := time.Date(cs.Year(), cs.Month(), cs.Day(), windowOpens, 0, 0, 0, chinaTime)
	closes := time.Date(cs.Year(), cs.Month(), cs.Day(), windowCloses, 0, 0, 0, chinaTime)
	switch {
	case start.Before(now.Add(windowMinLead)):
		return bad("start", "预约取件时间须至少提前1小时")
	case start.After(now.Add(windowMaxAhead)):
		return bad("start", "只能预约7天内的上门取件")
	case end.Sub(start) < windowMinLen || end.Sub(start) > windowMaxLen:
		return bad("end", "预约取件时间段应为1至4小时")
	case cs.Before(opens) || ce.After(closes):
		return bad("start", "上门取件时间为每天08:00至18:00")
	}
	return Window{Start: start, End: end}, nil
}

// windowLabel is a window as people read it: 03月03日 09:00-11:00.
func windowLabel(w Window) string {
	return w.Start.In(chinaTime).Format("01月02日 15:04") + "-" + w.End.In(chinaTime).Format("15:04")
}

// seal encrypts an address's personal parts and keeps a masked copy.
func (s *Service) seal(a Address) (SealedAddress, error) {
	var sa SealedAddress
	var err error
	if sa.NameEnc, err = s.pii.EncryptField(fieldName, a.Name); err != nil {
		return SealedAddress{}, err
	}
	if sa.PhoneEnc, err = s.pii.EncryptField(fieldPhone, a.Phone); err != nil {
		return SealedAddress{}, err
	}
	if sa.DetailEnc, err = s.pii.EncryptField(fieldDetail, a.Detail); err != nil {
		return SealedAddress{}, err
	}
	sa.Masked = a.Masked()
	return sa, nil
}

// open decrypts a sealed address (for the courier, never for a response).
func (s *Service) open(sa SealedAddress) (Address, error) {
	a := sa.Masked
	var err error
	if a.Name, err = s.pii.DecryptField(fieldName, sa.NameEnc); err != nil {
		return Address{}, err
	}
	if a.Phone, err = s.pii.DecryptField(fieldPhone, sa.PhoneEnc); err != nil {
		return Address{}, err
	}
	if a.Detail, err = s.pii.DecryptField(fieldDetail, sa.DetailEnc); err != nil {
		return Address{}, err
	}
	return a, nil
}

// trimAddress drops surrounding spaces, which people type and couriers print.
func trimAddress(a Address) Address {
	for _, p := range []*string{&a.Name, &a.Phone, &a.Province, &a.City, &a.District, &a.Detail, &a.PostalCode, &a.DivisionCode} {
		*p = strings.TrimSpace(*p)
	}
	return a
}

// prefixed names fields inside a request object ("address.phone").
func prefixed(prefix string, errs []apperr.FieldError) []apperr.FieldError {
	for i := range errs {
		errs[i].Field = prefix + errs[i].Field
	}
	return errs
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
