package bff

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything zwfw reads at start-up. It comes from environment
// variables, optionally preceded by a KEY=VALUE file named by ZWFW_CONFIG_FILE
// (the environment wins). Every variable is declared once, in settings
// (config_table.go): its name, default, meaning and when production needs
// it. README.md's configuration table is generated from there.
type Config struct {
	ConfigFile    string // ZWFW_CONFIG_FILE
	Addr          string // ZWFW_ADDR
	DataDir       string // ZWFW_DATA_DIR: embedded MongoDB files and generated keys
	MongoURI      string // MONGODB_URI; empty = embedded FerretDB
	MongoDatabase string // MONGODB_DATABASE
	RedisURL      string // REDIS_URL; empty = embedded miniredis
	RedisPrefix   string // ZWFW_REDIS_PREFIX

	// Sandbox runs the outside-system fakes in-process: by default only for
	// the embedded default (no MONGODB_URI), else only with ZWFW_SANDBOX=on.
	Sandbox     bool   // ZWFW_SANDBOX
	SandboxAddr string // ZWFW_SANDBOX_ADDR
	// SeedDemo seeds demo data: by default only for the embedded default
	// with the sandbox; never into a real MongoDB unless ZWFW_SEED_DEMO=on.
	SeedDemo bool // ZWFW_SEED_DEMO

	LogLevel        string        // ZWFW_LOG_LEVEL: debug|info|warn|error
	BodyLimit       int           // ZWFW_BODY_LIMIT: max request body in bytes (uploads included)
	JSONBodyLimit   int           // ZWFW_JSON_BODY_LIMIT: max JSON body in bytes
	CORSOrigins     string        // ZWFW_CORS_ORIGINS: comma-separated origins of the H5 pages
	TrustedProxies  string        // ZWFW_TRUSTED_PROXIES: comma-separated IPs/CIDRs whose X-Forwarded-For is believed
	ShutdownTimeout time.Duration // ZWFW_SHUTDOWN_TIMEOUT

	// AccessLogSample is the fraction of successful, fast requests whose
	// access log line is written; failures and slow ones always are.
	AccessLogSample float64       // ZWFW_ACCESS_LOG_SAMPLE
	AccessLogSlow   time.Duration // ZWFW_ACCESS_LOG_SLOW
	// DebugAddr is the admin-only pprof listener; empty = off.
	DebugAddr string // ZWFW_DEBUG_ADDR

	RatePerIP    int // ZWFW_RATE_PER_IP: requests per minute per client IP
	RatePerUser  int // ZWFW_RATE_PER_USER: requests per minute per logged-in user
	RateLoginIP  int // ZWFW_RATE_LOGIN_PER_IP: login attempts per minute per IP
	RateSMSPerIP int // ZWFW_RATE_SMS_PER_IP: SMS sends per hour per IP

	JWTSecret     string // ZWFW_JWT_SECRET: hex, >= 32 bytes
	SM4Key        string // ZWFW_SM4_KEY: hex, 16 bytes
	BlindIndexKey string // ZWFW_BLIND_INDEX_KEY: hex, >= 32 bytes

	WeChatAPIBase   string // WECHAT_API_BASE
	WeChatAppID     string // WECHAT_MINIPROGRAM_APPID
	WeChatAppSecret string // WECHAT_MINIPROGRAM_SECRET

	SMSEndpoint        string // SMS_ENDPOINT
	SMSAccessKeyID     string // SMS_ACCESS_KEY_ID
	SMSAccessKeySecret string // SMS_ACCESS_KEY_SECRET
	SMSSignName        string // SMS_SIGN_NAME
	SMSTemplateLogin   string // SMS_TEMPLATE_LOGIN

	ProvinceBaseURL    string // PROVINCE_BASE_URL
	ProvinceAppKey     string // PROVINCE_APP_KEY
	ProvinceAppSecret  string // PROVINCE_APP_SECRET
	ProvinceSignMethod string // PROVINCE_SIGN_METHOD: HMAC-SM3 (default) | HMAC-SHA256
	// How long catalog data is fresh, and how long a stale copy may stand in
	// while the province is down.
	ProvinceCacheFresh    time.Duration // PROVINCE_CACHE_FRESH
	ProvinceCacheMaxStale time.Duration // PROVINCE_CACHE_MAX_STALE
	// How long an open breaker refuses calls before it lets one probe through.
	ProvinceBreakerOpen time.Duration // PROVINCE_BREAKER_OPEN_TIMEOUT

	JobConcurrency int // ZWFW_JOB_CONCURRENCY
	// JobLease is how long a claimed job is leased (renewed every third of
	// it while the handler runs): a killed replica's jobs wait this long.
	JobLease time.Duration // ZWFW_JOB_LEASE

	// PublicBaseURL is where outside systems reach zwfw's callbacks (payment
	// notifies, courier pushes); default the address it listens on.
	PublicBaseURL string // ZWFW_PUBLIC_BASE_URL
	// H5ReturnURL is where a mobile browser returns after an Alipay WAP payment.
	H5ReturnURL string // ZWFW_H5_RETURN_URL
	// H5BaseURL is where the H5 pages are: the base of deep links for mobile
	// browsers and SMS (the first CORS origin when unset).
	H5BaseURL string // ZWFW_H5_BASE_URL
	// AppScheme is the app's URL scheme: app deep links are <scheme>://<path>.
	AppScheme string // ZWFW_APP_SCHEME

	WeChatPayAPIBase       string // WECHATPAY_API_BASE (default https://api.mch.weixin.qq.com)
	WeChatPaySecureAPIBase string // WECHATPAY_SECURE_API_BASE (the /secapi/ host; default the same)
	WeChatPayMchID         string // WECHATPAY_MCH_ID
	WeChatPayKey           string // WECHATPAY_API_KEY
	WeChatPayAppAppID      string // WECHATPAY_APP_APPID: the mobile app's open-platform app id
	WeChatPaySignType      string // WECHATPAY_SIGN_TYPE: MD5 (default) | HMAC-SHA256
	WeChatPayCertFile      string // WECHATPAY_CERT_P12_FILE: the merchant's apiclient_cert.p12
	// WeChatPayRootCAFile (PEM) is what the /secapi/ server's certificate is
	// checked against; empty = the system roots.
	WeChatPayRootCAFile string // WECHATPAY_ROOT_CA_FILE

	AlipayAppID          string // ALIPAY_APP_ID
	AlipayPrivateKeyFile string // ALIPAY_APP_PRIVATE_KEY_FILE (PEM)
	AlipayPublicKeyFile  string // ALIPAY_PUBLIC_KEY_FILE (PEM, Alipay's public key)
	AlipayGateway        string // ALIPAY_GATEWAY: empty = production

	NonTaxBaseURL    string // NONTAX_BASE_URL
	NonTaxAppKey     string // NONTAX_APP_KEY
	NonTaxAppSecret  string // NONTAX_APP_SECRET
	NonTaxSignMethod string // NONTAX_SIGN_METHOD: HMAC-SM3 (default) | HMAC-SHA256

	// A channel order can be paid for PayOrderTTL; one without news is first
	// queried after PayQueryAfter, then every PayQueryEvery.
	PayOrderTTL   time.Duration // ZWFW_PAY_ORDER_TTL
	PayQueryAfter time.Duration // ZWFW_PAY_QUERY_AFTER
	PayQueryEvery time.Duration // ZWFW_PAY_QUERY_EVERY

	CourierBaseURL  string // COURIER_BASE_URL (Kuaidi100-style aggregator; default https://poll.kuaidi100.com)
	CourierCustomer string // KUAIDI100_CUSTOMER
	CourierKey      string // KUAIDI100_KEY
	CourierSecret   string // KUAIDI100_SECRET
	CourierCarrier  string // COURIER_CARRIER: company code pickups are booked with (default ems)
	// The halls' mail desk: the receiver of materials and the sender of
	// results (couriers need a mobile number).
	HallMailPhone string // ZWFW_HALL_MAIL_PHONE
	HallProvince  string // ZWFW_HALL_PROVINCE (default 福建省)
	// Shipments without news for ShipmentPollStaleAfter are asked about
	// every ShipmentPollEvery (the safety net for lost pushes).
	ShipmentPollEvery      time.Duration // ZWFW_SHIPMENT_POLL_EVERY
	ShipmentPollStaleAfter time.Duration // ZWFW_SHIPMENT_POLL_STALE_AFTER
	// SandboxCourierStep moves the sandbox's parcels one step this often
	// (0: only the controls move them).
	SandboxCourierStep time.Duration // ZWFW_SANDBOX_COURIER_STEP

	PushBaseURL      string // JPUSH_BASE_URL (default https://api.jpush.cn)
	PushAppKey       string // JPUSH_APP_KEY
	PushMasterSecret string // JPUSH_MASTER_SECRET
	// WeChatTemplates maps the default subscribe-message template names to
	// the mini-program's real template ids: "tmpl_booking_reminder=abc,..."
	WeChatTemplates string // WECHAT_SUBSCRIBE_TEMPLATES
	// WeChatMiniState is the mini-program version a message opens: formal | trial | developer.
	WeChatMiniState string // WECHAT_MINIPROGRAM_STATE

	// SandboxClock is the embedded sandbox's clock (tests step it to close a
	// day's bills); not read from the environment. Nil = the wall clock.
	SandboxClock func() time.Time
	// SandboxRetryDelays shortens the fakes' notify and push retries (tests).
	SandboxRetryDelays []time.Duration
	// HomeBudget, when set, is every home-screen source's time budget
	// (tests that compare two screens; 0 = home.DefaultBudgets).
	HomeBudget time.Duration
	// RefreshReuseGrace overrides identity's grace for a concurrent copy of
	// a refresh (tests; 0 = identity's default, negative = none).
	RefreshReuseGrace time.Duration
	// ProvinceOutageRetry is the delay between submission attempts while the
	// province is unreachable (tests; nil = 5-30 s, jittered).
	ProvinceOutageRetry func() time.Duration
	// OutboxRelayOff stops this process from relaying outbox events (crash
	// tests: the work is abandoned between the state write and the relay).
	OutboxRelayOff bool
	// MergeStopAfterSteps stops person merges in this process after that
	// many steps (crash tests; 0 = off): see identity.MergeOptions.
	MergeStopAfterSteps int

	// The case poller asks the province about cases not synced for
	// CasePollStaleAfter, every CasePollEvery (a safety net for lost callbacks).
	CasePollEvery      time.Duration // ZWFW_CASE_POLL_EVERY
	CasePollStaleAfter time.Duration // ZWFW_CASE_POLL_STALE_AFTER

	// SupervisionWarnDays: a case in progress is yellow (预警) in the last
	// this many working days of its time limit (0: no warning).
	SupervisionWarnDays int // ZWFW_SUPERVISION_WARN_DAYS
	// ConsoleIdleTimeout ends a staff console session unused this long.
	ConsoleIdleTimeout time.Duration // ZWFW_CONSOLE_IDLE_TIMEOUT
	// RectifyMaxLevel is the worst 好差评 level that is not a 差评: an
	// evaluation at or below it opens a rectification (1-5).
	RectifyMaxLevel int // ZWFW_RECTIFY_MAX_LEVEL
	// BookingClock is the clock of booking and of the console's hall day
	// (tests pin a hall's working day); not read from the environment.
	// Nil = the wall clock.
	BookingClock func() time.Time
}

// EmbeddedMongo reports whether zwfw starts its own FerretDB.
func (c Config) EmbeddedMongo() bool { return c.MongoURI == "" }

// EmbeddedRedis reports whether zwfw starts its own miniredis.
func (c Config) EmbeddedRedis() bool { return c.RedisURL == "" }

// Mode is the one-line description of what zwfw talks to, for the banner.
func (c Config) Mode() string {
	switch {
	case c.Sandbox && c.EmbeddedMongo():
		return "sandbox: embedded default, fake outside systems in-process" + demoNote(c.SeedDemo)
	case c.Sandbox:
		return "sandbox on a real MongoDB (ZWFW_SANDBOX=on): fake outside systems in-process, no real payments" + demoNote(c.SeedDemo)
	default:
		return "production: every outside system at its configured endpoint" + demoNote(c.SeedDemo)
	}
}

func demoNote(seed bool) string {
	if seed {
		return ", demo data seeded"
	}
	return ", no demo data"
}

// LoadConfig reads the configuration from getenv (os.Getenv in production).
func LoadConfig(getenv func(string) string) (Config, error) {
	env := getenv
	if path := getenv("ZWFW_CONFIG_FILE"); path != "" {
		file, err := readEnvFile(path)
		if err != nil {
			return Config{}, err
		}
		env = func(k string) string {
			if v := getenv(k); v != "" {
				return v
			}
			return file[k]
		}
	}
	var c Config
	for _, s := range settings {
		v := strings.TrimSpace(env(s.name))
		if v == "" {
			v = s.def
		}
		if err := s.read(&c, v); err != nil {
			return Config{}, fmt.Errorf("%s: %w, got %q", s.name, err, v)
		}
	}
	// The modes are explicit: only the embedded default asks for the
	// sandbox, and demo data goes only where the sandbox is embedded too.
	sandbox, err := onOff(env("ZWFW_SANDBOX"), c.EmbeddedMongo())
	if err != nil {
		return Config{}, fmt.Errorf("ZWFW_SANDBOX: %w", err)
	}
	c.Sandbox = sandbox
	if c.SeedDemo, err = onOff(env("ZWFW_SEED_DEMO"), c.EmbeddedMongo() && c.Sandbox); err != nil {
		return Config{}, fmt.Errorf("ZWFW_SEED_DEMO: %w", err)
	}
	if c.Sandbox && c.HallMailPhone == "" {
		c.HallMailPhone = "13959100000" // the sandbox halls' mail desk (a made-up mobile; the sandbox courier needs one)
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var missing []string
	for _, s := range settings {
		if s.requiredIn(c) && strings.TrimSpace(s.value(c)) == "" {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		why := "with ZWFW_SANDBOX=off"
		if !c.EmbeddedMongo() {
			why = "with MONGODB_URI set and the sandbox off (ZWFW_SANDBOX=on only for a test deployment)"
		}
		return fmt.Errorf("%s these must be set: %s", why, strings.Join(missing, ", "))
	}
	if c.BodyLimit < c.JSONBodyLimit {
		return fmt.Errorf("ZWFW_BODY_LIMIT (%d) must not be below ZWFW_JSON_BODY_LIMIT (%d)", c.BodyLimit, c.JSONBodyLimit)
	}
	return nil
}

// onOff parses a switch; empty means def.
func onOff(v string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def, nil
	case "1", "true", "on", "yes":
		return true, nil
	case "0", "false", "off", "no":
		return false, nil
	}
	return def, fmt.Errorf("want on or off, got %q", v)
}

func parseCount(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a non-negative integer")
	}
	return n, nil
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration like 20s")
	}
	return d, nil
}

// readEnvFile reads KEY=VALUE lines; blank lines and # comments are skipped.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ZWFW_CONFIG_FILE: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("ZWFW_CONFIG_FILE %s:%d: want KEY=VALUE", path, n)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out, sc.Err()
}
