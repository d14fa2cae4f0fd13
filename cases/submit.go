package cases

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"zwfw/apperr"
	"zwfw/platform/jobs"
	"zwfw/province"
)

// Submit runs the pre-review (every problem at once: missing required
// materials, incomplete or invalid form), checks the applicant against the
// signed-in person once more and, when all passes, moves the draft to
// submitted and queues the durable job that delivers it to the province.
// The move is one versioned write: of concurrent submits one wins and the
// others find the case no longer a draft. Retries of one request are the
// HTTP layer's (Idempotency-Key); the province hears of the case once,
// under the case id.
//
// Returns CASE_NOT_FOUND, CASE_NOT_DRAFT, CASE_PREREVIEW_FAILED (fields),
// CASE_APPLICANT_MISMATCH, COMPANY_NOT_BOUND, REALNAME_REQUIRED, or the
// province's errors while reading the guide.
func (s *Service) Submit(ctx context.Context, ownerID, caseID string) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusDraft {
		return nil, ErrNotDraft
	}
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return nil, err
	}
	form, err := s.plainForm(c)
	if err != nil {
		return nil, err
	}
	if form, err = s.checkApplicant(ctx, c, g.Guide, form); err != nil {
		return nil, err
	}
	problems := append(checkForm(g.Guide, form, true), checkMaterials(g.Guide, c.Materials, 0, nil)...)
	if len(problems) > 0 {
		return nil, ErrPreReview.WithFields(problems...)
	}
	sealed, masked, err := s.sealForm(g.Guide, form)
	if err != nil {
		return nil, err
	}
	c, err = s.update(ctx, c.ID, func(c *Case) error {
		if c.Status != StatusDraft {
			return ErrNotDraft
		}
		now := s.clock()
		c.Form, c.FormMasked = sealed, masked
		c.SubmittedAt, c.SyncedAt = &now, &now
		const note = "已提交，等待省平台受理"
		c.move(StatusSubmitted, "applicant", note, now)
		c.emitStatus(c.OwnerID, note, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Enqueued after the state change: if this process dies in between, the
	// poller finds the submitted case without a number and queues it.
	if err := s.enqueueSubmit(ctx, c.ID); err != nil {
		s.log.Warn("submit job not queued; the poller will queue it", "case_id", c.ID, "err", err)
	}
	return c, nil
}

// checkApplicant checks, before anything is sent, that the draft's
// applicant is still the signed-in person as verified now (and the company
// still bound to them), and returns the form with its applicant fields
// bound to them (drafts from before those fields were bound get them here).
func (s *Service) checkApplicant(ctx context.Context, c *Case, g province.Guide, form map[string]any) (map[string]any, error) {
	person, err := s.people.Person(ctx, c.OwnerID)
	if err != nil {
		return nil, err
	}
	if s.pii.Index("id_number", person.IDNumber) != c.Applicant.IDNumberIndex {
		return nil, ErrApplicantMismatch.WithMessage("申请人与当前实名认证信息不一致，请重新创建申报")
	}
	var company *Company
	if c.Applicant.Type == ApplicantBusiness {
		if company, err = companyOf(person, c.Applicant.USCC); err != nil {
			return nil, err
		}
		company.Name = c.Applicant.CompanyName
	}
	return bindApplicant(g, form, person, company)
}

var errAlreadyDone = errors.New("already done")

// outageRetry is the delay before the next attempt while the province is
// unreachable: 5-30 s, jittered so a backlog does not return in one wave.
func outageRetry() time.Duration {
	return 5*time.Second + time.Duration(rand.Int64N(int64(25*time.Second)))
}

func (s *Service) enqueueSubmit(ctx context.Context, caseID string) error {
	_, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobSubmit, Key: caseID, Payload: map[string]string{"case_id": caseID},
		// A province outage of a day or two must delay, never drop, a
		// submission: retries while it is down come every 5-30 s (see
		// outageRetry), so 20,000 attempts cover about four days.
		MaxAttempts: 20000})
	return err
}

// HandleSubmitJob delivers a submitted case to the province (the JobSubmit
// handler). The province's Idempotency-Key is the case id, so a retry after
// a crash or an outage never creates a second case there; a province that
// is down makes the job retry with backoff, and the case waits as submitted.
func (s *Service) HandleSubmitJob(ctx context.Context, j *jobs.Job) error {
	c, err := s.caseOfJob(ctx, j)
	if err != nil {
		return err
	}
	if c.CaseNumber != "" || c.Status != StatusSubmitted {
		return nil // delivered already, or withdrawn meanwhile
	}
	sub, err := s.submission(c)
	if err != nil {
		return jobs.Permanent(err)
	}
	receipt, err := s.province.SubmitCase(ctx, "case:"+c.ID, sub)
	if err != nil {
		switch apperr.KindOf(err) {
		case apperr.KindUnavailable, apperr.KindTooMany:
			// Unknown outcome: retry with the same key, soon. An exponential
			// backoff would leave submissions waiting minutes after a short
			// outage (the breaker fails every attempt fast meanwhile).
			return jobs.RetryAfter(err, s.outageRetry())
		case apperr.KindInternal:
			return err // unknown outcome: retry with the same key
		case apperr.KindUpstream:
			return err
		}
		// The province refused the application itself: the case ends here, with its reason.
		_, uerr := s.update(ctx, c.ID, func(c *Case) error {
			if c.Status != StatusSubmitted || c.CaseNumber != "" {
				return errAlreadyDone
			}
			now := s.clock()
			note := "省平台未受理：" + apperr.From(err).Message
			c.CompletedAt = &now
			c.move(StatusRejectedAtIntake, "province", note, now)
			c.emitStatus(ActorProvince, note, now)
			return nil
		})
		if uerr != nil && !errors.Is(uerr, errAlreadyDone) {
			return uerr
		}
		return jobs.Permanent(err)
	}
	pwEnc, err := s.pii.EncryptField("query_password", receipt.QueryPassword)
	if err != nil {
		return err
	}
	if err := s.store.BindNumber(ctx, receipt.CaseNumber, c.ID); err != nil {
		return err
	}
	c, err = s.update(ctx, c.ID, func(c *Case) error {
		if c.CaseNumber != "" {
			return errAlreadyDone
		}
		now := s.clock()
		c.CaseNumber, c.QueryPasswordEnc, c.SyncedAt = receipt.CaseNumber, pwEnc, &now
		if c.ProvinceSeq < 1 {
			c.ProvinceSeq = 1 // the province's history starts with "submitted"
		}
		c.Timeline = append(c.Timeline, Entry{At: now, Status: c.Status, Actor: "province", Note: "省平台已接收，办件编号 " + receipt.CaseNumber})
		c.emitSubmitted(now)
		return nil
	})
	if err != nil && !errors.Is(err, errAlreadyDone) {
		return err
	}
	return nil
}

// submission builds what the province receives, decrypting the applicant's
// data only here, for the signed channel.
func (s *Service) submission(c *Case) (province.CaseSubmission, error) {
	name, err := s.pii.DecryptField("name", c.Applicant.NameEnc)
	if err != nil {
		return province.CaseSubmission{}, err
	}
	applicant := map[string]any{"type": string(c.Applicant.Type), "name": name}
	if c.Applicant.IDNumberEnc != "" {
		id, err := s.pii.DecryptField("id_number", c.Applicant.IDNumberEnc)
		if err != nil {
			return province.CaseSubmission{}, err
		}
		applicant["id_number"] = id
	}
	if c.Applicant.PhoneEnc != "" {
		phone, err := s.pii.DecryptField("phone", c.Applicant.PhoneEnc)
		if err != nil {
			return province.CaseSubmission{}, err
		}
		applicant["phone"] = phone
	}
	if c.Applicant.Type == ApplicantBusiness {
		applicant["uscc"] = c.Applicant.USCC
		applicant["company_name"] = c.Applicant.CompanyName
	}
	form, err := s.plainForm(c)
	if err != nil {
		return province.CaseSubmission{}, err
	}
	delivery := map[string]any{"result": c.Delivery.Result}
	if c.Delivery.AddressEnc != "" {
		raw, err := s.pii.DecryptField("delivery_address", c.Delivery.AddressEnc)
		if err != nil {
			return province.CaseSubmission{}, err
		}
		var addr map[string]any
		if err := json.Unmarshal([]byte(raw), &addr); err != nil {
			return province.CaseSubmission{}, err
		}
		delivery["address"] = addr
	}
	return province.CaseSubmission{
		ItemCode: c.ItemCode, Applicant: applicant, Form: form,
		Materials: materialRefs(c.Materials, 0),
		Delivery:  delivery,
	}, nil
}

func materialRefs(mats []Material, round int) []map[string]any {
	out := []map[string]any{}
	for _, m := range mats {
		if m.Round != round {
			continue
		}
		ref := map[string]any{"material_id": m.SlotID, "name": m.Name}
		if m.BlobID != "" {
			ref["file_id"], ref["sha256"], ref["size"] = m.BlobID, m.SHA256, m.Size
		}
		if m.LicenseID != "" {
			ref["elicense_id"] = m.LicenseID
		}
		out = append(out, ref)
	}
	return out
}

// ProvinceUpdate is a status change reported by the province, by callback or by polling.
type ProvinceUpdate struct {
	CaseNumber string
	Status     Status
	Seq        int // position in the province's history: later updates have larger Seq
	At         time.Time
	Note       string
	Materials  []string // requested materials, with supplement_requested
	Result     string
	// SupplementDue is the province's deadline of a supplement request
	// (YYYY-MM-DD), when it set one.
	SupplementDue string
}

// ApplyProvinceUpdate moves a case to the status the province reports. The
// province is the authority after submission, but an update is applied only
// if it is newer than the last one applied (Seq), so duplicate and
// out-of-order deliveries never move a case backwards. Returns CASE_NOT_FOUND.
func (s *Service) ApplyProvinceUpdate(ctx context.Context, u ProvinceUpdate) (*Case, bool, error) {
	if !u.Status.Valid() || u.Status == StatusDraft {
		return nil, false, apperr.InvalidInput.WithMessage("未知的办件状态")
	}
	c, err := s.store.ByNumber(ctx, u.CaseNumber)
	if err != nil {
		return nil, false, err
	}
	var sup supplementTerms
	if u.Status == StatusSupplementRequested && u.Seq > c.ProvinceSeq && !c.Status.Final() {
		sup = s.supplementTerms(ctx, c.ItemCode, u)
	}
	applied := false
	c, err = s.update(ctx, c.ID, func(c *Case) error {
		now := s.clock()
		c.SyncedAt = &now
		applied = false
		if u.Seq <= c.ProvinceSeq || c.Status.Final() {
			return nil // stale or duplicate: only the sync time moves
		}
		c.ProvinceSeq = u.Seq
		if u.Status == c.Status {
			return nil
		}
		at := u.At.UTC()
		if at.IsZero() {
			at = now
		}
		note := u.Note
		if note == "" {
			note = u.Status.Label()
		}
		c.move(u.Status, "province", note, at)
		switch u.Status {
		case StatusAccepted:
			c.AcceptedAt = &at
		case StatusSupplementRequested:
			c.SupplementNo++
			c.Supplement = append([]string(nil), u.Materials...)
			c.SupplementDue = sup.due
		case StatusCompletedApproved, StatusCompletedDenied, StatusRejectedAtIntake:
			c.CompletedAt = &at
			c.Result = u.Result
		}
		if c.Action != nil && c.Action.settledBy(u.Status) {
			c.Action = nil
		}
		// Reminders and shipments act on it without reading the case back.
		c.emitStatusWith(ActorProvince, u.Note, now, sup.names)
		applied = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return c, applied, nil
}

// Poll reconciles cases whose status has not been synced for a while (a
// missed callback) with the province, and re-queues submissions that never
// got a case number. The JobPoll handler calls it periodically.
func (s *Service) Poll(ctx context.Context, staleAfter time.Duration, limit int) (int, error) {
	list, err := s.store.Unsynced(ctx, s.clock().Add(-staleAfter), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		if c.CaseNumber == "" {
			s.requeueSubmit(ctx, c)
			continue
		}
		pc, err := s.province.GetCase(ctx, c.CaseNumber)
		if err != nil {
			s.log.Warn("case poll failed", "case_id", c.ID, "err", err)
			continue
		}
		if len(pc.History) == 0 {
			continue
		}
		last := pc.History[len(pc.History)-1]
		_, applied, err := s.ApplyProvinceUpdate(ctx, ProvinceUpdate{CaseNumber: c.CaseNumber, Status: Status(pc.Status),
			Seq: len(pc.History), At: last.At, Note: last.Note, Materials: pc.Supplement, Result: pc.Result,
			SupplementDue: pc.SupplementDue})
		if err != nil {
			return n, err
		}
		if applied {
			n++
		}
	}
	return n, nil
}

// requeueSubmit queues the delivery of a submitted case that has no case
// number yet: a no-op while its job exists, the rescue when the process died
// between the submission and the enqueue. The sync time moves on, so that
// cases waiting out a province outage do not fill every poll.
func (s *Service) requeueSubmit(ctx context.Context, c *Case) {
	if c.Status != StatusSubmitted {
		return
	}
	if err := s.enqueueSubmit(ctx, c.ID); err != nil {
		s.log.Warn("submit job not queued", "case_id", c.ID, "err", err)
		return
	}
	_, err := s.update(ctx, c.ID, func(c *Case) error {
		now := s.clock()
		c.SyncedAt = &now
		return nil
	})
	if err != nil {
		s.log.Warn("case sync time not moved", "case_id", c.ID, "err", err)
	}
}

// caseOfJob loads the case a job's payload names; a malformed payload or a
// case that no longer exists parks the job (retrying cannot help).
func (s *Service) caseOfJob(ctx context.Context, j *jobs.Job) (*Case, error) {
	var p struct {
		CaseID string `bson:"case_id"`
	}
	if err := j.Decode(&p); err != nil {
		return nil, jobs.Permanent(err)
	}
	c, err := s.store.Get(ctx, p.CaseID)
	if errors.Is(err, ErrNotFound) {
		return nil, jobs.Permanent(err)
	}
	return c, err
}
