package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/mongox"
)

// claimTimeout is how long a relay's claim on an event id stands before
// another relay may take it over (its owner is presumed dead).
const claimTimeout = 30 * time.Second

// errClaimed: another relay is appending this event right now.
var errClaimed = errors.New("events: event is being appended by another relay")

type idDoc struct {
	ID    string    `bson:"_id"`
	State string    `bson:"state"` // claimed | appended
	Seq   int64     `bson:"seq"`
	At    time.Time `bson:"at"`
}

// AppendOnce appends the pending event unless an event with its id is
// already in the log, and reports whether this call appended it. The id is
// claimed first (an insert by _id, atomic on both stores), so two relays
// never both append it; a claim whose owner died before recording the
// append is taken over after claimTimeout, and the log is checked for the
// event before appending again.
func (l *Log) AppendOnce(ctx context.Context, p Pending) (int64, bool, error) {
	now := utcMillis(l.now())
	_, err := l.ids.InsertOne(ctx, idDoc{ID: p.ID, State: "claimed", At: now})
	if mongox.IsDuplicateKey(err) {
		var d idDoc
		if err := l.ids.FindOne(ctx, bson.D{{Key: "_id", Value: p.ID}}).Decode(&d); err != nil {
			return 0, false, fmt.Errorf("events: read claim %s: %w", p.ID, err)
		}
		if d.State == "appended" {
			return d.Seq, false, nil
		}
		if now.Sub(d.At) < claimTimeout {
			return 0, false, errClaimed
		}
		took, err := l.ids.UpdateIfMatched(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "state", Value: "claimed"}, {Key: "at", Value: d.At}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: now}}}})
		if err != nil {
			return 0, false, fmt.Errorf("events: take over claim %s: %w", p.ID, err)
		}
		if !took {
			return 0, false, errClaimed
		}
		// The dead owner may have appended before dying.
		var existing Event
		err = l.events.FindOne(ctx, bson.D{{Key: "event_id", Value: p.ID}}).Decode(&existing)
		if err == nil {
			return existing.Seq, false, l.markAppended(ctx, p.ID, existing.Seq)
		}
		if !mongox.IsNoDocuments(err) {
			return 0, false, fmt.Errorf("events: look for %s: %w", p.ID, err)
		}
	} else if err != nil {
		return 0, false, fmt.Errorf("events: claim %s: %w", p.ID, err)
	}
	e := p.Event()
	seq, err := l.Append(ctx, e)
	if err != nil {
		// The insert may have landed anyway: age the claim so the next attempt
		// takes it over at once and looks in the log before appending again.
		_, _ = l.ids.UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: p.ID}, {Key: "state", Value: "claimed"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: time.Unix(0, 0).UTC()}}}})
		return 0, false, err
	}
	return seq, true, l.markAppended(ctx, p.ID, seq)
}

func (l *Log) markAppended(ctx context.Context, id string, seq int64) error {
	_, err := l.ids.UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: "appended"}, {Key: "seq", Value: seq}}}})
	if err != nil {
		return fmt.Errorf("events: record append of %s: %w", id, err)
	}
	return nil
}
