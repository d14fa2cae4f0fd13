package province

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/sony/gobreaker/v2"
)

// Health reports whether the province is usable, for /readyz. It returns
// PROVINCE_UNAVAILABLE (with the open groups in the cause) when a circuit
// breaker is open, and the catalog's error when a one-item search fails.
// bff treats the province as non-critical: a failure marks the service
// degraded, it does not take the replica out of rotation. The probe itself
// is a normal catalog call (coalesced with concurrent probes, recorded as
// caller "system").
func (c *Client) Health(ctx context.Context) error {
	var open []string
	for _, g := range allGroups {
		if c.breakers[g].state() == gobreaker.StateOpen {
			open = append(open, string(g))
		}
	}
	if len(open) > 0 {
		return ErrUnavailable.WithCause(errors.New("circuit breaker open: " + strings.Join(open, ", ")))
	}
	ctx = WithCaller(ctx, CallerSystem)
	_, err := c.do(ctx, request{ep: epSearchItems, path: epSearchItems.route, query: url.Values{"page_size": {"1"}}})
	return err
}
