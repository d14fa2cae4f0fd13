package home

import (
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// The outside platforms — the province for e-licences, the non-tax
// platform for fee notices — take tens to hundreds of milliseconds a call,
// and asking the non-tax platform also mirrors every notice it names into
// the store (a write per notice). A person who opens the first screen again
// and again must not ask them each time: the screen keeps each person's last
// answers (per replica, in memory) for Rules.LicensesFresh and
// Rules.NoticesFresh. A notice issued, or a licence changed, meanwhile shows
// at the latest that much later; a notice already mirrored is read from the
// store on every screen, so paying one shows at once. A failed call is not
// kept.

// outsideKept bounds the people whose answers are kept.
const outsideKept = 50_000

type outsideMemo struct {
	licenses *lru.Cache[string, keptLicenses]
	notices  *lru.Cache[string, keptNotices]
}

type keptLicenses struct {
	at   time.Time
	list []License
}

// keptNotices are the codes of the notices the non-tax platform named for
// the person when last asked.
type keptNotices struct {
	at    time.Time
	codes []string
}

func newOutsideMemo() *outsideMemo {
	l, _ := lru.New[string, keptLicenses](outsideKept)
	n, _ := lru.New[string, keptNotices](outsideKept)
	return &outsideMemo{licenses: l, notices: n}
}

// licensesOf returns the person's licences when asked within fresh.
func (m *outsideMemo) licensesOf(userID string, now time.Time, fresh time.Duration) ([]License, bool) {
	k, ok := m.licenses.Get(userID)
	if !ok || now.Sub(k.at) >= fresh {
		return nil, false
	}
	return slices.Clone(k.list), true
}

func (m *outsideMemo) keepLicenses(userID string, now time.Time, list []License) {
	m.licenses.Add(userID, keptLicenses{at: now, list: slices.Clone(list)})
}

// noticesOf returns the codes the non-tax platform named for the person
// when asked within fresh.
func (m *outsideMemo) noticesOf(userID string, now time.Time, fresh time.Duration) ([]string, bool) {
	k, ok := m.notices.Get(userID)
	if !ok || now.Sub(k.at) >= fresh {
		return nil, false
	}
	return k.codes, true
}

func (m *outsideMemo) keepNotices(userID string, now time.Time, codes []string) {
	m.notices.Add(userID, keptNotices{at: now, codes: codes})
}
