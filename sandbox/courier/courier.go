// Package courier fakes a courier aggregator in the style of Kuaidi100
// (快递100), the way Chinese government platforms book 上门取件 and follow
// parcels through one aggregator instead of one API per carrier. It serves
// Kuaidi100's wire formats under BasePath (/courier), so a client's base URL
// is <sandbox URL>/courier where production uses https://poll.kuaidi100.com:
//
//   - POST /courier/order/borderapi.do method=bOrder: book a pickup (商家寄件,
//     官方快递). Form fields method, key, t (milliseconds), param (JSON) and
//     sign = upper(md5(param + t + key + secret)). The answer carries taskId,
//     orderId, kuaidinum (waybill number) and kuaidicom (carrier code).
//     param.thirdOrderId is the caller's own order reference: the same one
//     within 48 hours answers the first order again instead of booking a
//     second pickup, as Kuaidi100 documents. op="1" with pollCallBackUrl
//     subscribes the waybill's tracking at once.
//   - POST /courier/order/borderapi.do method=cancel: cancel a pickup (param
//     taskId, orderId, cancelMsg), same signature; only before the courier
//     has collected the parcel.
//   - POST /courier/poll/query.do: real-time query (实时快递查询). Form
//     fields customer, param (JSON {com, num, phone, resultv2, order}) and
//     sign = upper(md5(param + key + customer)).
//   - POST /courier/poll: subscribe (订阅推送). Form fields schema=json and
//     param (JSON {company, number, key, parameters:{callbackurl, salt,
//     phone, resultv2}}); answers {result, returnCode, message}.
//   - pushes: on every change of a subscribed parcel the fake POSTs the form
//     fields param (JSON {status, billstatus, message, autoCheck, comOld,
//     comNew, lastResult:{message, state, status, condition, ischeck, com,
//     nu, data[]}}) and sign = upper(md5(param + salt)) to the callback URL,
//     and retries (PushRetryDelays) until the answer is
//     {"result":true,"returnCode":"200","message":"成功"}.
//
// Every answer of the emulated API is HTTP 200 with a JSON body; failures
// carry result=false and Kuaidi100's returnCode (see codes.go; codes that
// Kuaidi100 does not publish are marked as the sandbox's own).
//
// Parcels move through Kuaidi100's states (state: 0 在途, 1 揽收, 2 疑难,
// 3 签收, 4 退签, 5 派件, 6 退回, 7 转投, 8 清关, 14 拒签) with realistic
// Chinese track texts, one event per step: created (no track yet) →
// 揽收 → 在途 (several hubs) → 派件 → 签收; the "exception" scenario adds a
// 疑难 failed delivery before the parcel is signed for, the "returned"
// scenario ends with 拒签 → 退回 → 退签. Steps happen when a tester (or a
// test) advances a parcel, or on the fake clock when AutoAdvance is set.
//
// Sandbox-only routes under /sandbox/courier/ list orders, parcels and
// pushes, advance parcels and inject push faults (off, drop, duplicate,
// reorder), per fake or per waybill. docs/sandbox.md shows each with curl.
package courier

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"zwfw/sandbox/fake"
)

// Protocol constants.
const (
	// BasePath is where the emulated API is mounted on the sandbox server.
	BasePath = "/courier"
	// MaxSkew is how far a pickup request's t may be from the fake's clock
	// (the sandbox's choice: Kuaidi100 does not publish its window).
	MaxSkew = 10 * time.Minute
	// IdempotencyWindow is how long a thirdOrderId answers its first order
	// (Kuaidi100: "48小时内返回第一次下单内容").
	IdempotencyWindow = 48 * time.Hour
	// TimeLayout is how Kuaidi100 writes track times (Asia/Shanghai).
	TimeLayout = "2006-01-02 15:04:05"
)

// DefaultPushRetryDelays are the waits before the 2nd, 3rd and 4th attempt
// to deliver a push.
var DefaultPushRetryDelays = []time.Duration{2 * time.Second, 10 * time.Second, 60 * time.Second}

// Options configures the fake.
type Options struct {
	// Customer, Key and Secret of the one account (zwfw) the fake knows;
	// generated when empty.
	Customer, Key, Secret string
	Now                   fake.Clock // default time.Now
	Logger                *slog.Logger
	// PushRetryDelays: waits between push attempts; nil =
	// DefaultPushRetryDelays (4 attempts in all), empty = no retries.
	PushRetryDelays []time.Duration
	// HTTPClient delivers pushes; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// AutoAdvance, when positive, moves every parcel one step each time
	// this much time has passed on the fake clock since its last step
	// (a pickup booked at 10:00 is collected at 10:00+AutoAdvance). Tick
	// applies it; a background loop calls Tick every TickEvery.
	AutoAdvance time.Duration
	// TickEvery is how often the background loop calls Tick when
	// AutoAdvance is set; default 1 s. Negative: no loop (tests call Tick).
	TickEvery time.Duration
	// Seed makes the drop fault's choices and the generated names
	// repeatable; 0 = a random seed.
	Seed uint64
}

// Server is the fake aggregator. All state is in memory under one mutex.
type Server struct {
	customer, key, secret string
	now                   fake.Clock
	log                   *slog.Logger
	httpClient            *http.Client
	retryDelays           []time.Duration
	autoAdvance           time.Duration

	ctx    context.Context // cancelled by Close: stops ticking, deliveries and retries
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  *pushQueue

	mu       sync.Mutex
	rng      *rand.Rand
	orders   map[string]*order  // by orderId
	orderSeq []string           // orderIds, oldest first
	third    map[string]*order  // by thirdOrderId
	parcels  map[string]*parcel // by waybill number
	parcelSq []string           // waybill numbers, oldest first
	subs     map[subKey]*subscription
	faults   map[string]PushFault // by waybill number; "" = the whole fake
	pushes   []*Push
	pushSeq  int
}

// New creates the fake, generating the account's credentials when not
// given. Close stops its background work.
func New(opts Options) *Server {
	if opts.Customer == "" {
		// Kuaidi100 customer ids are 32 upper-case hex characters.
		opts.Customer = upperHex(32)
	}
	if opts.Key == "" {
		opts.Key = fake.RandomString(fake.Alphanumeric, 16)
	}
	if opts.Secret == "" {
		opts.Secret = fake.RandomString(fake.Hex, 32)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.PushRetryDelays == nil {
		opts.PushRetryDelays = DefaultPushRetryDelays
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		customer: opts.Customer, key: opts.Key, secret: opts.Secret,
		now: opts.Now.OrWall(), log: opts.Logger,
		httpClient: opts.HTTPClient, retryDelays: opts.PushRetryDelays,
		autoAdvance: opts.AutoAdvance,
		ctx:         ctx, cancel: cancel,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		orders: map[string]*order{}, third: map[string]*order{},
		parcels: map[string]*parcel{}, subs: map[subKey]*subscription{},
		faults: map[string]PushFault{},
	}
	s.queue = newPushQueue()
	s.wg.Add(1)
	go s.deliverLoop()
	if opts.AutoAdvance > 0 && opts.TickEvery >= 0 {
		every := opts.TickEvery
		if every == 0 {
			every = time.Second
		}
		s.wg.Add(1)
		go s.tickLoop(every)
	}
	return s
}

// Customer is the account's customer id (KUAIDI100_CUSTOMER).
func (s *Server) Customer() string { return s.customer }

// Key is the account's authorization key (KUAIDI100_KEY).
func (s *Server) Key() string { return s.key }

// Secret signs pickup-order requests (KUAIDI100_SECRET).
func (s *Server) Secret() string { return s.secret }

// Close stops the tick loop, pending push retries and deliveries in
// flight, and waits for them. The fake answers API calls after Close but
// pushes nothing more.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Register adds the emulated API under BasePath and the /sandbox/courier/
// controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+BasePath+"/order/borderapi.do", s.borderAPI)
	mux.HandleFunc("POST "+BasePath+"/poll/query.do", s.query)
	mux.HandleFunc("GET "+BasePath+"/poll/query.do", s.query)
	mux.HandleFunc("POST "+BasePath+"/poll", s.subscribe)
	mux.HandleFunc(BasePath+"/", s.unknownAPI)

	mux.HandleFunc("GET /sandbox/courier/orders", s.getOrders)
	mux.HandleFunc("GET /sandbox/courier/parcels", s.getParcels)
	mux.HandleFunc("POST /sandbox/courier/parcels", s.postParcel)
	mux.HandleFunc("GET /sandbox/courier/parcels/{num}", s.getParcel)
	mux.HandleFunc("POST /sandbox/courier/parcels/{num}/advance", s.postAdvance)
	mux.HandleFunc("POST /sandbox/courier/advance", s.postAdvanceAll)
	mux.HandleFunc("GET /sandbox/courier/faults", s.getFaults)
	mux.HandleFunc("POST /sandbox/courier/faults", s.postFault)
	mux.HandleFunc("DELETE /sandbox/courier/faults", s.deleteFaults)
	mux.HandleFunc("GET /sandbox/courier/pushes", s.getPushes)
}

// Handler serves the fake alone.
func (s *Server) Handler() http.Handler { return fake.Mux(s) }

// Describe implements fake.Fake.
func (s *Server) Describe() fake.Description {
	return fake.Description{
		Name:     "courier",
		Emulates: "courier aggregator in Kuaidi100's style (快递100): pickup orders, real-time tracking query, subscriptions and signed pushes",
		API: []fake.Endpoint{
			{Method: "POST", Path: BasePath + "/order/borderapi.do", What: "method=bOrder books a pickup (上门取件), method=cancel cancels it before collection; form method, key, t, param, sign=upper(md5(param+t+key+secret))"},
			{Method: "POST", Path: BasePath + "/poll/query.do", What: "real-time tracking query; form customer, param {com,num,phone,resultv2,order}, sign=upper(md5(param+key+customer))"},
			{Method: "POST", Path: BasePath + "/poll", What: "subscribe to pushes; form schema=json, param {company,number,key,parameters:{callbackurl,salt,phone,resultv2}}"},
		},
		Controls: []fake.Endpoint{
			{Method: "GET", Path: "/sandbox/courier/orders", What: "pickup orders, oldest first, with their parcel's state"},
			{Method: "GET", Path: "/sandbox/courier/parcels", What: "every parcel with its track events, oldest first"},
			{Method: "POST", Path: "/sandbox/courier/parcels", What: `create a parcel without a pickup (a waybill written at a hall): {"com":"ems","num":"","phone":"13800138000","from":"福建省福州市鼓楼区","to":"福建省厦门市思明区","scenario":"normal"}`},
			{Method: "GET", Path: "/sandbox/courier/parcels/{num}", What: "one parcel and its plan"},
			{Method: "POST", Path: "/sandbox/courier/parcels/{num}/advance", What: `move one parcel: {"steps":1,"scenario":"normal|exception|returned"} (empty body = one step)`},
			{Method: "POST", Path: "/sandbox/courier/advance", What: "move every parcel in flight one step"},
			{Method: "POST", Path: "/sandbox/courier/faults", What: `push faults: {"number":"" (all) or a waybill,"mode":"off|drop|duplicate|reorder|none","drop_rate":0.5}`},
			{Method: "GET", Path: "/sandbox/courier/faults", What: "push faults in force"},
			{Method: "DELETE", Path: "/sandbox/courier/faults", What: "remove every push fault"},
			{Method: "GET", Path: "/sandbox/courier/pushes?number=", What: "pushes made, oldest first, with outcome (delivered, retrying, gave_up, dropped, off, held) and attempts"},
		},
		Info: map[string]string{"customer": s.customer, "base_path": BasePath, "carriers": carrierList()},
		Notes: []string{
			"every answer is HTTP 200 with {result, returnCode, message} on failure, as Kuaidi100 answers",
			"param.thirdOrderId makes bOrder idempotent: the same id within 48 h answers the first order",
			"a parcel has no track until it is collected (query answers returnCode 500 查询无结果); advance it to move it along",
			"shunfeng and shunfengkuaiyun need phone (full or last 4 digits of the sender's or receiver's mobile) to query or subscribe",
		},
	}
}

// chinaTime is UTC+8 without tzdata: Kuaidi100 writes times in China's
// local time, which has had no daylight saving since 1991.
var chinaTime = time.FixedZone("CST", 8*3600)

// upperHex returns n random upper-case hex characters.
func upperHex(n int) string { return fake.RandomString("0123456789ABCDEF", n) }
