package cases

import (
	"context"
	"io"
	"slices"
)

// BlobInfo is a stored file as the blob store describes it.
type BlobInfo struct {
	ID     string
	Kind   string
	Size   int64
	SHA256 string
	Name   string
}

// Blobs stores uploaded files; it checks their type by content and their
// size while reading (implemented over platform/blobs).
type Blobs interface {
	Put(ctx context.Context, r io.Reader, owner, name string) (BlobInfo, error)
}

// maxFilesPerSlot bounds uploads per material slot and round (a multi-page scan is several images).
const maxFilesPerSlot = 20

// UploadMaterial stores a file for one of the item's material slots, while
// the case is a draft or a supplement was requested. Returns CASE_NOT_FOUND,
// CASE_STATE_CONFLICT, MATERIAL_SLOT_UNKNOWN, MATERIAL_TOO_MANY and the blob
// store's MATERIAL_TYPE_UNSUPPORTED / MATERIAL_TOO_LARGE / MATERIAL_NAME_INVALID.
func (s *Service) UploadMaterial(ctx context.Context, blobs Blobs, ownerID, caseID, slotID string, r io.Reader, name string) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	round, err := s.checkSlot(ctx, c, slotID)
	if err != nil {
		return nil, err
	}
	info, err := blobs.Put(ctx, r, ownerID, name)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, c.ID, func(c *Case) error {
		if _, err := s.checkSlotState(c, slotID, round); err != nil {
			return err
		}
		c.Materials = append(c.Materials, Material{SlotID: slotID, BlobID: info.ID, Name: info.Name, Kind: info.Kind,
			Size: info.Size, SHA256: info.SHA256, Round: round, AttachedAt: s.clock()})
		return nil
	})
}

// AttachLicense uses an e-licence the applicant holds instead of an upload,
// where the guide allows that licence type for the slot. Returns
// LICENSE_NOT_FOUND for a licence the user does not hold, and the errors of UploadMaterial.
func (s *Service) AttachLicense(ctx context.Context, ownerID, caseID, slotID, licenseID string) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	licenseType, err := s.people.LicenseType(ctx, ownerID, licenseID)
	if err != nil {
		return nil, err
	}
	round, err := s.checkSlot(ctx, c, slotID)
	if err != nil {
		return nil, err
	}
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return nil, err
	}
	for _, m := range g.Guide.Materials {
		if m.ID == slotID && (m.ELicenseType == "" || m.ELicenseType != licenseType) {
			return nil, ErrSlotUnknown.WithMessage("该项材料不能用此电子证照代替")
		}
	}
	return s.update(ctx, c.ID, func(c *Case) error {
		if _, err := s.checkSlotState(c, slotID, round); err != nil {
			return err
		}
		c.Materials = append(c.Materials, Material{SlotID: slotID, LicenseID: licenseID, Name: "电子证照", Round: round, AttachedAt: s.clock()})
		return nil
	})
}

// checkSlot checks that the slot exists in the item's guide and that the
// case takes materials now; it returns the round the material belongs to.
func (s *Service) checkSlot(ctx context.Context, c *Case, slotID string) (int, error) {
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return 0, err
	}
	known := false
	for _, m := range g.Guide.Materials {
		known = known || m.ID == slotID
	}
	if !known {
		return 0, ErrSlotUnknown
	}
	return s.checkSlotState(c, slotID, -1)
}

func (s *Service) checkSlotState(c *Case, slotID string, wantRound int) (int, error) {
	var round int
	switch c.Status {
	case StatusDraft:
		round = 0
	case StatusSupplementRequested:
		round = c.SupplementNo
		if !slices.Contains(c.Supplement, slotID) {
			return 0, ErrSlotUnknown.WithMessage("补正只需上传被要求补正的材料")
		}
	default:
		return 0, ErrStateConflict.WithMessage("办件当前状态不能上传材料")
	}
	if wantRound >= 0 && round != wantRound {
		return 0, ErrStateConflict
	}
	n := 0
	for _, m := range c.Materials {
		if m.SlotID == slotID && m.Round == round {
			n++
		}
	}
	if n >= maxFilesPerSlot {
		return 0, ErrTooManyMaterials
	}
	return round, nil
}
