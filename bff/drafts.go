package bff

import (
	"context"
	"errors"

	"zwfw/platform/blobs"
)

// Delete removes a material's file; one gone already is no error (a
// replaced file removed twice by two retries).
func (m materialBlobs) Delete(ctx context.Context, id string) error {
	if err := m.store.Delete(ctx, id); err != nil && !errors.Is(err, blobs.ErrNotFound) {
		return err
	}
	return nil
}
