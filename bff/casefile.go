package bff

import (
	"context"

	"zwfw/casefile"
	"zwfw/platform/events"
)

// runCaseFileIndex consumes the event log for the cases' file indexes
// until ctx ends; every replica runs it, a lease lets one consume at a time.
func (a *App) runCaseFileIndex(ctx context.Context) {
	c := events.NewConsumer(a.db, casefile.ConsumerName, a.files.HandleEvent, events.ConsumerOptions{
		Types: casefile.IndexedEvents(), Logger: a.log.With("component", "casefile-index"),
	})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("case file index consumer stopped", "err", err)
	}
}
