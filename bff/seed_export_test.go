package bff

import "context"

// SeedDemoEvaluation runs the demo 差评's seeding to its end, as a start
// does in the background.
func (a *App) SeedDemoEvaluation(ctx context.Context) error { return a.demoEvaluation(ctx) }
