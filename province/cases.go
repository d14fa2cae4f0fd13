package province

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zwfw/apperr"
)

// Case routes.
var (
	epSubmitCase = endpoint{groupCases, http.MethodPost, "/api/cases"}
	epGetCase    = endpoint{groupCases, http.MethodGet, "/api/cases/{case_number}"}
	epSupplement = endpoint{groupCases, http.MethodPost, "/api/cases/{case_number}/supplement"}
	epWithdraw   = endpoint{groupCases, http.MethodPost, "/api/cases/{case_number}/withdraw"}
	epEvaluate   = endpoint{groupCases, http.MethodPost, "/api/cases/{case_number}/evaluation"}
)

// Case statuses of the contract.
const (
	CaseSubmitted           = "submitted"
	CaseAccepted            = "accepted"
	CaseRejectedAtIntake    = "rejected_at_intake"
	CaseSupplementRequested = "supplement_requested"
	CaseResubmitted         = "resubmitted"
	CaseCompletedApproved   = "completed_approved"
	CaseCompletedDenied     = "completed_denied"
	CaseWithdrawn           = "withdrawn"
)

// CaseSubmission is an application (办件申请) sent to the province. The
// contract leaves the inner shapes to the item: Form follows the guide's
// form_fields, Materials its materials.
type CaseSubmission struct {
	ItemCode  string           `json:"item_code"`
	Applicant map[string]any   `json:"applicant"`
	Form      map[string]any   `json:"form"`
	Materials []map[string]any `json:"materials"`
	Delivery  map[string]any   `json:"delivery,omitempty"`
}

// CaseReceipt is the province's receipt of a submitted case.
type CaseReceipt struct {
	CaseNumber string `json:"case_number"`
	// QueryPassword lets the applicant look the case up on the province's
	// own channels; store it encrypted.
	QueryPassword string `json:"query_password"`
	Status        string `json:"status"`
}

// CaseEvent is one step of a case's history.
type CaseEvent struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Note   string    `json:"note"`
	// SupplementDue is the last day to supplement (YYYY-MM-DD), on a
	// supplement_requested whose department set one.
	SupplementDue string `json:"supplement_due,omitempty"`
}

// Case is a case as the province knows it.
type Case struct {
	CaseNumber string      `json:"case_number"`
	ItemCode   string      `json:"item_code,omitempty"`
	Status     string      `json:"status"`
	History    []CaseEvent `json:"history"`
	// Supplement lists the material ids asked for at the last supplement_requested.
	Supplement []string `json:"supplement_materials,omitempty"`
	// SupplementDue is the last supplement request's deadline (YYYY-MM-DD), when set.
	SupplementDue string `json:"supplement_due,omitempty"`
	Result        string `json:"result,omitempty"`
}

// SubmitCase submits an application. Only the cases package's submission
// job calls it: the client never retries a write, the job does, always with
// the same idemKey (Idempotency-Key), so the province creates the case once
// and answers a repeat with the first receipt.
//
// Returns ITEM_NOT_FOUND, PROVINCE_INVALID_REQUEST or PROVINCE_CONFLICT when
// the province refuses the application, PROVINCE_UNAVAILABLE or
// PROVINCE_TIMEOUT when the outcome is unknown (retry with the same key),
// PROVINCE_BAD_RESPONSE for a spoofed answer, INTERNAL without idemKey.
func (c *Client) SubmitCase(ctx context.Context, idemKey string, sub CaseSubmission) (CaseReceipt, error) {
	if !validRef(idemKey) {
		return CaseReceipt{}, apperr.Internal.WithCause(errors.New("province: SubmitCase needs a printable idempotency key of at most 128 bytes"))
	}
	if strings.TrimSpace(sub.ItemCode) == "" {
		return CaseReceipt{}, apperr.InvalidInput.WithFields(apperr.Field("item_code", "REQUIRED", "缺少办理事项"))
	}
	var res CaseReceipt
	if err := c.call(ctx, request{ep: epSubmitCase, path: epSubmitCase.route, body: sub, idemKey: idemKey}, &res); err != nil {
		return CaseReceipt{}, err
	}
	if res.CaseNumber == "" {
		return CaseReceipt{}, ErrBadResponse.WithCause(errors.New("receipt without case number"))
	}
	return res, nil
}

// GetCase returns a case's status and history; the cases package calls it
// to reconcile when a callback may have been missed.
//
// Returns CASE_NOT_FOUND, PROVINCE_UNAVAILABLE, PROVINCE_TIMEOUT or
// PROVINCE_BAD_RESPONSE.
func (c *Client) GetCase(ctx context.Context, caseNumber string) (Case, error) {
	caseNumber = strings.TrimSpace(caseNumber)
	if !validRef(caseNumber) {
		return Case{}, ErrCaseNotFound
	}
	var res Case
	err := c.call(ctx, request{ep: epGetCase, path: "/api/cases/" + url.PathEscape(caseNumber)}, &res)
	return res, err
}

// caseWrite posts one of the case writes; like SubmitCase it is never
// retried by the client, and idemKey makes a caller's retry harmless.
func (c *Client) caseWrite(ctx context.Context, ep endpoint, idemKey, caseNumber string, body any, out any) error {
	if !validRef(idemKey) {
		return apperr.Internal.WithCause(errors.New("province: case writes need a printable idempotency key of at most 128 bytes"))
	}
	caseNumber = strings.TrimSpace(caseNumber)
	if !validRef(caseNumber) {
		return ErrCaseNotFound
	}
	path := strings.Replace(ep.route, "{case_number}", url.PathEscape(caseNumber), 1)
	return c.call(ctx, request{ep: ep, path: path, body: body, idemKey: idemKey}, out)
}

// SupplementCase answers a supplement request (补正) with the materials
// asked for; the province moves the case to resubmitted.
//
// Returns CASE_NOT_FOUND, PROVINCE_CONFLICT (not awaiting a supplement),
// PROVINCE_INVALID_REQUEST (materials missing), or the outage errors.
func (c *Client) SupplementCase(ctx context.Context, idemKey, caseNumber string, materials []map[string]any, note string) (Case, error) {
	var res Case
	err := c.caseWrite(ctx, epSupplement, idemKey, caseNumber, map[string]any{"materials": materials, "note": note}, &res)
	return res, err
}

// WithdrawCase withdraws a case while the province still allows it.
//
// Returns CASE_NOT_FOUND, PROVINCE_CONFLICT (already final), or the outage errors.
func (c *Client) WithdrawCase(ctx context.Context, idemKey, caseNumber, reason string) (Case, error) {
	var res Case
	err := c.caseWrite(ctx, epWithdraw, idemKey, caseNumber, map[string]any{"reason": reason}, &res)
	return res, err
}

// EvaluationReceipt is the province's record of a 好差评 evaluation.
type EvaluationReceipt struct {
	EvaluationID string `json:"evaluation_id"`
	Level        int    `json:"level"`
}

// EvaluateCase reports the applicant's evaluation (好差评, level 1-5) of a finished case.
//
// Returns CASE_NOT_FOUND, PROVINCE_CONFLICT (already rated or not finished),
// PROVINCE_INVALID_REQUEST, or the outage errors.
func (c *Client) EvaluateCase(ctx context.Context, idemKey, caseNumber string, level int, comment string, tags []string) (EvaluationReceipt, error) {
	var res EvaluationReceipt
	err := c.caseWrite(ctx, epEvaluate, idemKey, caseNumber, map[string]any{"level": level, "comment": comment, "tags": tags}, &res)
	return res, err
}
