package rectify

import (
	"context"
	"time"
)

// Store keeps rectifications (implemented by *MongoStore).
type Store interface {
	// Insert stores a new rectification; false (and no error) when one with
	// its id exists already (the case's evaluation was handled before).
	Insert(ctx context.Context, r *Rectification) (bool, error)
	// Get returns RECTIFY_NOT_FOUND for an unknown id.
	Get(ctx context.Context, id string) (*Rectification, error)
	// Save replaces r if its stored version is still prevVersion, else
	// returns apperr.Conflict.
	Save(ctx context.Context, r *Rectification, prevVersion int64) error
	// List returns rectifications matching f, not closed first, then by due date.
	List(ctx context.Context, f Filter) ([]*Rectification, error)
}

// Filter selects rectifications for the console's list.
type Filter struct {
	// State keeps one state ("" = every state).
	State State
	// DueBefore keeps those not closed and due before it (overdue at a time).
	DueBefore time.Time
	Limit     int
}

// Tally is the count of evaluations by level (1-5), overall, per
// department and per service item, kept by the evaluation consumer.
type Tally struct {
	// Seq is the last event-log position counted (a replayed event is not counted twice).
	Seq    int64            `bson:"seq"`
	Levels map[string]int64 `bson:"levels"` // "1".."5" -> count
	// Depts and Items map a key (KeyOf of the name or code) to counts by level.
	Depts     map[string]map[string]int64 `bson:"depts"`
	Items     map[string]map[string]int64 `bson:"items"`
	DeptNames map[string]string           `bson:"dept_names"`
	ItemNames map[string]string           `bson:"item_names"`
}

// Tallies keeps the evaluation counts (implemented by *MongoStore).
type Tallies interface {
	// Count adds one evaluation of level for dept and item, counted at the
	// event-log position seq: once, whatever the number of calls with seq.
	Count(ctx context.Context, seq int64, level int, dept, item, itemName string) error
	// Tally reads the counts (empty before the first evaluation).
	Tally(ctx context.Context) (*Tally, error)
}
