package bff

import (
	"context"
	"time"

	"zwfw/booking"
	"zwfw/identity"
	"zwfw/platform/jobs"
)

const jobMarkNoShows = "booking.mark_no_shows"

// buildBooking wires appointment booking: the store, the Redis availability
// cache (MongoDB decides; Redis only speeds up reads) and the service.
func (a *App) buildBooking(ctx context.Context) error {
	store := booking.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	a.resp = newRespCache(a.rdb, a.keys, a.log.With("component", "response-cache"))
	// Hall configurations are kept in memory; a change on any replica drops
	// them on every replica (through the response cache's channel).
	halls := booking.NewHallCache(30 * time.Second)
	halls.OnChange = func(ctx context.Context, hallID string) { a.resp.Invalidate(ctx, hallConfigScope(hallID)) }
	a.resp.onScope(hallConfigScopePrefix, halls.Forget)
	a.booking = booking.NewService(booking.Deps{
		Store: store, Calendar: a.calendar, People: bookingPeople{a.identity}, Now: a.cfg.BookingClock, Halls: halls,
		Cache: publishedAvailability{booking.NewRedisCache(a.rdb, a.keys, 5*time.Second, a.log.With("component", "booking-cache")),
			a.resp},
		Logger: a.log.With("component", "booking"),
	})
	return nil
}

// registerBookingJobs binds the no-show sweep, which re-queues itself every
// few minutes (keyed by its time slot, so N replicas run it once).
func (a *App) registerBookingJobs() {
	a.jobs.Register(jobMarkNoShows, func(ctx context.Context, j *jobs.Job) error {
		n, err := a.booking.MarkNoShows(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			a.log.Info("bookings marked as no-shows", "count", n)
		}
		return a.enqueueNoShowSweep(ctx, time.Now().Add(5*time.Minute))
	})
}

func (a *App) enqueueNoShowSweep(ctx context.Context, at time.Time) error {
	slot := at.Truncate(5 * time.Minute)
	_, _, err := a.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: jobMarkNoShows, Key: slot.UTC().Format(time.RFC3339), RunAt: slot, MaxAttempts: 3})
	return err
}

// publishedAvailability is the availability cache that also drops the
// hall's ready slot answers on every replica (respcache.go) when booking
// says the hall changed (a booking, a cancellation, its configuration).
type publishedAvailability struct {
	*booking.RedisCache
	resp *respCache
}

func (p publishedAvailability) Invalidate(ctx context.Context, hallID string) {
	p.RedisCache.Invalidate(ctx, hallID)
	p.resp.Invalidate(ctx, hallScope(hallID))
}

func hallScope(hallID string) string { return "hall:" + hallID }

// hallConfigScopePrefix names the scope of a hall's configuration (kept by
// booking.HallCache), which changes far more rarely than its slots.
const hallConfigScopePrefix = "hallcfg:"

func hallConfigScope(hallID string) string { return hallConfigScopePrefix + hallID }

// bookingPeople adapts identity to booking.People.
type bookingPeople struct{ svc *identity.Service }

func (p bookingPeople) RealNameVerified(ctx context.Context, userID string) (bool, error) {
	u, err := p.svc.Me(ctx, &identity.Principal{UserID: userID})
	if err != nil {
		return false, err
	}
	return u.RealNameVerified, nil
}
