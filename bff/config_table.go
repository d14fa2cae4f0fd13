package bff

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// need says when a setting must be set.
type need int

const (
	needOptional   need = iota
	needSandboxOff      // the real endpoints: required whenever the sandbox is off
	needRealMongo       // shared keys: required with MONGODB_URI (every replica must agree)
)

// setting is one configuration variable, declared once: LoadConfig reads
// it, validate checks it, and README.md's table is printed from it
// (ConfigTableMarkdown; TestREADMEConfigTable keeps the two equal).
type setting struct {
	name    string
	def     string // the value when unset, parsed like any other
	shown   string // how the README shows the default when def alone would mislead
	meaning string
	need    need
	read    func(c *Config, v string) error
	value   func(c Config) string
}

func (s setting) requiredIn(c Config) bool {
	switch s.need {
	case needSandboxOff:
		return !c.Sandbox
	case needRealMongo:
		return !c.EmbeddedMongo()
	}
	return false
}

// show sets the default as README shows it.
func (s setting) show(text string) setting { s.shown = text; return s }

// requires marks when the setting must be set.
func (s setting) requires(n need) setting { s.need = n; return s }

func str(name, def, meaning string, field func(*Config) *string) setting {
	return setting{name: name, def: def, meaning: meaning,
		read:  func(c *Config, v string) error { *field(c) = v; return nil },
		value: func(c Config) string { return *field(&c) }}
}

func count(name string, def int, meaning string, field func(*Config) *int) setting {
	return setting{name: name, def: strconv.Itoa(def), meaning: meaning,
		read: func(c *Config, v string) error {
			n, err := parseCount(v)
			*field(c) = n
			return err
		},
		value: func(c Config) string { return strconv.Itoa(*field(&c)) }}
}

// within refuses a count outside [lo, hi].
func (s setting) within(lo, hi int) setting {
	read := s.read
	s.read = func(c *Config, v string) error {
		if err := read(c, v); err != nil {
			return err
		}
		if n, _ := strconv.Atoi(v); n < lo || n > hi {
			return fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return nil
	}
	return s
}

func dur(name string, def time.Duration, meaning string, field func(*Config) *time.Duration) setting {
	return setting{name: name, def: shortDuration(def), meaning: meaning,
		read: func(c *Config, v string) error {
			d, err := parseDuration(v)
			*field(c) = d
			return err
		},
		value: func(c Config) string { return shortDuration(*field(&c)) }}
}

// mode is a switch whose default depends on other settings (LoadConfig
// works it out); reading it here only checks the spelling.
func mode(name, shown, meaning string, field func(*Config) *bool) setting {
	return setting{name: name, shown: shown, meaning: meaning,
		read: func(_ *Config, v string) error { _, err := onOff(v, false); return err },
		value: func(c Config) string {
			if *field(&c) {
				return "on"
			}
			return "off"
		}}
}

// shortDuration prints 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// settings is every variable zwfw reads, in the README's order.
var settings = []setting{
	str("ZWFW_CONFIG_FILE", "", "a `KEY=VALUE` file read before the environment (the environment wins)", func(c *Config) *string { return &c.ConfigFile }),
	str("ZWFW_ADDR", "127.0.0.1:8080", "HTTP listen address", func(c *Config) *string { return &c.Addr }),
	str("ZWFW_DATA_DIR", "./data", "embedded MongoDB files, generated keys, demo passwords", func(c *Config) *string { return &c.DataDir }),
	str("MONGODB_URI", "", "MongoDB replica set / sharded cluster URI; set = production data (`docs/deploy.md`)", func(c *Config) *string { return &c.MongoURI }).
		show("*(embedded FerretDB)*"),
	str("MONGODB_DATABASE", "zwfw", "database name", func(c *Config) *string { return &c.MongoDatabase }),
	str("REDIS_URL", "", "`redis://[user:pass@]host:6379/0`; several hosts = cluster (`redis://h1:6379,h2:6379`); `?master=NAME` = sentinel; `rediss://` = TLS", func(c *Config) *string { return &c.RedisURL }).
		show("*(embedded miniredis)*"),
	str("ZWFW_REDIS_PREFIX", "zwfw:", "prefix of every Redis key", func(c *Config) *string { return &c.RedisPrefix }),
	mode("ZWFW_SANDBOX", "`on` without `MONGODB_URI`, else `off`", "run the outside-system fakes in-process and point every client at them; with `MONGODB_URI` only when set to `on`", func(c *Config) *bool { return &c.Sandbox }),
	str("ZWFW_SANDBOX_ADDR", "127.0.0.1:8090", "where the embedded sandbox listens", func(c *Config) *string { return &c.SandboxAddr }),
	mode("ZWFW_SEED_DEMO", "`on` for the embedded default, else `off`", "seed demo data (catalog halls, staff accounts) once; never into a real MongoDB unless set to `on`", func(c *Config) *bool { return &c.SeedDemo }),
	str("ZWFW_JWT_SECRET", "", "hex, >= 32 bytes: access-token signing key", func(c *Config) *string { return &c.JWTSecret }).
		show("*(generated when embedded)*").requires(needRealMongo),
	str("ZWFW_SM4_KEY", "", "hex, 16 bytes: SM4 key for personal data at rest", func(c *Config) *string { return &c.SM4Key }).
		show("*(generated when embedded)*").requires(needRealMongo),
	str("ZWFW_BLIND_INDEX_KEY", "", "hex, >= 32 bytes: HMAC-SM3 blind-index key", func(c *Config) *string { return &c.BlindIndexKey }).
		show("*(generated when embedded)*").requires(needRealMongo),
	str("WECHAT_API_BASE", "", "WeChat API host (the sandbox sets its own)", func(c *Config) *string { return &c.WeChatAPIBase }).
		show("`https://api.weixin.qq.com`"),
	str("WECHAT_MINIPROGRAM_APPID", "", "mini-program app id", func(c *Config) *string { return &c.WeChatAppID }).requires(needSandboxOff),
	str("WECHAT_MINIPROGRAM_SECRET", "", "mini-program app secret", func(c *Config) *string { return &c.WeChatAppSecret }).requires(needSandboxOff),
	str("WECHAT_SUBSCRIBE_TEMPLATES", "", "`tmpl_booking_reminder=<real id>,...`: the mini-program's subscribe-message template ids", func(c *Config) *string { return &c.WeChatTemplates }).
		show("*(the sandbox's names)*"),
	str("WECHAT_MINIPROGRAM_STATE", "formal", "which mini-program version a message opens (`formal`, `trial`, `developer`)", func(c *Config) *string { return &c.WeChatMiniState }),
	str("SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com", "SMS gateway (Aliyun Dysmsapi `SendSms`)", func(c *Config) *string { return &c.SMSEndpoint }),
	str("SMS_ACCESS_KEY_ID", "", "SMS gateway access key id", func(c *Config) *string { return &c.SMSAccessKeyID }).requires(needSandboxOff),
	str("SMS_ACCESS_KEY_SECRET", "", "SMS gateway access key secret", func(c *Config) *string { return &c.SMSAccessKeySecret }).requires(needSandboxOff),
	str("SMS_SIGN_NAME", "", "SMS signature (签名)", func(c *Config) *string { return &c.SMSSignName }).requires(needSandboxOff),
	str("SMS_TEMPLATE_LOGIN", "", "SMS template of the login code", func(c *Config) *string { return &c.SMSTemplateLogin }).requires(needSandboxOff),
	str("PROVINCE_BASE_URL", "", "provincial platform gateway (`docs/province-gateway.md` is the wire contract)", func(c *Config) *string { return &c.ProvinceBaseURL }).requires(needSandboxOff),
	str("PROVINCE_APP_KEY", "", "provincial gateway app key", func(c *Config) *string { return &c.ProvinceAppKey }).requires(needSandboxOff),
	str("PROVINCE_APP_SECRET", "", "provincial gateway app secret", func(c *Config) *string { return &c.ProvinceAppSecret }).requires(needSandboxOff),
	str("PROVINCE_SIGN_METHOD", "HMAC-SM3", "or `HMAC-SHA256`", func(c *Config) *string { return &c.ProvinceSignMethod }),
	dur("PROVINCE_CACHE_FRESH", 5*time.Minute, "catalog cache: how long an answer is fresh", func(c *Config) *time.Duration { return &c.ProvinceCacheFresh }),
	dur("PROVINCE_CACHE_MAX_STALE", 24*time.Hour, "catalog cache: how long a stale answer is served while refreshed or while the province is down", func(c *Config) *time.Duration { return &c.ProvinceCacheMaxStale }),
	dur("PROVINCE_BREAKER_OPEN_TIMEOUT", 15*time.Second, "how long an open breaker fails fast before one probe", func(c *Config) *time.Duration { return &c.ProvinceBreakerOpen }),
	str("ZWFW_LOG_LEVEL", "info", "`debug`, `info`, `warn`, `error` (JSON logs on stdout)", func(c *Config) *string { return &c.LogLevel }),
	fraction("ZWFW_ACCESS_LOG_SAMPLE", 1, "fraction of successful requests written to the access log (`0.01`: one in a hundred); failures (status >= 400) and slow requests always are", func(c *Config) *float64 { return &c.AccessLogSample }),
	dur("ZWFW_ACCESS_LOG_SLOW", 500*time.Millisecond, "a request taking at least this long is always logged (0: no threshold)", func(c *Config) *time.Duration { return &c.AccessLogSlow }),
	debugAddr("ZWFW_DEBUG_ADDR", "admin-only `pprof` listener (`/debug/pprof/`); a bare port (`6060`, `:6060`) listens on loopback; never expose it publicly (`docs/deploy.md`)", func(c *Config) *string { return &c.DebugAddr }).
		show("*(off)*"),
	count("ZWFW_BODY_LIMIT", 12<<20, "request body limit in bytes (uploads)", func(c *Config) *int { return &c.BodyLimit }),
	count("ZWFW_JSON_BODY_LIMIT", 1<<20, "request body limit in bytes (JSON)", func(c *Config) *int { return &c.JSONBodyLimit }),
	str("ZWFW_CORS_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173", "origins of the app's H5 pages", func(c *Config) *string { return &c.CORSOrigins }),
	str("ZWFW_TRUSTED_PROXIES", "", "load balancers whose `X-Forwarded-For` is believed", func(c *Config) *string { return &c.TrustedProxies }).
		show("*(none)*"),
	count("ZWFW_RATE_PER_IP", 12000, "requests per minute per client IP (generous: thousands of phones share one carrier NAT address; the per-user and per-phone limits do the protecting)", func(c *Config) *int { return &c.RatePerIP }),
	count("ZWFW_RATE_PER_USER", 300, "requests per minute per signed-in user", func(c *Config) *int { return &c.RatePerUser }),
	count("ZWFW_RATE_LOGIN_PER_IP", 30, "login attempts per minute per IP (also case look-ups)", func(c *Config) *int { return &c.RateLoginIP }),
	count("ZWFW_RATE_SMS_PER_IP", 20, "SMS sends per hour per IP", func(c *Config) *int { return &c.RateSMSPerIP }),
	count("ZWFW_JOB_CONCURRENCY", 4, "background job workers per process", func(c *Config) *int { return &c.JobConcurrency }),
	dur("ZWFW_JOB_LEASE", 30*time.Second, "how long a claimed job or event consumer (reminders, result mailing) is leased, renewed every third of it while it runs; a killed replica's work is taken over after this", func(c *Config) *time.Duration { return &c.JobLease }),
	dur("ZWFW_CASE_POLL_EVERY", 5*time.Minute, "how often the safety-net poll asks the province about cases", func(c *Config) *time.Duration { return &c.CasePollEvery }),
	dur("ZWFW_CASE_POLL_STALE_AFTER", 30*time.Minute, "cases not synced for this long are polled", func(c *Config) *time.Duration { return &c.CasePollStaleAfter }),
	dur("ZWFW_SHUTDOWN_TIMEOUT", 20*time.Second, "graceful shutdown budget on SIGTERM", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	str("ZWFW_PUBLIC_BASE_URL", "", "where outside systems reach zwfw's callbacks (payment notifies, courier pushes)", func(c *Config) *string { return &c.PublicBaseURL }).
		show("*(the listen address)*").requires(needSandboxOff),
	str("ZWFW_H5_RETURN_URL", "", "where a mobile browser returns after an Alipay WAP payment", func(c *Config) *string { return &c.H5ReturnURL }).
		show("*(none)*"),
	str("ZWFW_H5_BASE_URL", "", "where the H5 pages are: deep links for mobile browsers and SMS", func(c *Config) *string { return &c.H5BaseURL }).
		show("*(the first of `ZWFW_CORS_ORIGINS`)*"),
	str("ZWFW_APP_SCHEME", "zwfw", "the app's URL scheme: deep links in app pushes and for `X-Client: app`", func(c *Config) *string { return &c.AppScheme }),
	dur("ZWFW_PAY_ORDER_TTL", 30*time.Minute, "how long a channel order can be paid", func(c *Config) *time.Duration { return &c.PayOrderTTL }),
	dur("ZWFW_PAY_QUERY_AFTER", 5*time.Minute, "when an order without news is first queried", func(c *Config) *time.Duration { return &c.PayQueryAfter }),
	dur("ZWFW_PAY_QUERY_EVERY", 2*time.Minute, "then how often", func(c *Config) *time.Duration { return &c.PayQueryEvery }),
	str("NONTAX_BASE_URL", "", "the non-tax payment platform (`docs/nontax-gateway.md`)", func(c *Config) *string { return &c.NonTaxBaseURL }).requires(needSandboxOff),
	str("NONTAX_APP_KEY", "", "non-tax platform app key", func(c *Config) *string { return &c.NonTaxAppKey }).requires(needSandboxOff),
	str("NONTAX_APP_SECRET", "", "non-tax platform app secret", func(c *Config) *string { return &c.NonTaxAppSecret }).requires(needSandboxOff),
	str("NONTAX_SIGN_METHOD", "HMAC-SM3", "or `HMAC-SHA256`", func(c *Config) *string { return &c.NonTaxSignMethod }),
	str("WECHATPAY_API_BASE", "", "WeChat Pay host (the sandbox sets its own)", func(c *Config) *string { return &c.WeChatPayAPIBase }).
		show("`https://api.mch.weixin.qq.com`"),
	str("WECHATPAY_SECURE_API_BASE", "", "WeChat Pay host of `/secapi/` (refunds, mutual TLS)", func(c *Config) *string { return &c.WeChatPaySecureAPIBase }).
		show("`https://api.mch.weixin.qq.com`"),
	str("WECHATPAY_MCH_ID", "", "WeChat Pay v2 merchant id", func(c *Config) *string { return &c.WeChatPayMchID }).requires(needSandboxOff),
	str("WECHATPAY_API_KEY", "", "WeChat Pay v2 API key", func(c *Config) *string { return &c.WeChatPayKey }).requires(needSandboxOff),
	str("WECHATPAY_SIGN_TYPE", "MD5", "or `HMAC-SHA256`", func(c *Config) *string { return &c.WeChatPaySignType }),
	str("WECHATPAY_APP_APPID", "", "the mobile app's open-platform app id (the mini-program's is `WECHAT_MINIPROGRAM_APPID`)", func(c *Config) *string { return &c.WeChatPayAppAppID }).requires(needSandboxOff),
	str("WECHATPAY_CERT_P12_FILE", "", "the merchant's `apiclient_cert.p12` (password = mch id), for refunds", func(c *Config) *string { return &c.WeChatPayCertFile }).requires(needSandboxOff),
	str("WECHATPAY_ROOT_CA_FILE", "", "PEM: the CA the `/secapi/` server's certificate must chain to (a private CA, e.g. the standalone sandbox's)", func(c *Config) *string { return &c.WeChatPayRootCAFile }).
		show("*(the system roots)*"),
	str("ALIPAY_APP_ID", "", "Alipay open-platform app id (public-key mode, RSA2)", func(c *Config) *string { return &c.AlipayAppID }).requires(needSandboxOff),
	str("ALIPAY_APP_PRIVATE_KEY_FILE", "", "PEM: the app's private key", func(c *Config) *string { return &c.AlipayPrivateKeyFile }).requires(needSandboxOff),
	str("ALIPAY_PUBLIC_KEY_FILE", "", "PEM: Alipay's public key", func(c *Config) *string { return &c.AlipayPublicKeyFile }).requires(needSandboxOff),
	str("ALIPAY_GATEWAY", "", "Alipay gateway URL (the sandbox sets its own)", func(c *Config) *string { return &c.AlipayGateway }).
		show("*(production)*"),
	str("JPUSH_BASE_URL", "", "app push gateway (JPush REST v3)", func(c *Config) *string { return &c.PushBaseURL }).
		show("`https://api.jpush.cn`"),
	str("JPUSH_APP_KEY", "", "JPush app key", func(c *Config) *string { return &c.PushAppKey }).requires(needSandboxOff),
	str("JPUSH_MASTER_SECRET", "", "JPush master secret", func(c *Config) *string { return &c.PushMasterSecret }).requires(needSandboxOff),
	str("COURIER_BASE_URL", "", "the courier aggregator (Kuaidi100 style)", func(c *Config) *string { return &c.CourierBaseURL }).
		show("`https://poll.kuaidi100.com`"),
	str("KUAIDI100_CUSTOMER", "", "courier aggregator customer id", func(c *Config) *string { return &c.CourierCustomer }).requires(needSandboxOff),
	str("KUAIDI100_KEY", "", "courier aggregator key", func(c *Config) *string { return &c.CourierKey }).requires(needSandboxOff),
	str("KUAIDI100_SECRET", "", "courier aggregator secret", func(c *Config) *string { return &c.CourierSecret }).requires(needSandboxOff),
	str("COURIER_CARRIER", "ems", "company code pickups are booked with", func(c *Config) *string { return &c.CourierCarrier }),
	str("ZWFW_HALL_MAIL_PHONE", "", "the halls' mail desk mobile: receiver of materials, sender of results", func(c *Config) *string { return &c.HallMailPhone }).
		show("*(sandbox: a demo mobile)*").requires(needSandboxOff),
	str("ZWFW_HALL_PROVINCE", "福建省", "the halls' province (mail desk address)", func(c *Config) *string { return &c.HallProvince }),
	dur("ZWFW_SHIPMENT_POLL_EVERY", 5*time.Minute, "how often the safety-net tracking poll runs", func(c *Config) *time.Duration { return &c.ShipmentPollEvery }),
	dur("ZWFW_SHIPMENT_POLL_STALE_AFTER", 30*time.Minute, "shipments without news for this long are polled", func(c *Config) *time.Duration { return &c.ShipmentPollStaleAfter }),
	dur("ZWFW_SANDBOX_COURIER_STEP", 2*time.Minute, "the embedded sandbox moves each parcel one step this often (0: only its controls do)", func(c *Config) *time.Duration { return &c.SandboxCourierStep }),
	count("ZWFW_SUPERVISION_WARN_DAYS", 3, "the console's supervision (电子监察) shows a case in progress yellow in the last this many working days of its time limit (0: never yellow; red once overdue)", func(c *Config) *int { return &c.SupervisionWarnDays }),
	dur("ZWFW_CONSOLE_IDLE_TIMEOUT", 30*time.Minute, "the staff console (`/console/`) signs a staff member out after this long without use", func(c *Config) *time.Duration { return &c.ConsoleIdleTimeout }),
	count("ZWFW_RECTIFY_MAX_LEVEL", 3, "好差评 levels at or below this open a rectification (整改): 3 = 基本满意 and worse, 2 = 不满意 and worse (1-5)",
		func(c *Config) *int { return &c.RectifyMaxLevel }).within(1, 5),
}

// ConfigTableMarkdown is README.md's configuration table, printed from the
// declarations (`go run ./cmd/zwfw -print-config-table`).
func ConfigTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| variable | default | required | meaning |\n|---|---|---|---|\n")
	for _, s := range settings {
		def := s.shown
		if def == "" {
			def = "`" + s.def + "`"
			if s.def == "" {
				def = "*(none)*"
			}
		}
		req := ""
		switch s.need {
		case needSandboxOff:
			req = "sandbox off"
		case needRealMongo:
			req = "with `MONGODB_URI`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.name, def, req, s.meaning)
	}
	return b.String()
}

// Config table markers in README.md.
const (
	configTableBegin = "<!-- config-table:begin (generated: go run ./cmd/zwfw -print-config-table) -->\n"
	configTableEnd   = "<!-- config-table:end -->"
)

// ReplaceConfigTable returns readme with the text between the config-table
// markers replaced by ConfigTableMarkdown, and the text that was there.
func ReplaceConfigTable(readme string) (updated, old string, err error) {
	begin := strings.Index(readme, configTableBegin)
	end := strings.Index(readme, configTableEnd)
	if begin < 0 || end < begin {
		return "", "", fmt.Errorf("README.md has no %q ... %q markers", strings.TrimSpace(configTableBegin), configTableEnd)
	}
	from := begin + len(configTableBegin)
	return readme[:from] + ConfigTableMarkdown() + readme[end:], readme[from:end], nil
}
