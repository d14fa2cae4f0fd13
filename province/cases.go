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
}

// Case is a case as the province knows it.
type Case struct {
	CaseNumber string      `json:"case_number"`
	ItemCode   string      `json:"item_code,omitempty"`
	Status     string      `json:"status"`
	History    []CaseEvent `json:"history"`
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
