package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// tapKeys is n copies of one Idempotency-Key (a retried request), or n
// different keys (a real double tap: the app made each copy anew).
func tapKeys(prefix string, n int, same bool) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix
		if !same {
			out[i] = fmt.Sprintf("%s-%02d", prefix, i)
		}
	}
	return out
}

// tap sends n copies of one write at the same moment.
func (p *person) tap(ctx context.Context, t *tally, method, path string, body any, keyPrefix string, n int, same bool) []reply {
	var reqs []request
	for _, k := range tapKeys(keyPrefix, n, same) {
		reqs = append(reqs, p.req(method, path, body, k))
	}
	return p.d.volley(ctx, t, reqs)
}

// tapOutcome checks the answers to a volley and returns the one
// first-hand success. Under one key: one success, every other copy the
// same answer byte for byte (replayed) or told the first still runs.
// Under different keys: one success, every other copy refused with one of
// refusals (a precise domain code) — or, with shared, successes that all
// carry the same answer (the notice's one open order).
func tapOutcome(s *scenario, route string, answers []reply, same, shared bool, refusals ...string) (reply, bool) {
	var winners, replayed []reply
	refused := map[string]int{}
	for _, r := range answers {
		switch {
		case r.ok() && r.replayed():
			replayed = append(replayed, r)
		case r.ok():
			winners = append(winners, r)
		default:
			refused[r.errorKey()]++
		}
	}
	keys := "different keys"
	allowed := refusals
	if same {
		keys, allowed = "one key", []string{"409 IDEMPOTENCY_KEY_IN_USE"}
	}
	var problems []string
	switch {
	case len(winners) == 0:
		problems = append(problems, "no success")
	case len(winners) > 1 && !(shared && !same):
		problems = append(problems, fmt.Sprintf("%d first-hand successes", len(winners)))
	}
	if !same && len(replayed) > 0 {
		problems = append(problems, fmt.Sprintf("%d replays under different keys", len(replayed)))
	}
	for _, r := range replayed {
		if len(winners) > 0 && !bytes.Equal(r.body, winners[0].body) {
			problems = append(problems, "a replay differs from the first answer")
			break
		}
	}
	var codes []string
	for code, n := range refused {
		codes = append(codes, fmt.Sprintf("%s×%d", code, n))
		if !slices.Contains(allowed, code) {
			problems = append(problems, "unexpected "+code)
		}
	}
	sort.Strings(codes)
	s.guarantee("answers, "+keys, len(problems) == 0, "%d copies: %d first-hand, %d replayed, refused %s%s",
		len(answers), len(winners), len(replayed), orNone(codes), listed(problems))
	if len(winners) == 0 {
		return reply{}, false
	}
	return winners[0], true
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
