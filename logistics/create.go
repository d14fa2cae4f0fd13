package logistics

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
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

var (
	refPattern     = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,64}$`)
	idemKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,128}$`)
)

// Pickup window rules (China time).
const (
	windowMinLead  = time.Hour          // book at least an hour ahead
	windowMaxAhead = 7 * 24 * time.Hour // and within the next 7 days
	windowMinLen   = time.Hour
	windowMaxLen   = 4 * time.Hour
	windowOpens    = 8  // couriers come from 08:00
	windowCloses   = 18 // until 18:00
)

// Idempotent retries wait this long (polling) for a concurrent first attempt.
const (
	replayPoll     = 20 * time.Millisecond
	replayAttempts = 250
	staleKeyAge    = time.Minute
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
// in state created and queues the booking (JobCreatePickup); the waybill
// number appears once that job ran. The same idemKey (the Idempotency-Key
// header) with the same request returns the same shipment, also when
// retries run concurrently.
//
// Returns SHIPMENT_ADDRESS_INVALID (every bad field of the address and the
// window), SHIPMENT_WINDOW_INVALID, SHIPMENT_REQUEST_INVALID,
// SHIPMENT_NOT_FOUND (the case is not the user's),
// SHIPMENT_IDEMPOTENCY_KEY_REUSED or SHIPMENT_IN_PROGRESS.
func (s *Service) CreatePickup(ctx context.Context, userID, idemKey string, c CaseRef, addr Address, window Window) (Shipment, error) {
	var refs []apperr.FieldError
	if userID == "" || strings.Contains(userID, ":") {
		refs = append(refs, apperr.Field("user_id", "INVALID", "用户标识有误"))
	}
	if !idemKeyPattern.MatchString(idemKey) {
		refs = append(refs, apperr.Field("idempotency_key", "INVALID", "请求编号有误"))
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
	fp := fingerprint(c.ID, addr, w)
	for range replayAttempts {
		now := s.clock()
		id := newShipmentID()
		rec, claimed, err := s.store.ClaimIdem(ctx, userID, idemKey, IdemRecord{ShipmentID: id, Fingerprint: fp, CreatedAt: now})
		if err != nil {
			return Shipment{}, err
		}
		if claimed {
			sh, err := s.createPickup(ctx, id, idemKey, c, addr, w, now)
			if err != nil {
				// Nothing was stored: free the key so a retry may try again.
				if rerr := s.store.ReleaseIdem(context.WithoutCancel(ctx), userID, idemKey, id); rerr != nil {
					s.log.Error("logistics: idempotency key not released", "user_id", userID, "err", rerr)
				}
				return Shipment{}, err
			}
			return *sh, nil
		}
		if rec.Fingerprint != fp {
			return Shipment{}, ErrIdempotencyReused
		}
		sh, err := s.store.Shipment(ctx, rec.ShipmentID)
		if err == nil {
			// The first attempt may have died before queueing the booking.
			if err := s.enqueueBooking(ctx, sh); err != nil {
				return Shipment{}, err
			}
			return *sh, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Shipment{}, err
		}
		if now.Sub(rec.CreatedAt) > staleKeyAge {
			// The first attempt died between claiming the key and storing
			// the shipment: take the key over.
			if err := s.store.ReleaseIdem(ctx, userID, idemKey, rec.ShipmentID); err != nil {
				return Shipment{}, err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return Shipment{}, ctx.Err()
		case <-time.After(replayPoll):
		}
	}
	return Shipment{}, ErrInProgress
}

// createPickup stores a new to_hall shipment and queues its booking.
func (s *Service) createPickup(ctx context.Context, id, idemKey string, c CaseRef, addr Address, w Window, now time.Time) (*Shipment, error) {
	hall, err := s.hallAddress(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	sh, err := s.newShipment(id, c, ToHall, addr, hall, now)
	if err != nil {
		return nil, err
	}
	sh.PickupWindow, sh.IdemKey = &w, idemKey
	sh.note(now, StateCreated, fmt.Sprintf("已提交上门取件预约（%s），等待快递公司受理", windowLabel(w)))
	stored, _, err := s.store.InsertShipment(ctx, sh)
	if err != nil {
		return nil, err
	}
	if err := s.enqueueBooking(ctx, stored); err != nil {
		return nil, err
	}
	return stored, nil
}

// CreateResultShipment sends the case's result from its hall to the
// applicant at receiver. It is idempotent per case (the id is
// shp_result_<case id>): a second call returns the first shipment. The
// booking runs as JobCreatePickup, like a pickup.
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
	sh.note(now, StateCreated, "办理结果待寄出，等待快递公司受理")
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

// fingerprint identifies a request for its idempotency key without
// storing the address itself.
func fingerprint(caseID string, a Address, w Window) string {
	h := sha256.New()
	for _, part := range []string{caseID, a.Name, a.Phone, a.Province, a.City, a.District, a.Detail, a.PostalCode,
		w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
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

// newShipmentID is shp_ + 24 random hex characters.
func newShipmentID() string { return "shp_" + randomHex(12) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
