package bff

import (
	"context"
	"time"

	"zwfw/platform/events"
	"zwfw/rectify"
)

// buildRectify wires 好差评 rectifications: their store (the relay sweeps
// its outbox, see outboxCollections) and the service the console calls.
func (a *App) buildRectify(ctx context.Context) error {
	store := rectify.NewMongoStore(a.db)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	// The lists are cached in Redis (a scan and a sort on the embedded
	// store); every write invalidates them, the minute bounds a lost one.
	lists := rectify.NewListCache(store, a.rdb, a.keys, time.Minute, a.log.With("component", "rectify-lists"))
	a.rectify = rectify.NewService(rectify.Deps{
		Store: lists, Tallies: store, Cases: a.cases, Calendar: a.calendar.Times(),
		MaxLevel: a.cfg.RectifyMaxLevel, Logger: a.log.With("component", "rectify"),
		// The console's clock (tests move it to see a rectification overdue).
		Now: a.cfg.BookingClock,
	})
	return nil
}

// runRectify consumes case evaluations until ctx ends: each is counted and
// a 差评 opens its rectification. Every replica runs it; a lease lets one
// consume at a time.
func (a *App) runRectify(ctx context.Context) {
	c := events.NewConsumer(a.db, rectify.ConsumerName, a.rectify.HandleEvent, events.ConsumerOptions{
		Types: rectify.EventTypes(), Logger: a.log.With("component", "rectify-consumer"),
		LeaseDuration: a.cfg.JobLease,
	})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("rectification consumer stopped", "err", err)
	}
}
