package home

import "time"

// Rules bound and tune the screen; zero fields take the defaults.
type Rules struct {
	// Budgets is how long each source may take (DefaultBudgets when absent).
	Budgets map[Source]time.Duration
	// TodoLimit bounds the to-dos (10); SectionLimit every other list (5);
	// MessageLimit the unread messages shown (3); RecommendLimit the
	// recommended items (3).
	TodoLimit, SectionLimit, MessageLimit, RecommendLimit int
	// CaseScan is how many of the newest cases are read (50, the case list's maximum).
	CaseScan int
	// LicenseWindowDays: licences expiring within this many days are shown (30).
	LicenseWindowDays int
	// SupplementWorkdays is the time allowed for a supplement, in working
	// days from the province's request, while the case does not carry the
	// province's own deadline (5).
	SupplementWorkdays int
	// EvaluateWithin is how long a finished case is offered for rating (15 days).
	EvaluateWithin time.Duration
	// RebuildAfter is how old an index may be before it is rebuilt from the
	// domains' lists (a day): events keep it up to date, the rebuild is the
	// safety net for records written past them.
	RebuildAfter time.Duration
	// RebuildTimeout bounds one rebuild of an index (a minute).
	RebuildTimeout time.Duration
	// LicensesFresh is how long a person's e-licences, as the province
	// last listed them, are shown without asking again (5 minutes);
	// NoticesFresh likewise for the fee notices the non-tax platform names
	// (a minute). See outside.go.
	LicensesFresh, NoticesFresh time.Duration
	// RenewalWords mark a catalog item that renews a licence (its name holds one).
	RenewalWords []string
	// Seasons are the items due at a time of year (DefaultSeasons when nil).
	Seasons []Season
}

// Season recommends catalog items in some months: the first items the
// catalog finds for Query, for businesses only when Business is set.
type Season struct {
	Months   []time.Month
	Business bool
	Query    string
	Reason   string
}

// DefaultBudgets: the local stores answer in milliseconds; the outside
// platforms (the non-tax platform behind payments, the province behind
// e-licences) get longer, but never so long that the screen waits on them.
var DefaultBudgets = map[Source]time.Duration{
	SourceCases: 800 * time.Millisecond, SourceBookings: 800 * time.Millisecond, SourceShipments: 800 * time.Millisecond,
	SourceMessages: 800 * time.Millisecond, SourcePayments: 1500 * time.Millisecond, SourceLicenses: 1500 * time.Millisecond,
	SourceCatalog: time.Second,
}

// DefaultRenewalWords are the words of the catalog's renewal items
// (居民身份证换领, 机动车驾驶证换证, 营业执照补领、换发 ...).
var DefaultRenewalWords = []string{"换领", "换证", "换发", "延续", "补换"}

// DefaultSeasons are the yearly dates businesses meet: the annual report
// (企业年度报告公示, 1 January to 30 June) and the yearly adjustment of
// housing-fund contributions in July. An item the catalog does not list
// is simply not recommended.
var DefaultSeasons = []Season{
	{Months: []time.Month{time.January, time.February, time.March, time.April, time.May, time.June}, Business: true,
		Query: "年报", Reason: "企业年度报告公示期为每年1月1日至6月30日"},
	{Months: []time.Month{time.July}, Business: true,
		Query: "住房公积金单位缴存", Reason: "每年7月调整住房公积金缴存基数"},
}

func (r Rules) withDefaults() Rules {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&r.TodoLimit, 10)
	def(&r.SectionLimit, 5)
	def(&r.MessageLimit, 3)
	def(&r.RecommendLimit, 3)
	def(&r.CaseScan, 50)
	def(&r.LicenseWindowDays, 30)
	def(&r.SupplementWorkdays, 5)
	if r.EvaluateWithin <= 0 {
		r.EvaluateWithin = 15 * 24 * time.Hour
	}
	if r.RebuildAfter <= 0 {
		r.RebuildAfter = 24 * time.Hour
	}
	if r.RebuildTimeout <= 0 {
		r.RebuildTimeout = time.Minute
	}
	if r.LicensesFresh <= 0 {
		r.LicensesFresh = 5 * time.Minute
	}
	if r.NoticesFresh <= 0 {
		r.NoticesFresh = time.Minute
	}
	if r.RenewalWords == nil {
		r.RenewalWords = DefaultRenewalWords
	}
	if r.Seasons == nil {
		r.Seasons = DefaultSeasons
	}
	budgets := make(map[Source]time.Duration, len(DefaultBudgets))
	for s, d := range DefaultBudgets {
		budgets[s] = d
	}
	for s, d := range r.Budgets {
		if d > 0 {
			budgets[s] = d
		}
	}
	r.Budgets = budgets
	return r
}
