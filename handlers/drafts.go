package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
)

// mimeMergePatch is the media type of a JSON merge patch (RFC 7386).
const mimeMergePatch = "application/merge-patch+json"

// EditDraft handles PATCH /api/v1/cases/:id: a JSON merge patch of a draft's
// form, delivery and as_company (application/merge-patch+json, or
// application/json). The answer masks personal data like every write's.
func (h *Cases) EditDraft(c *fiber.Ctx) error {
	patch, err := bindMergePatch(c, h.BodyLimit)
	if err != nil {
		return err
	}
	cs, err := h.Svc.EditDraft(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"), patch)
	if err != nil {
		return err
	}
	return c.JSON(h.view(cs, false))
}

// ReplaceMaterial handles PUT /api/v1/cases/:id/materials/:slot (multipart
// file, or license_id): the slot's material in the current round becomes
// this one.
func (h *Cases) ReplaceMaterial(c *fiber.Ctx) error {
	owner, slot := PrincipalFrom(c).UserID, c.Params("slot")
	if lic := c.FormValue("license_id"); lic != "" {
		cs, err := h.Svc.ReplaceWithLicense(c.UserContext(), h.Blobs, owner, c.Params("id"), slot, lic)
		if err != nil {
			return err
		}
		return c.JSON(h.view(cs, false))
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.InvalidInput.WithFields(apperr.Field("file", "REQUIRED", "请选择要上传的文件，或指明电子证照 license_id"))
	}
	f, err := fh.Open()
	if err != nil {
		return apperr.InvalidInput.WithFields(apperr.Field("file", "UNREADABLE", "文件读取失败，请重新上传"))
	}
	defer f.Close()
	cs, err := h.Svc.ReplaceMaterial(c.UserContext(), h.Blobs, owner, c.Params("id"), slot, f, rawFilename(fh))
	if err != nil {
		return err
	}
	return c.JSON(h.view(cs, false))
}

// RemoveMaterial handles DELETE /api/v1/cases/:id/materials/:slot.
func (h *Cases) RemoveMaterial(c *fiber.Ctx) error {
	cs, err := h.Svc.RemoveMaterial(c.UserContext(), h.Blobs, PrincipalFrom(c).UserID, c.Params("id"), c.Params("slot"))
	if err != nil {
		return err
	}
	return c.JSON(h.view(cs, false))
}

// bindMergePatch decodes a JSON merge patch: one JSON object, no larger
// than limit. Members stay untyped (null means "remove"); the domain checks them.
func bindMergePatch(c *fiber.Ctx, limit int) (map[string]any, error) {
	body := c.Body()
	if len(body) > limit {
		return nil, apperr.BodyTooLarge.WithDetail("limit_bytes", limit)
	}
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if ct != "" && !strings.HasPrefix(ct, mimeMergePatch) && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return nil, apperr.UnsupportedMedia
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var patch map[string]any
	if err := dec.Decode(&patch); err != nil {
		return nil, jsonError(err)
	}
	if patch == nil {
		return nil, apperr.WrongType.WithMessage("请求体必须是 JSON 对象")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apperr.MalformedJSON.WithMessage("请求体只能包含一个 JSON 对象")
	}
	return patch, nil
}
