package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"zwfw/apperr"
	"zwfw/cases"
)

// ProvinceCallbacks receives the province's signed case status changes.
type ProvinceCallbacks struct {
	Verify    func(r *http.Request, body []byte) error
	Sign      func(h http.Header, status int, body []byte, requestNonce string)
	Cases     *cases.Service
	BodyLimit int
}

type caseCallback struct {
	EventID        string    `json:"event_id"`
	Event          string    `json:"event"`
	CaseNumber     string    `json:"case_number"`
	ItemCode       string    `json:"item_code"`
	Status         string    `json:"status"`
	PreviousStatus string    `json:"previous_status"`
	At             time.Time `json:"at"`
	Note           string    `json:"note"`
	Materials      []string  `json:"materials"`
	Result         string    `json:"result"`
	Seq            int       `json:"seq"`
	SupplementDue  string    `json:"supplement_due"` // YYYY-MM-DD, with supplement_requested when the department set one
}

// CaseStatus handles POST /api/v1/callbacks/province: the signature, the
// timestamp and the nonce are checked before anything is read; a duplicate
// or late delivery is acknowledged and changes nothing.
func (h *ProvinceCallbacks) CaseStatus(c *fiber.Ctx) error {
	body := c.Body()
	if len(body) > h.BodyLimit {
		return apperr.BodyTooLarge
	}
	req, err := adaptor.ConvertRequest(c, false)
	if err != nil {
		return apperr.InvalidInput
	}
	if err := h.Verify(req, body); err != nil {
		return err
	}
	var cb caseCallback
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&cb); err != nil {
		return apperr.MalformedJSON
	}
	if cb.Event != "case.status_changed" || cb.CaseNumber == "" || cb.Seq <= 0 {
		return apperr.InvalidInput.WithMessage("回调内容不完整")
	}
	_, applied, err := h.Cases.ApplyProvinceUpdate(c.UserContext(), cases.ProvinceUpdate{
		CaseNumber: cb.CaseNumber, Status: cases.Status(cb.Status), Seq: cb.Seq, At: cb.At,
		Note: cb.Note, Materials: cb.Materials, Result: cb.Result, SupplementDue: cb.SupplementDue,
	})
	if err != nil && !errors.Is(err, cases.ErrNotFound) {
		return err
	}
	out, _ := json.Marshal(fiber.Map{"code": "0", "message": "成功", "data": fiber.Map{"event_id": cb.EventID, "applied": applied}})
	hdr := http.Header{}
	h.Sign(hdr, fiber.StatusOK, out, req.Header.Get("X-Gw-Nonce"))
	for k, vs := range hdr {
		for _, v := range vs {
			c.Set(k, v)
		}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(fiber.StatusOK).Send(out)
}
