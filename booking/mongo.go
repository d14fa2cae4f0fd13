package booking

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
	"zwfw/platform/workdays"
)

// Collection names of the booking store.
const (
	HallConfigsCollection  = "hall_configs"
	SlotCountersCollection = "slot_counters"
	BookingsCollection     = "bookings"
	KeysCollection         = "booking_keys"   // legacy active:<user>:<item> keys, moved into booking_users at start-up
	UsersCollection        = "booking_users"  // user:<id>: active count, active-item keys, no-shows
	QueuesCollection       = "booking_queues" // queue:<hall>:<date>
)

// MongoStore implements Store on MongoDB. Hot paths are reads and writes by
// deterministic _id; writes go through mongox.Collection, so a write whose
// filter checks the current state is atomic on the embedded FerretDB too.
type MongoStore struct {
	halls, slots, bookings, keys, users, queues *mongox.Collection
}

// NewMongoStore uses db's booking collections.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{
		halls:    mongox.C(db, HallConfigsCollection),
		slots:    mongox.C(db, SlotCountersCollection),
		bookings: mongox.C(db, BookingsCollection),
		keys:     mongox.C(db, KeysCollection),
		users:    mongox.C(db, UsersCollection),
		queues:   mongox.C(db, QueuesCollection),
	}
}

// EnsureIndexes creates the secondary indexes; idempotent, call at start-up.
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	if err := s.bookings.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "_id", Value: -1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "case_id", Value: 1}, {Key: "_id", Value: -1}}}, // a case's file
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "slot_end", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "check_in_code", Value: 1}}, Options: options.Index().SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "number", Value: 1}}, Options: options.Index().SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "updated_at", Value: 1}}}, // the self-check's recent writes
		hallDayIndex, // a hall's day on the clerks' screen
	); err != nil {
		return err
	}
	if err := s.slots.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "hall_id", Value: 1}, {Key: "item_code", Value: 1}, {Key: "start", Value: 1}}}); err != nil {
		return err
	}
	return s.moveLegacyActiveKeys(ctx)
}

// closureDoc stores a Closure with its dates as YYYY-MM-DD.
type closureDoc struct {
	From   string `bson:"from"`
	To     string `bson:"to"`
	Reason string `bson:"reason"`
}

// hallDoc is the stored form of a HallConfig.
type hallDoc struct {
	ID          string       `bson:"_id"`
	Name        string       `bson:"name"`
	Address     string       `bson:"address"`
	Lat         float64      `bson:"lat"`
	Lng         float64      `bson:"lng"`
	Phone       string       `bson:"phone"`
	Hours       string       `bson:"hours"`
	Windows     []Window     `bson:"windows"`
	Sessions    []Session    `bson:"sessions"`
	SlotMinutes int          `bson:"slot_minutes"`
	Closures    []closureDoc `bson:"closures"`
	Version     int64        `bson:"version"`
	UpdatedAt   time.Time    `bson:"updated_at"`
}

func toHallDoc(c *HallConfig) hallDoc {
	d := hallDoc{ID: c.ID, Name: c.Name, Address: c.Address, Lat: c.Lat, Lng: c.Lng, Phone: c.Phone, Hours: c.Hours,
		Windows: c.Windows, Sessions: c.Sessions, SlotMinutes: c.SlotMinutes, Closures: []closureDoc{},
		Version: c.Version, UpdatedAt: c.UpdatedAt}
	for _, cl := range c.Closures {
		d.Closures = append(d.Closures, closureDoc{From: cl.From.String(), To: cl.To.String(), Reason: cl.Reason})
	}
	return d
}

func (d hallDoc) config() (*HallConfig, error) {
	c := &HallConfig{ID: d.ID, Name: d.Name, Address: d.Address, Lat: d.Lat, Lng: d.Lng, Phone: d.Phone, Hours: d.Hours,
		Windows: d.Windows, Sessions: d.Sessions, SlotMinutes: d.SlotMinutes, Closures: []Closure{},
		Version: d.Version, UpdatedAt: d.UpdatedAt}
	for _, cl := range d.Closures {
		from, err := workdays.ParseDate(cl.From)
		if err != nil {
			return nil, err
		}
		to, err := workdays.ParseDate(cl.To)
		if err != nil {
			return nil, err
		}
		c.Closures = append(c.Closures, Closure{From: from, To: to, Reason: cl.Reason})
	}
	c.normalize()
	return c, nil
}

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// HallConfig implements Store.
func (s *MongoStore) HallConfig(ctx context.Context, hallID string) (*HallConfig, error) {
	var d hallDoc
	if err := s.halls.FindOne(ctx, byID(hallID)).Decode(&d); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrHallNotFound
		}
		return nil, err
	}
	return d.config()
}

// PutHallConfig implements Store.
func (s *MongoStore) PutHallConfig(ctx context.Context, cfg *HallConfig, prevVersion int64) error {
	if prevVersion == 0 {
		_, err := s.halls.InsertOne(ctx, toHallDoc(cfg))
		if mongox.IsDuplicateKey(err) {
			return apperr.Conflict
		}
		return err
	}
	return s.halls.ReplaceIfVersion(ctx, cfg.ID, prevVersion, toHallDoc(cfg))
}

// SetSlotCapacity implements Store.
func (s *MongoStore) SetSlotCapacity(ctx context.Context, hallID, itemCode string, from time.Time, capacity int) error {
	_, err := s.slots.UpdateMany(ctx, bson.D{
		{Key: "hall_id", Value: hallID}, {Key: "item_code", Value: itemCode},
		{Key: "start", Value: bson.D{{Key: "$gte", Value: from}}},
		{Key: "capacity", Value: bson.D{{Key: "$ne", Value: capacity}}},
	}, bson.D{{Key: "$set", Value: bson.D{{Key: "capacity", Value: capacity}}}})
	return err
}

// SlotCounters implements Store.
func (s *MongoStore) SlotCounters(ctx context.Context, ids []string) ([]SlotCounter, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cur, err := s.slots.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var out []SlotCounter
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// TakeSlot implements Store: an upsert with $setOnInsert creates the counter
// (and returns the stored capacity), then one guarded findOneAndUpdate takes
// a place where taken < capacity. That write decides: when its guard fails
// the slot was full at that instant. The guard names the capacity it read,
// so a concurrent capacity change makes it retry rather than overbook.
func (s *MongoStore) TakeSlot(ctx context.Context, c SlotCounter, at time.Time) (bool, error) {
	return s.takeSlot(ctx, c, at, false)
}

// TakeSlotFirstTry implements Store: the common case in one write (no
// counter yet, or one with the capacity the configuration names and a place
// left); otherwise (full, or another capacity) as TakeSlot.
func (s *MongoStore) TakeSlotFirstTry(ctx context.Context, c SlotCounter, at time.Time) (bool, error) {
	return s.takeSlot(ctx, c, at, true)
}

func (s *MongoStore) takeSlot(ctx context.Context, c SlotCounter, at time.Time, firstTry bool) (bool, error) {
	if !firstTry {
		return s.takeSlotRead(ctx, c, at)
	}
	// An upsert, so that a slot's first booking creates its counter in the
	// same write (capacity from the filter's equality, taken 1 from $inc);
	// on an existing counter that refuses, the insert collides on _id.
	err := s.slots.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: c.ID}, {Key: "capacity", Value: c.Capacity},
			{Key: "taken", Value: bson.D{{Key: "$lt", Value: c.Capacity}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "taken", Value: 1}}},
			{Key: "$set", Value: bson.D{{Key: "changed_at", Value: at}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "hall_id", Value: c.HallID}, {Key: "item_code", Value: c.ItemCode},
				{Key: "start", Value: c.Start}, {Key: "end", Value: c.End}}}},
		// After: with Before, an insert returns no document, which reads as a refusal.
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Err()
	if err == nil {
		return true, nil
	}
	if !mongox.IsNoDocuments(err) && !mongox.IsDuplicateKey(err) {
		return false, err
	}
	// Refused: full at that instant, unless the counter is missing or has
	// another capacity. A plain read (no write, so it waits on no other
	// write) tells which; only then the slower way.
	var now SlotCounter
	switch err := s.slots.FindOne(ctx, byID(c.ID)).Decode(&now); {
	case err == nil && now.Capacity == c.Capacity && now.Taken >= now.Capacity:
		return false, nil
	case err != nil && !mongox.IsNoDocuments(err):
		return false, err
	}
	return s.takeSlotRead(ctx, c, at)
}

// takeSlotRead reads the counter (creating it) and takes a place guarded by
// what it read.
func (s *MongoStore) takeSlotRead(ctx context.Context, c SlotCounter, at time.Time) (bool, error) {
	for range 5 {
		var cur SlotCounter
		err := s.slots.FindOneAndUpdate(ctx, byID(c.ID),
			bson.D{{Key: "$setOnInsert", Value: bson.D{
				{Key: "hall_id", Value: c.HallID}, {Key: "item_code", Value: c.ItemCode},
				{Key: "start", Value: c.Start}, {Key: "end", Value: c.End},
				{Key: "capacity", Value: c.Capacity}, {Key: "taken", Value: 0},
			}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&cur)
		if mongox.IsDuplicateKey(err) {
			continue // another process created it first (MongoDB); read it again
		}
		if err != nil {
			return false, err
		}
		if cur.Taken >= cur.Capacity {
			return false, nil
		}
		err = s.slots.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: c.ID}, {Key: "capacity", Value: cur.Capacity},
				{Key: "taken", Value: bson.D{{Key: "$lt", Value: cur.Capacity}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "taken", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "changed_at", Value: at}}}}).Err()
		if err == nil {
			return true, nil
		}
		if !mongox.IsNoDocuments(err) {
			return false, err
		}
		// The guard failed: the slot was full at that instant — unless an
		// admin changed its capacity meanwhile, then try with the new one.
		var now SlotCounter
		if err := s.slots.FindOne(ctx, byID(c.ID)).Decode(&now); err != nil {
			return false, err
		}
		if now.Capacity == cur.Capacity {
			return false, nil
		}
	}
	return false, apperr.Conflict
}

// ReleaseSlot implements Store.
func (s *MongoStore) ReleaseSlot(ctx context.Context, id string, at time.Time) error {
	_, err := s.slots.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "taken", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "taken", Value: -1}}}, {Key: "$set", Value: bson.D{{Key: "changed_at", Value: at}}}})
	return err
}

// RawIncrement is the baseline a booking is measured against: one guarded
// findOneAndUpdate $inc on one counter document. For benchmarks (and tests
// that make a counter drift).
func (s *MongoStore) RawIncrement(ctx context.Context, id string) error {
	return s.slots.FindOneAndUpdate(ctx, byID(id),
		bson.D{{Key: "$inc", Value: bson.D{{Key: "taken", Value: 1}}}}).Err()
}

type noShowDoc struct {
	BookingID string    `bson:"booking_id"`
	At        time.Time `bson:"at"`
}

type userDoc struct {
	ID        string      `bson:"_id"`
	Active    int         `bson:"active"`
	ChangedAt time.Time   `bson:"changed_at,omitempty"` // of active
	NoShows   []noShowDoc `bson:"no_shows"`
	// Items are the user's active-item keys: item field name (itemField)
	// -> the booking that holds it.
	Items map[string]string `bson:"items,omitempty"`
}

// RecordNoShow implements Store.
func (s *MongoStore) RecordNoShow(ctx context.Context, userID, bookingID string, at time.Time) error {
	return s.users.Atomically(ctx, func(ctx context.Context) error {
		var u userDoc
		err := s.users.FindOne(ctx, byID(userDocID(userID))).Decode(&u)
		if err != nil && !mongox.IsNoDocuments(err) {
			return err
		}
		for _, n := range u.NoShows {
			if n.BookingID == bookingID {
				return nil // recorded already
			}
		}
		_, err = s.users.UpdateOne(ctx, byID(userDocID(userID)),
			bson.D{
				{Key: "$push", Value: bson.D{{Key: "no_shows", Value: noShowDoc{BookingID: bookingID, At: at}}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "active", Value: 0}}},
			}, options.UpdateOne().SetUpsert(true))
		return err
	})
}

// NoShows implements Store.
func (s *MongoStore) NoShows(ctx context.Context, userID string) ([]time.Time, error) {
	var u userDoc
	if err := s.users.FindOne(ctx, byID(userDocID(userID))).Decode(&u); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]time.Time, 0, len(u.NoShows))
	for _, n := range u.NoShows {
		out = append(out, n.At)
	}
	return out, nil
}

// CreateBooking implements Store.
func (s *MongoStore) CreateBooking(ctx context.Context, b *Booking) error {
	_, err := s.bookings.InsertOne(ctx, b)
	if mongox.IsDuplicateKey(err) {
		// The random number (or, never in practice, the random id or
		// check-in code) is another booking's.
		return ErrNumberTaken
	}
	return err
}

func (s *MongoStore) findBooking(ctx context.Context, filter bson.D) (*Booking, error) {
	var b Booking
	if err := s.bookings.FindOne(ctx, filter).Decode(&b); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return &b, nil
}

// Booking implements Store.
func (s *MongoStore) Booking(ctx context.Context, id string) (*Booking, error) {
	return s.findBooking(ctx, byID(id))
}

// BookingByCode implements Store.
func (s *MongoStore) BookingByCode(ctx context.Context, code string) (*Booking, error) {
	return s.findBooking(ctx, bson.D{{Key: "check_in_code", Value: code}})
}

// SaveBooking implements Store.
func (s *MongoStore) SaveBooking(ctx context.Context, next *Booking, prevVersion int64) error {
	return s.bookings.ReplaceIfVersion(ctx, next.ID, prevVersion, next)
}

func (s *MongoStore) findBookings(ctx context.Context, filter, sort bson.D, limit int) ([]*Booking, error) {
	cur, err := s.bookings.Find(ctx, filter, options.Find().SetSort(sort).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []*Booking{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListByUser implements Store.
func (s *MongoStore) ListByUser(ctx context.Context, userID string, status Status, before string, limit int) ([]*Booking, error) {
	filter := bson.D{{Key: "user_id", Value: userID}}
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(status)})
	}
	if before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	return s.findBookings(ctx, filter, bson.D{{Key: "_id", Value: -1}}, limit)
}

// ConfirmedEndedBefore implements Store.
func (s *MongoStore) ConfirmedEndedBefore(ctx context.Context, t time.Time, limit int) ([]*Booking, error) {
	return s.findBookings(ctx,
		bson.D{{Key: "status", Value: string(StatusConfirmed)}, {Key: "slot_end", Value: bson.D{{Key: "$lt", Value: t}}}},
		bson.D{{Key: "slot_end", Value: 1}}, limit)
}

// NextQueueNumber implements Store with one guarded $inc returning the new value.
func (s *MongoStore) NextQueueNumber(ctx context.Context, hallID string, day workdays.Date) (int, error) {
	var q struct {
		Seq int `bson:"seq"`
	}
	var err error
	for range 3 {
		err = s.queues.FindOneAndUpdate(ctx, byID("queue:"+hallID+":"+day.String()),
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: 1}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&q)
		// Two first upserts from different processes can race; the loser retries.
		if !mongox.IsDuplicateKey(err) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	if q.Seq < 1 {
		return 0, errors.New("booking: queue counter returned no number")
	}
	return q.Seq, nil
}
