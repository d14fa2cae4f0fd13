package notify

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// ReassignUser gives from's reminders to to, when a merge of persons made
// them one (identity calls it through bff): the inbox (and messages still
// to send), the devices, the subscribe consents (added to to's) and the
// settings (to's own are kept; from's are taken when to has none). Every
// part is a filter on from or a guarded one-document write, so running it
// again after a crash moves only what is left and adds no consent twice.
// Daily rate counters are not moved: they expire with the day. Returns how
// many documents moved.
func (s *MongoStore) ReassignUser(ctx context.Context, from, to string) (int64, error) {
	now := time.Now().UTC()
	msgs, err := s.messages.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}}}})
	if err != nil {
		return 0, storeErr("reassign messages", err)
	}
	moved := msgs.ModifiedCount
	cur, err := s.prefs.Find(ctx, bson.D{{Key: "user_id", Value: from}})
	if err != nil {
		return moved, storeErr("reassign prefs", err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return moved, storeErr("reassign prefs", err)
	}
	for _, d := range docs {
		id, _ := d["_id"].(string)
		kind, _ := d["kind"].(string)
		var err error
		switch kind {
		case "consent":
			err = s.mergeConsent(ctx, id, to, d, now)
		case "device", "settings":
			err = s.movePref(ctx, id, from, to, kind, d)
		default:
			continue
		}
		if err != nil {
			return moved, err
		}
		if _, err := s.prefs.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "user_id", Value: from}}); err != nil {
			return moved, storeErr("reassign prefs", err)
		}
		moved++
	}
	return moved, nil
}

// movePref copies a device or settings document to to's id (a device under
// to's id; settings only when to has none: the survivor's choice stands).
func (s *MongoStore) movePref(ctx context.Context, id, from, to, kind string, d bson.M) error {
	next := bson.D{}
	for k, v := range d {
		if k != "_id" && k != "user_id" {
			next = append(next, bson.E{Key: k, Value: v})
		}
	}
	next = append(next, bson.E{Key: "user_id", Value: to})
	if kind == "settings" {
		_, err := s.prefs.UpdateOne(ctx, bson.D{{Key: "_id", Value: "settings:" + to}},
			bson.D{{Key: "$setOnInsert", Value: next}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongox.IsDuplicateKey(err) {
			return storeErr("reassign settings", err)
		}
		return nil
	}
	reg, _ := d["registration_id"].(string)
	_, err := s.prefs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "device:" + to + ":" + reg}},
		append(bson.D{{Key: "_id", Value: "device:" + to + ":" + reg}}, next...), options.Replace().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) {
		return storeErr("reassign device", err)
	}
	return nil
}

// mergeConsent adds from's remaining consents of a template to to's, once:
// to's document remembers the documents merged into it, and the filter
// leaves out one that has this one (a repeat then finds the _id taken and
// the insert fails as a duplicate, which means "done").
func (s *MongoStore) mergeConsent(ctx context.Context, fromID, to string, d bson.M, now time.Time) error {
	tmpl, _ := d["template_id"].(string)
	count := toInt(d["count"])
	id := consentID(to, tmpl)
	_, err := s.prefs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "merged_from", Value: bson.D{{Key: "$ne", Value: fromID}}}},
		bson.D{
			{Key: "$inc", Value: bson.D{{Key: "count", Value: count}}},
			{Key: "$addToSet", Value: bson.D{{Key: "merged_from", Value: fromID}}},
			{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "user_id", Value: to}, {Key: "kind", Value: "consent"},
				{Key: "template_id", Value: tmpl}, {Key: "last_result", Value: d["last_result"]}}},
		}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) {
		return storeErr("reassign consent", err)
	}
	// The counter stays an upper bound of what WeChat keeps.
	if _, err := s.prefs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "count", Value: bson.D{{Key: "$gt", Value: maxConsents}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: maxConsents}}}}); err != nil {
		return storeErr("reassign consent", err)
	}
	return nil
}

func toInt(v any) int {
	switch n := v.(type) {
	case int32:
		return int(n)
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
