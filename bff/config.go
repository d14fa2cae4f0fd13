package bff

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is everything zwfw reads at start-up. It comes from environment
// variables, optionally preceded by a KEY=VALUE file named by ZWFW_CONFIG_FILE
// (the environment wins). The table in README.md lists every variable.
type Config struct {
	Addr          string // ZWFW_ADDR
	DataDir       string // ZWFW_DATA_DIR: embedded MongoDB files and generated keys
	MongoURI      string // MONGODB_URI; empty = embedded FerretDB
	MongoDatabase string // MONGODB_DATABASE
	RedisURL      string // REDIS_URL; empty = embedded miniredis
	RedisPrefix   string // ZWFW_REDIS_PREFIX

	Sandbox     bool   // ZWFW_SANDBOX=on|off; default on unless WeChat credentials are set
	SandboxAddr string // ZWFW_SANDBOX_ADDR
	SeedDemo    bool   // ZWFW_SEED_DEMO; default on with the sandbox

	LogLevel        string        // ZWFW_LOG_LEVEL: debug|info|warn|error
	BodyLimit       int           // ZWFW_BODY_LIMIT: max request body in bytes (uploads included)
	JSONBodyLimit   int           // ZWFW_JSON_BODY_LIMIT: max JSON body in bytes
	CORSOrigins     string        // ZWFW_CORS_ORIGINS: comma-separated origins of the H5 pages
	TrustedProxies  string        // ZWFW_TRUSTED_PROXIES: comma-separated IPs/CIDRs whose X-Forwarded-For is believed
	ShutdownTimeout time.Duration // ZWFW_SHUTDOWN_TIMEOUT

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

	// PublicBaseURL is where outside systems reach zwfw's callbacks (payment
	// notifies, courier pushes); default the address it listens on.
	PublicBaseURL string // ZWFW_PUBLIC_BASE_URL
	// H5ReturnURL is where a mobile browser returns after an Alipay WAP payment.
	H5ReturnURL string // ZWFW_H5_RETURN_URL

	WeChatPayAPIBase       string // WECHATPAY_API_BASE (default https://api.mch.weixin.qq.com)
	WeChatPaySecureAPIBase string // WECHATPAY_SECURE_API_BASE (the /secapi/ host; default the same)
	WeChatPayMchID         string // WECHATPAY_MCH_ID
	WeChatPayKey           string // WECHATPAY_API_KEY
	WeChatPayAppAppID      string // WECHATPAY_APP_APPID: the mobile app's open-platform app id
	WeChatPaySignType      string // WECHATPAY_SIGN_TYPE: MD5 (default) | HMAC-SHA256
	WeChatPayCertFile      string // WECHATPAY_CERT_P12_FILE: the merchant's apiclient_cert.p12

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

	// The case poller asks the province about cases not synced for
	// CasePollStaleAfter, every CasePollEvery (a safety net for lost callbacks).
	CasePollEvery      time.Duration // ZWFW_CASE_POLL_EVERY
	CasePollStaleAfter time.Duration // ZWFW_CASE_POLL_STALE_AFTER
}

// EmbeddedMongo reports whether zwfw starts its own FerretDB.
func (c Config) EmbeddedMongo() bool { return c.MongoURI == "" }

// EmbeddedRedis reports whether zwfw starts its own miniredis.
func (c Config) EmbeddedRedis() bool { return c.RedisURL == "" }

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
	p := parser{env: env}
	c := Config{
		Addr:          p.str("ZWFW_ADDR", "127.0.0.1:8080"),
		DataDir:       p.str("ZWFW_DATA_DIR", "./data"),
		MongoURI:      p.str("MONGODB_URI", ""),
		MongoDatabase: p.str("MONGODB_DATABASE", "zwfw"),
		RedisURL:      p.str("REDIS_URL", ""),
		RedisPrefix:   p.str("ZWFW_REDIS_PREFIX", "zwfw:"),
		SandboxAddr:   p.str("ZWFW_SANDBOX_ADDR", "127.0.0.1:8090"),

		LogLevel:        p.str("ZWFW_LOG_LEVEL", "info"),
		BodyLimit:       p.int("ZWFW_BODY_LIMIT", 12<<20),
		JSONBodyLimit:   p.int("ZWFW_JSON_BODY_LIMIT", 1<<20),
		CORSOrigins:     p.str("ZWFW_CORS_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173"),
		TrustedProxies:  p.str("ZWFW_TRUSTED_PROXIES", ""),
		ShutdownTimeout: p.duration("ZWFW_SHUTDOWN_TIMEOUT", 20*time.Second),

		RatePerIP:    p.int("ZWFW_RATE_PER_IP", 600),
		RatePerUser:  p.int("ZWFW_RATE_PER_USER", 300),
		RateLoginIP:  p.int("ZWFW_RATE_LOGIN_PER_IP", 30),
		RateSMSPerIP: p.int("ZWFW_RATE_SMS_PER_IP", 20),

		JWTSecret:     p.str("ZWFW_JWT_SECRET", ""),
		SM4Key:        p.str("ZWFW_SM4_KEY", ""),
		BlindIndexKey: p.str("ZWFW_BLIND_INDEX_KEY", ""),

		WeChatAPIBase:   p.str("WECHAT_API_BASE", ""),
		WeChatAppID:     p.str("WECHAT_MINIPROGRAM_APPID", ""),
		WeChatAppSecret: p.str("WECHAT_MINIPROGRAM_SECRET", ""),

		SMSEndpoint:        p.str("SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com"),
		SMSAccessKeyID:     p.str("SMS_ACCESS_KEY_ID", ""),
		SMSAccessKeySecret: p.str("SMS_ACCESS_KEY_SECRET", ""),
		SMSSignName:        p.str("SMS_SIGN_NAME", ""),
		SMSTemplateLogin:   p.str("SMS_TEMPLATE_LOGIN", ""),

		ProvinceBaseURL:       p.str("PROVINCE_BASE_URL", ""),
		ProvinceAppKey:        p.str("PROVINCE_APP_KEY", ""),
		ProvinceAppSecret:     p.str("PROVINCE_APP_SECRET", ""),
		ProvinceSignMethod:    p.str("PROVINCE_SIGN_METHOD", "HMAC-SM3"),
		ProvinceCacheFresh:    p.duration("PROVINCE_CACHE_FRESH", 5*time.Minute),
		ProvinceCacheMaxStale: p.duration("PROVINCE_CACHE_MAX_STALE", 24*time.Hour),
		ProvinceBreakerOpen:   p.duration("PROVINCE_BREAKER_OPEN_TIMEOUT", 15*time.Second),

		JobConcurrency: p.int("ZWFW_JOB_CONCURRENCY", 4),

		CasePollEvery:      p.duration("ZWFW_CASE_POLL_EVERY", 5*time.Minute),
		CasePollStaleAfter: p.duration("ZWFW_CASE_POLL_STALE_AFTER", 30*time.Minute),

		PublicBaseURL: p.str("ZWFW_PUBLIC_BASE_URL", ""),
		H5ReturnURL:   p.str("ZWFW_H5_RETURN_URL", ""),

		WeChatPayAPIBase:       p.str("WECHATPAY_API_BASE", ""),
		WeChatPaySecureAPIBase: p.str("WECHATPAY_SECURE_API_BASE", ""),
		WeChatPayMchID:         p.str("WECHATPAY_MCH_ID", ""),
		WeChatPayKey:           p.str("WECHATPAY_API_KEY", ""),
		WeChatPayAppAppID:      p.str("WECHATPAY_APP_APPID", ""),
		WeChatPaySignType:      p.str("WECHATPAY_SIGN_TYPE", "MD5"),
		WeChatPayCertFile:      p.str("WECHATPAY_CERT_P12_FILE", ""),

		AlipayAppID:          p.str("ALIPAY_APP_ID", ""),
		AlipayPrivateKeyFile: p.str("ALIPAY_APP_PRIVATE_KEY_FILE", ""),
		AlipayPublicKeyFile:  p.str("ALIPAY_PUBLIC_KEY_FILE", ""),
		AlipayGateway:        p.str("ALIPAY_GATEWAY", ""),

		NonTaxBaseURL:    p.str("NONTAX_BASE_URL", ""),
		NonTaxAppKey:     p.str("NONTAX_APP_KEY", ""),
		NonTaxAppSecret:  p.str("NONTAX_APP_SECRET", ""),
		NonTaxSignMethod: p.str("NONTAX_SIGN_METHOD", "HMAC-SM3"),

		PayOrderTTL:   p.duration("ZWFW_PAY_ORDER_TTL", 30*time.Minute),
		PayQueryAfter: p.duration("ZWFW_PAY_QUERY_AFTER", 5*time.Minute),
		PayQueryEvery: p.duration("ZWFW_PAY_QUERY_EVERY", 2*time.Minute),

		CourierBaseURL:         p.str("COURIER_BASE_URL", ""),
		CourierCustomer:        p.str("KUAIDI100_CUSTOMER", ""),
		CourierKey:             p.str("KUAIDI100_KEY", ""),
		CourierSecret:          p.str("KUAIDI100_SECRET", ""),
		CourierCarrier:         p.str("COURIER_CARRIER", "ems"),
		HallMailPhone:          p.str("ZWFW_HALL_MAIL_PHONE", ""),
		HallProvince:           p.str("ZWFW_HALL_PROVINCE", "福建省"),
		ShipmentPollEvery:      p.duration("ZWFW_SHIPMENT_POLL_EVERY", 5*time.Minute),
		ShipmentPollStaleAfter: p.duration("ZWFW_SHIPMENT_POLL_STALE_AFTER", 30*time.Minute),
		SandboxCourierStep:     p.duration("ZWFW_SANDBOX_COURIER_STEP", 2*time.Minute),
	}
	c.Sandbox = p.bool("ZWFW_SANDBOX", c.WeChatAppID == "")
	c.SeedDemo = p.bool("ZWFW_SEED_DEMO", c.Sandbox)
	if c.Sandbox && c.HallMailPhone == "" {
		c.HallMailPhone = "13959100000" // the sandbox halls' mail desk (a made-up mobile; the sandbox courier needs one)
	}
	if p.err != nil {
		return Config{}, p.err
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if !c.Sandbox {
		var missing []string
		for name, v := range map[string]string{
			"WECHAT_MINIPROGRAM_APPID": c.WeChatAppID, "WECHAT_MINIPROGRAM_SECRET": c.WeChatAppSecret,
			"SMS_ACCESS_KEY_ID": c.SMSAccessKeyID, "SMS_ACCESS_KEY_SECRET": c.SMSAccessKeySecret,
			"SMS_SIGN_NAME": c.SMSSignName, "SMS_TEMPLATE_LOGIN": c.SMSTemplateLogin,
			"PROVINCE_BASE_URL": c.ProvinceBaseURL, "PROVINCE_APP_KEY": c.ProvinceAppKey, "PROVINCE_APP_SECRET": c.ProvinceAppSecret,
			"WECHATPAY_MCH_ID": c.WeChatPayMchID, "WECHATPAY_API_KEY": c.WeChatPayKey, "WECHATPAY_APP_APPID": c.WeChatPayAppAppID,
			"WECHATPAY_CERT_P12_FILE": c.WeChatPayCertFile, "ALIPAY_APP_ID": c.AlipayAppID,
			"ALIPAY_APP_PRIVATE_KEY_FILE": c.AlipayPrivateKeyFile, "ALIPAY_PUBLIC_KEY_FILE": c.AlipayPublicKeyFile,
			"NONTAX_BASE_URL": c.NonTaxBaseURL, "NONTAX_APP_KEY": c.NonTaxAppKey, "NONTAX_APP_SECRET": c.NonTaxAppSecret,
			"ZWFW_PUBLIC_BASE_URL": c.PublicBaseURL, "KUAIDI100_CUSTOMER": c.CourierCustomer, "KUAIDI100_KEY": c.CourierKey,
			"KUAIDI100_SECRET": c.CourierSecret, "ZWFW_HALL_MAIL_PHONE": c.HallMailPhone,
			"JPUSH_APP_KEY": c.PushAppKey, "JPUSH_MASTER_SECRET": c.PushMasterSecret,
		} {
			if v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("with ZWFW_SANDBOX=off these must be set: %s", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
		}
	}
	if !c.EmbeddedMongo() && (c.JWTSecret == "" || c.SM4Key == "" || c.BlindIndexKey == "") {
		// Generated keys are per data dir: replicas sharing a real MongoDB must share keys.
		return fmt.Errorf("with MONGODB_URI set, ZWFW_JWT_SECRET, ZWFW_SM4_KEY and ZWFW_BLIND_INDEX_KEY must be set")
	}
	if c.BodyLimit < c.JSONBodyLimit {
		return fmt.Errorf("ZWFW_BODY_LIMIT (%d) must not be below ZWFW_JSON_BODY_LIMIT (%d)", c.BodyLimit, c.JSONBodyLimit)
	}
	return nil
}

type parser struct {
	env func(string) string
	err error
}

func (p *parser) str(key, def string) string {
	if v := strings.TrimSpace(p.env(key)); v != "" {
		return v
	}
	return def
}

func (p *parser) int(key string, def int) int {
	v := strings.TrimSpace(p.env(key))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(fmt.Errorf("%s: want a non-negative integer, got %q", key, v))
		return def
	}
	return n
}

func (p *parser) bool(key string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(p.env(key))) {
	case "":
		return def
	case "1", "true", "on", "yes", "embedded":
		return true
	case "0", "false", "off", "no":
		return false
	default:
		p.fail(fmt.Errorf("%s: want on or off, got %q", key, p.env(key)))
		return def
	}
}

func (p *parser) duration(key string, def time.Duration) time.Duration {
	v := strings.TrimSpace(p.env(key))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(fmt.Errorf("%s: want a duration like 20s, got %q", key, v))
		return def
	}
	return d
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
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
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("ZWFW_CONFIG_FILE %s:%d: want KEY=VALUE", path, n)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out, sc.Err()
}
