package main

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// runProvince takes the province away in each way it fails — answering
// 503, hanging until zwfw's timeout, dropping the connection, and booking
// a submission but losing the answer — while people submit applications
// and read the catalog. Submissions must be delayed, never dropped or
// doubled; the catalog must be served from the cache, marked stale.
func runProvince(ctx context.Context, d *deployment, short bool) []*scenario {
	s := newScenario("3 province errors, timeouts, dropped connections", d, short)
	t0 := time.Now()
	if err := provinceFaults(ctx, s); err != nil {
		s.err = err
	}
	s.took = time.Since(t0)
	return []*scenario{s}
}

// faultPhase is one way the province fails, for every API group at once.
type faultPhase struct {
	mode  string
	extra map[string]any
}

var faultPhases = []faultPhase{
	{"error", map[string]any{"status": 503}},
	{"timeout", nil}, // held until zwfw gives up (its cases timeout: 10 s)
	{"drop", nil},
	{"lost", nil}, // booked, then the connection closed without the answer
}

func provinceFaults(ctx context.Context, s *scenario) error {
	d := s.d
	per, hold := 3, 5*time.Second
	if s.short {
		per, hold = 2, 3*time.Second
	}
	subs, _, err := drafts(ctx, s, per*len(faultPhases), "faulted")
	if err != nil {
		return err
	}
	reader := subs[0].p
	codes, err := d.warmCatalog(ctx, reader)
	if err != nil {
		return err
	}
	// Past PROVINCE_CACHE_FRESH (2 s): every cached answer is stale now.
	time.Sleep(2500 * time.Millisecond)
	var served, stale, failed int
	for i, ph := range faultPhases {
		if err := d.provinceFault(ctx, "*", ph.mode, ph.extra); err != nil {
			return err
		}
		began := time.Now()
		for _, sub := range subs[i*per : (i+1)*per] {
			if _, err := sub.p.want(ctx, 202, "POST", "/cases/"+sub.caseID+"/submit", nil, "submit-"+sub.caseID); err != nil {
				return err
			}
		}
		for _, code := range codes {
			r := reader.api(ctx, "GET", "/items/"+code, nil, "")
			switch {
			case r.status != 200:
				failed++
			case r.m()["stale"] == true:
				served++
				stale++
			default:
				served++
			}
		}
		time.Sleep(time.Until(began.Add(hold)))
		d.progress("province %s for %.0fs: %d submissions made meanwhile", ph.mode, hold.Seconds(), per)
	}
	if err := d.provinceFault(ctx, "*", "off", nil); err != nil {
		return err
	}
	off := time.Now()
	inFlight := 0
	for _, sub := range subs {
		c, err := sub.p.getCase(ctx, sub.caseID)
		if err != nil {
			return err
		}
		if c.CaseNumber == "" {
			inFlight++
		}
	}
	waitErr := waitUntil(ctx, 150*time.Second, "every submission's case number", func() (bool, error) {
		for _, sub := range subs {
			c, err := sub.p.getCase(ctx, sub.caseID)
			if err != nil || c.CaseNumber == "" {
				return false, err
			}
		}
		return true, nil
	})
	if waitErr == nil {
		s.recovered = time.Since(off)
	} else {
		s.note("%v", waitErr)
	}
	d.progress("faults off with %d of %d submissions still waiting; all recorded after %.1fs", inFlight, len(subs), time.Since(off).Seconds())
	if err := d.settle(ctx, 60*time.Second, false); err != nil {
		s.note("%v", err)
	}
	s.note("%d of %d submissions had no case number when the faults ended", inFlight, len(subs))
	var stats struct {
		Endpoints map[string]struct {
			Calls   int `json:"calls"`
			Faulted int `json:"faulted"`
		} `json:"endpoints"`
	}
	if err := d.sb(ctx, "GET", "/sandbox/province/stats", nil, &stats); err == nil {
		c := stats.Endpoints["POST /api/cases"]
		s.note("the province was asked to create a case %d times (%d failed by the faults) for %d drafts", c.Calls, c.Faulted, len(subs))
	}
	s.guarantee("catalog served from the cache while the province failed", failed == 0 && stale > 0,
		"%d guide reads served (%d marked stale), %d failed", served, stale, failed)
	log := auditLog(ctx, s)
	countSubmissions(ctx, s, subs, log)
	return nil
}

// warmCatalog reads the first page of the catalog and every guide on it,
// so zwfw's cache holds them.
func (d *deployment) warmCatalog(ctx context.Context, p *person) ([]string, error) {
	r, err := p.want(ctx, 200, "GET", "/items?limit=20&q="+url.QueryEscape("证"), nil, "")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	}
	if err := r.json(&list); err != nil {
		return nil, err
	}
	var codes []string
	for _, it := range list.Items {
		if _, err := p.want(ctx, 200, "GET", "/items/"+it.Code, nil, ""); err != nil {
			return nil, err
		}
		codes = append(codes, it.Code)
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("the catalog search found nothing to cache")
	}
	return codes, nil
}
