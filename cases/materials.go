package cases

import (
	"context"
	"io"
	"slices"

	"zwfw/platform/blobs"
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
	// Delete removes a stored file (gone already is no error).
	Delete(ctx context.Context, id string) error
}

// maxFilesPerSlot bounds uploads per material slot and round (a multi-page scan is several images).
const maxFilesPerSlot = 20

// UploadMaterial stores a file for one of the item's material slots, while
// the case is a draft or a supplement was requested. Returns CASE_NOT_FOUND,
// CASE_STATE_CONFLICT, CASE_ACTION_IN_PROGRESS, MATERIAL_SLOT_UNKNOWN,
// MATERIAL_TOO_MANY and the blob store's MATERIAL_TYPE_UNSUPPORTED /
// MATERIAL_TOO_LARGE / MATERIAL_NAME_INVALID.
func (s *Service) UploadMaterial(ctx context.Context, blobs Blobs, ownerID, caseID, slotID string, r io.Reader, name string) (*Case, error) {
	return s.putFile(ctx, blobs, ownerID, caseID, slotID, r, name, false)
}

// ReplaceMaterial stores a file as the only one of a material slot in the
// current round (the draft, or the supplement asked for), instead of those
// uploaded for it before; the files it replaces are removed from the blob
// store once the case no longer names them. Returns the errors of UploadMaterial.
func (s *Service) ReplaceMaterial(ctx context.Context, blobs Blobs, ownerID, caseID, slotID string, r io.Reader, name string) (*Case, error) {
	return s.putFile(ctx, blobs, ownerID, caseID, slotID, r, name, true)
}

func (s *Service) putFile(ctx context.Context, blobs Blobs, ownerID, caseID, slotID string, r io.Reader, name string, replace bool) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	round, err := s.checkSlot(ctx, c, slotID, replace)
	if err != nil {
		return nil, err
	}
	info, err := blobs.Put(ctx, r, ownerID, name)
	if err != nil {
		return nil, err
	}
	m := Material{SlotID: slotID, BlobID: info.ID, Name: info.Name, Kind: info.Kind,
		Size: info.Size, SHA256: info.SHA256, Round: round, AttachedAt: s.clock()}
	c, removed, err := s.attach(ctx, c.ID, m, replace)
	if err != nil {
		// The case did not take it (its state changed meanwhile): nothing names the file.
		s.deleteBlobs(ctx, blobs, c, []string{info.ID})
		return nil, err
	}
	s.deleteBlobs(ctx, blobs, c, removed)
	return c, nil
}

// AttachLicense uses an e-licence the applicant holds instead of an upload,
// where the guide allows that licence type for the slot. Returns
// LICENSE_NOT_FOUND for a licence the user does not hold, and the errors of UploadMaterial.
func (s *Service) AttachLicense(ctx context.Context, ownerID, caseID, slotID, licenseID string) (*Case, error) {
	c, _, err := s.attachLicense(ctx, ownerID, caseID, slotID, licenseID, false)
	return c, err
}

// ReplaceWithLicense makes an e-licence the only material of a slot in the
// current round, like ReplaceMaterial; the replaced files are removed from blobs.
func (s *Service) ReplaceWithLicense(ctx context.Context, blobs Blobs, ownerID, caseID, slotID, licenseID string) (*Case, error) {
	c, removed, err := s.attachLicense(ctx, ownerID, caseID, slotID, licenseID, true)
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(ctx, blobs, c, removed)
	return c, nil
}

func (s *Service) attachLicense(ctx context.Context, ownerID, caseID, slotID, licenseID string, replace bool) (*Case, []string, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, nil, err
	}
	licenseType, err := s.people.LicenseType(ctx, ownerID, licenseID)
	if err != nil {
		return nil, nil, err
	}
	round, err := s.checkSlot(ctx, c, slotID, replace)
	if err != nil {
		return nil, nil, err
	}
	g, err := s.province.GetItem(ctx, c.ItemCode)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range g.Guide.Materials {
		if m.ID == slotID && (m.ELicenseType == "" || m.ELicenseType != licenseType) {
			return nil, nil, ErrSlotUnknown.WithMessage("该项材料不能用此电子证照代替")
		}
	}
	return s.attach(ctx, c.ID, Material{SlotID: slotID, LicenseID: licenseID, Name: "电子证照", Round: round, AttachedAt: s.clock()}, replace)
}

// ErrMaterialNotFound is returned when a slot has nothing to remove in the
// current round (the blob store's code for a material that is not there).
var ErrMaterialNotFound = blobs.ErrNotFound.WithMessage("该项材料尚未上传，无需删除")

// RemoveMaterial removes every file and e-licence of a material slot in the
// current round (the draft, or the supplement asked for); the files are
// removed from the blob store once the case no longer names them. Materials
// of earlier rounds are the province's already and stay. Returns
// CASE_NOT_FOUND, CASE_STATE_CONFLICT, CASE_ACTION_IN_PROGRESS,
// MATERIAL_SLOT_UNKNOWN or MATERIAL_NOT_FOUND.
func (s *Service) RemoveMaterial(ctx context.Context, blobs Blobs, ownerID, caseID, slotID string) (*Case, error) {
	c, err := s.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	round, err := s.checkSlot(ctx, c, slotID, true)
	if err != nil {
		return nil, err
	}
	var removed []string
	c, err = s.update(ctx, c.ID, func(c *Case) error {
		if _, err := s.checkSlotState(c, slotID, round, true); err != nil {
			return err
		}
		var gone []Material
		c.Materials, gone = splitSlot(c.Materials, slotID, round)
		if len(gone) == 0 {
			return ErrMaterialNotFound
		}
		removed = blobIDs(gone)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(ctx, blobs, c, removed)
	return c, nil
}

// attach adds m to the case (in place of the slot's materials of its round
// with replace) in one versioned write; it returns the blobs no longer named.
func (s *Service) attach(ctx context.Context, id string, m Material, replace bool) (*Case, []string, error) {
	var removed []string
	c, err := s.update(ctx, id, func(c *Case) error {
		if _, err := s.checkSlotState(c, m.SlotID, m.Round, replace); err != nil {
			return err
		}
		removed = nil
		if replace {
			var gone []Material
			c.Materials, gone = splitSlot(c.Materials, m.SlotID, m.Round)
			removed = blobIDs(gone)
		}
		c.Materials = append(c.Materials, m)
		return nil
	})
	return c, removed, err
}

// splitSlot separates the materials of slot in round from the others.
func splitSlot(mats []Material, slotID string, round int) (keep, gone []Material) {
	keep = make([]Material, 0, len(mats))
	for _, m := range mats {
		if m.SlotID == slotID && m.Round == round {
			gone = append(gone, m)
			continue
		}
		keep = append(keep, m)
	}
	return keep, gone
}

func blobIDs(mats []Material) []string {
	var ids []string
	for _, m := range mats {
		if m.BlobID != "" {
			ids = append(ids, m.BlobID)
		}
	}
	return ids
}

// deleteBlobs removes files no material of c names any more. Best effort
// after the case is saved: a file left behind is named by nothing and
// harms nobody.
func (s *Service) deleteBlobs(ctx context.Context, blobs Blobs, c *Case, ids []string) {
	for _, id := range ids {
		if c != nil && slices.ContainsFunc(c.Materials, func(m Material) bool { return m.BlobID == id }) {
			continue
		}
		if err := blobs.Delete(context.WithoutCancel(ctx), id); err != nil {
			s.log.Warn("material file not removed", "blob_id", id, "err", err)
		}
	}
}

// checkSlot checks that the slot exists in the item's guide and that the
// case takes materials now; it returns the round the material belongs to.
func (s *Service) checkSlot(ctx context.Context, c *Case, slotID string, replace bool) (int, error) {
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
	return s.checkSlotState(c, slotID, -1, replace)
}

// checkSlotState checks that the case takes materials for slotID now and
// returns the round they belong to: round 0 while a draft, the supplement's
// round while one is asked for (its requested slots only). With replace
// the slot's files of the round are replaced, so their number does not count.
func (s *Service) checkSlotState(c *Case, slotID string, wantRound int, replace bool) (int, error) {
	var round int
	switch c.Status {
	case StatusDraft:
		round = 0
	case StatusSupplementRequested:
		round = c.SupplementNo
		if !slices.Contains(c.Supplement, slotID) {
			return 0, ErrSlotUnknown.WithMessage("补正只需上传被要求补正的材料")
		}
		if a := c.Action; a != nil && s.clock().Sub(a.At) < ActionLease {
			// The supplement is on its way to the province with the materials it names.
			return 0, ErrActionInProgress
		}
	default:
		return 0, ErrStateConflict.WithMessage("办件当前状态不能修改材料")
	}
	if wantRound >= 0 && round != wantRound {
		return 0, ErrStateConflict
	}
	if replace {
		return round, nil
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
