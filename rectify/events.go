package rectify

import (
	"fmt"
	"time"

	"zwfw/platform/events"
)

// EventReplied: a rectification's owner replied to the citizen (payload
// Replied); notify puts the reply in the citizen's inbox. It rides in the
// rectification's outbox, written by the same save as the reply.
const EventReplied = "rectify.replied"

// Replied is the payload of rectify.replied: what the citizen is told.
type Replied struct {
	RectificationID string `bson:"rectification_id"`
	CaseID          string `bson:"case_id"`
	CaseNumber      string `bson:"case_number"`
	ItemName        string `bson:"item_name"`
	UserID          string `bson:"user_id"`
	// N numbers the replies of the rectification from 1 (each is sent once).
	N     int    `bson:"n"`
	Reply string `bson:"reply"`
}

// Subject is the event-log subject of a rectification.
func Subject(id string) string { return "rectification:" + id }

func (r *Rectification) emitReplied(actor string, at time.Time) {
	n := len(r.Replies)
	r.Emit(events.MustPending(fmt.Sprintf("rectification:%s:v%d:%s", r.ID, r.Version, EventReplied), EventReplied,
		Subject(r.ID), actor, Replied{RectificationID: r.ID, CaseID: r.CaseID, CaseNumber: r.CaseNumber,
			ItemName: r.ItemName, UserID: r.UserID, N: n, Reply: r.Replies[n-1].Text}, at))
}
