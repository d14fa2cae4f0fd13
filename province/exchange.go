package province

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"zwfw/platform/mongox"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ExchangesCollection is the MongoDB collection of the exchange log.
const ExchangesCollection = "province_exchanges"

// Results of a call, in the exchange log and the calls_total metric.
const (
	ResultOK          = "ok"
	ResultError       = "error"        // the province answered with an error, or the transport failed
	ResultTimeout     = "timeout"      // no answer within the group's timeout
	ResultBreakerOpen = "breaker_open" // not sent: the group's circuit breaker is open
	ResultBadResponse = "bad_response" // unsigned, badly signed or malformed answer
)

// Exchange is one row of the exchange log (collection province_exchanges):
// one HTTP exchange with the province, or one call refused by an open
// breaker. Like an X-Road security server's log it says who called what,
// when and how it went — and holds no personal data: the endpoint is the
// route template (never a path with an ID number in it), and no body is kept.
type Exchange struct {
	ID            bson.ObjectID `bson:"_id"`
	At            time.Time     `bson:"at"`
	Group         string        `bson:"group"`
	Endpoint      string        `bson:"endpoint"` // route template, e.g. /api/catalog/items/{code}
	Method        string        `bson:"method"`
	Caller        string        `bson:"caller"` // zwfw user id or "system"
	CorrelationID string        `bson:"correlation_id"`
	Status        int           `bson:"status"` // HTTP status; 0 when nothing came back
	Result        string        `bson:"result"` // ok, error, timeout, breaker_open, bad_response
	LatencyMS     int64         `bson:"latency_ms"`
	ErrorCode     string        `bson:"error_code,omitempty"`    // zwfw's code
	ProvinceCode  string        `bson:"province_code,omitempty"` // the province's code, when it sent one
	RequestID     string        `bson:"request_id,omitempty"`    // the province's request_id, to quote to its operators
	Attempt       int           `bson:"attempt"`                 // 1 for the first try of a call
}

// exchangeLog writes Exchange rows through a bounded buffer and one
// background writer, so a slow MongoDB never slows a call: when the buffer
// is full the row is dropped and counted.
type exchangeLog struct {
	coll *mongox.Collection
	log  *slog.Logger
	m    *metrics

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
	ch     chan Exchange
	done   chan struct{}
}

const exchangeBatch = 100

func newExchangeLog(db *mongo.Database, size int, log *slog.Logger, m *metrics) *exchangeLog {
	e := &exchangeLog{
		coll: mongox.C(db, ExchangesCollection),
		log:  log,
		m:    m,
		ch:   make(chan Exchange, size),
		done: make(chan struct{}),
	}
	go e.run()
	return e
}

// record queues x without blocking; it is dropped when the buffer is full.
func (e *exchangeLog) record(x Exchange) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.m.exchangeDropped.Inc()
		return
	}
	select {
	case e.ch <- x:
	default:
		e.m.exchangeDropped.Inc()
	}
}

func (e *exchangeLog) run() {
	defer close(e.done)
	e.ensureIndexes()
	batch := make([]any, 0, exchangeBatch)
	for x := range e.ch {
		batch = append(batch[:0], x)
	fill:
		for len(batch) < exchangeBatch {
			select {
			case y, ok := <-e.ch:
				if !ok {
					break fill
				}
				batch = append(batch, y)
			default:
				break fill
			}
		}
		e.write(batch)
	}
}

func (e *exchangeLog) write(batch []any) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.coll.InsertMany(ctx, batch, options.InsertMany().SetOrdered(false))
	if err != nil {
		lost := len(batch)
		if res != nil {
			lost -= len(res.InsertedIDs)
		}
		e.m.exchangeFailed.Add(float64(lost))
		e.log.Warn("province exchange log write failed", "err", err, "lost", lost)
	}
}

// ensureIndexes makes the look-ups operators need cheap: by time, and by
// correlation id. Failure only costs speed. (No TTL index: the embedded
// FerretDB has none; retention is a job's work.)
func (e *exchangeLog) ensureIndexes() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := e.coll.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "correlation_id", Value: 1}}},
	)
	if err != nil {
		e.log.Warn("province exchange log indexes", "err", err)
	}
}

// close stops accepting rows and waits until the queued ones are written or
// ctx ends.
func (e *exchangeLog) close(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.ch)
	}
	e.mu.Unlock()
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PurgeExchanges deletes exchange-log rows recorded before cutoff; the daily
// housekeeping job calls it (no TTL indexes on the embedded store).
func (c *Client) PurgeExchanges(ctx context.Context, cutoff time.Time) (int64, error) {
	if c.exch == nil {
		return 0, nil
	}
	res, err := c.exch.coll.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
