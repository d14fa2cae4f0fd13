package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Operator is the 12345 operator making a look-up.
type Operator struct {
	ID   string
	Name string
	IP   string
}

// AuditEntry is one hotline look-up: who, when, why (the call's ticket),
// what was asked (masked) and which cases were shown. The staff console
// also writes the opening of a case (query type "open", the case number)
// and the reveal of one personal datum ("reveal", the field's key, with the
// operator's reason; never the value).
type AuditEntry struct {
	ID           string    `bson:"_id"`
	At           time.Time `bson:"at"`
	OperatorID   string    `bson:"operator_id"`
	OperatorName string    `bson:"operator_name,omitempty"`
	Ticket       string    `bson:"ticket"`
	QueryType    string    `bson:"query_type"` // number | phone | id_number | uscc | open | reveal
	Query        string    `bson:"query"`      // masked
	CaseIDs      []string  `bson:"case_ids"`
	IP           string    `bson:"ip,omitempty"`
	Reason       string    `bson:"reason,omitempty"` // why a field was revealed
}

// AuditFilter selects audit entries for admins.
type AuditFilter struct {
	OperatorID string
	From, To   time.Time
	Before     string // cursor: entries with ids below it
	Limit      int
}

// AuditLog is the append-only log of hotline look-ups.
type AuditLog interface {
	Append(ctx context.Context, e *AuditEntry) error
	List(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// MongoAuditLog implements AuditLog (collection audit_log). It only ever
// inserts: there is no update or delete path in code.
type MongoAuditLog struct{ coll *mongox.Collection }

// NewMongoAuditLog uses db's audit_log collection.
func NewMongoAuditLog(db *mongo.Database) *MongoAuditLog {
	return &MongoAuditLog{coll: mongox.C(db, "audit_log")}
}

// EnsureIndexes creates the admin views' indexes.
func (l *MongoAuditLog) EnsureIndexes(ctx context.Context) error {
	return l.coll.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "operator_id", Value: 1}, {Key: "_id", Value: -1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: -1}}},
	)
}

// Append implements AuditLog; the id is time-ordered for cursor paging.
func (l *MongoAuditLog) Append(ctx context.Context, e *AuditEntry) error {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e.ID = fmt.Sprintf("a_%012x%s", e.At.UnixMilli(), hex.EncodeToString(b))
	if e.CaseIDs == nil {
		e.CaseIDs = []string{}
	}
	_, err := l.coll.InsertOne(ctx, e)
	return err
}

// List implements AuditLog, newest first.
func (l *MongoAuditLog) List(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	filter := bson.D{}
	if f.OperatorID != "" {
		filter = append(filter, bson.E{Key: "operator_id", Value: f.OperatorID})
	}
	at := bson.D{}
	if !f.From.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: f.From})
	}
	if !f.To.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: f.To})
	}
	if len(at) > 0 {
		filter = append(filter, bson.E{Key: "at", Value: at})
	}
	if f.Before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: f.Before}}})
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	cur, err := l.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(f.Limit)))
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	err = cur.All(ctx, &out)
	return out, err
}
