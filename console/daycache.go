package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/booking"
	"zwfw/platform/redisx"
	"zwfw/platform/workdays"
)

// DayCache keeps a hall's day of bookings for the hall screen, which every
// clerk of the hall reloads every minute and after every scan. On the
// embedded MongoDB a hall's day is a scan of every booking ever made (only
// _id look-ups are indexed there), so without it the screen slows down as
// the hall's history grows; on MongoDB it saves an index read.
//
// It is a read cache and never decides anything: a check-in is always
// decided by booking on MongoDB. What the clerk does on the console shows at
// once (Update); what happens elsewhere (a citizen books or cancels, the
// no-show sweep) shows within the cache's time to live.
type DayCache interface {
	// Get returns the cached day (false on a miss or a Redis failure).
	Get(ctx context.Context, hallID string, day workdays.Date) ([]*booking.Booking, bool)
	// Put caches the day as read from the store.
	Put(ctx context.Context, hallID string, day workdays.Date, list []*booking.Booking)
	// Update writes one booking's new state into its cached day, if that
	// day is cached and the booking is newer there (version).
	Update(ctx context.Context, b *booking.Booking)
}

// DayCacheTTL is how long a hall's day is kept: how late a change made
// elsewhere may show on the hall screen.
const DayCacheTTL = 30 * time.Second

// RedisDayCache is a DayCache in Redis: one hash per hall and day, two
// fields per booking (its version and its row), and a "_full" field that
// marks the day complete. Writes keep the newer version of a booking, so a
// slow Put never overwrites a check-in made meanwhile. Redis errors count
// as misses.
type RedisDayCache struct {
	rdb  redis.UniversalClient
	keys redisx.Keys
	ttl  time.Duration
	log  *slog.Logger
}

// NewRedisDayCache caches under keys for ttl (DayCacheTTL when zero).
func NewRedisDayCache(rdb redis.UniversalClient, keys redisx.Keys, ttl time.Duration, log *slog.Logger) *RedisDayCache {
	if ttl <= 0 {
		ttl = DayCacheTTL
	}
	if log == nil {
		log = slog.Default()
	}
	return &RedisDayCache{rdb: rdb, keys: keys, ttl: ttl, log: log}
}

// dayRow is what the hall screen needs of a booking: no owner, no check-in code.
type dayRow struct {
	ID          string     `json:"id"`
	Number      string     `json:"number"`
	HallID      string     `json:"hall"`
	ItemCode    string     `json:"item"`
	SlotStart   time.Time  `json:"start"`
	SlotEnd     time.Time  `json:"end"`
	Status      string     `json:"status"`
	QueueNumber int        `json:"queue,omitempty"`
	CheckedInAt *time.Time `json:"checked_in_at,omitempty"`
	Version     int64      `json:"version"`
}

func rowOf(b *booking.Booking) dayRow {
	return dayRow{ID: b.ID, Number: b.Number, HallID: b.HallID, ItemCode: b.ItemCode, SlotStart: b.SlotStart, SlotEnd: b.SlotEnd,
		Status: string(b.Status), QueueNumber: b.QueueNumber, CheckedInAt: b.CheckedInAt, Version: b.Version}
}

func (r dayRow) booking() *booking.Booking {
	return &booking.Booking{ID: r.ID, Number: r.Number, HallID: r.HallID, ItemCode: r.ItemCode, SlotStart: r.SlotStart,
		SlotEnd: r.SlotEnd, Status: booking.Status(r.Status), QueueNumber: r.QueueNumber, CheckedInAt: r.CheckedInAt, Version: r.Version}
}

func (c *RedisDayCache) key(hallID string, day workdays.Date) string {
	return c.keys.Key("console", "hallday", hallID, day.String())
}

// Get implements DayCache.
func (c *RedisDayCache) Get(ctx context.Context, hallID string, day workdays.Date) ([]*booking.Booking, bool) {
	m, err := c.rdb.HGetAll(ctx, c.key(hallID, day)).Result()
	if err != nil {
		c.log.Warn("hall day cache: get", "err", err)
		return nil, false
	}
	if m["_full"] == "" {
		return nil, false
	}
	out := make([]*booking.Booking, 0, len(m)/2)
	for f, v := range m {
		if !strings.HasPrefix(f, "b:") {
			continue
		}
		var r dayRow
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, false
		}
		out = append(out, r.booking())
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SlotStart.Equal(out[j].SlotStart) {
			return out[i].SlotStart.Before(out[j].SlotStart)
		}
		return out[i].ID < out[j].ID
	})
	return out, true
}

// putScript stores each booking not older than the one cached, marks the
// day complete and sets its time to live. ARGV: ttl in ms, then id,
// version, row for each booking.
var putScript = redis.NewScript(`
for i = 2, #ARGV, 3 do
  local cur = tonumber(redis.call('HGET', KEYS[1], 'v:' .. ARGV[i]) or '0')
  if cur < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], 'v:' .. ARGV[i], ARGV[i + 1], 'b:' .. ARGV[i], ARGV[i + 2])
  end
end
redis.call('HSET', KEYS[1], '_full', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)

// updateScript stores one booking if its day is cached and the booking is
// newer than the cached one. ARGV: id, version, row.
var updateScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], '_full') == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'v:' .. ARGV[1]) or '0')
if cur >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'v:' .. ARGV[1], ARGV[2], 'b:' .. ARGV[1], ARGV[3])
return 1`)

// Put implements DayCache.
func (c *RedisDayCache) Put(ctx context.Context, hallID string, day workdays.Date, list []*booking.Booking) {
	args := make([]any, 0, 1+3*len(list))
	args = append(args, strconv.FormatInt(c.ttl.Milliseconds(), 10))
	for _, b := range list {
		row, err := json.Marshal(rowOf(b))
		if err != nil {
			return
		}
		args = append(args, b.ID, strconv.FormatInt(b.Version, 10), string(row))
	}
	if err := putScript.Run(ctx, c.rdb, []string{c.key(hallID, day)}, args...).Err(); err != nil {
		c.log.Warn("hall day cache: put", "err", err)
	}
}

// Update implements DayCache.
func (c *RedisDayCache) Update(ctx context.Context, b *booking.Booking) {
	row, err := json.Marshal(rowOf(b))
	if err != nil {
		return
	}
	key := c.key(b.HallID, workdays.DateOf(b.SlotStart))
	if err := updateScript.Run(ctx, c.rdb, []string{key}, b.ID, strconv.FormatInt(b.Version, 10), string(row)).Err(); err != nil {
		c.log.Warn("hall day cache: update", "err", err)
		// A cached day that may now be wrong is dropped (best effort).
		_ = c.rdb.Del(ctx, key).Err()
	}
}
