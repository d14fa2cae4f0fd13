package bff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/notify"
	"zwfw/platform/jobs"
	"zwfw/platform/testenv"
	"zwfw/renewals"
	sbprovince "zwfw/sandbox/province"
)

// licenceJobs counts the user's licence reminders (their send jobs) by rule.
func (s *server) licenceJobs(userID string) map[string]int {
	s.t.Helper()
	cur, err := s.app.DB().Collection(jobs.CollectionName).Find(context.Background(), bson.D{
		{Key: "type", Value: notify.JobSend},
		{Key: "idempotency_key", Value: bson.D{{Key: "$regex", Value: "^dedup:" + userID + ":license\\."}}},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	var docs []struct {
		Key string `bson:"idempotency_key"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		s.t.Fatal(err)
	}
	// A reminder held back by quiet hours is sent by a second job of its
	// own ("<key>@defer:<unix>"): it is still one reminder.
	out, seen := map[string]int{}, map[string]bool{}
	for _, d := range docs {
		key, _, _ := strings.Cut(d.Key, "@defer:")
		if seen[key] {
			continue
		}
		seen[key] = true
		rule := strings.SplitN(strings.TrimPrefix(key, "dedup:"+userID+":"), ":", 2)[0]
		out[rule]++
	}
	return out
}

// messageState is the state of the reminder message with the dedup id ("" when there is none).
func (s *server) messageState(id string) string {
	s.t.Helper()
	var m struct {
		State string `bson:"state"`
	}
	if err := s.app.DB().Collection(notify.MessagesCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&m); err != nil {
		return ""
	}
	return m.State
}

// A licence expiring in 20 days gets its renewal reminders scheduled once
// however often the licences are read (the 30-day one at once, the 7-day
// one on its day); renewing it cancels them; the daily sweep schedules
// those of a verified user who never reads their licences.
func TestLicenceRemindersFollowTheLicences(t *testing.T) {
	s := start(t, fastCallbacks)
	me, _ := s.verifiedCitizen("licensee")
	if r := s.request("PUT", "/api/v1/me/notification-settings", me.Access, map[string]any{
		"channels": map[string][]string{}, "quiet_hours": map[string]any{"enabled": false, "start": "22:00", "end": "08:00"}}); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	var ls struct {
		Licenses []struct {
			ID, Type, Status string
			ExpiresOn        string `json:"expires_on"`
		} `json:"licenses"`
	}
	read := func() {
		t.Helper()
		r := s.request("GET", "/api/v1/me/licenses", me.Access, nil)
		if r.Status != 200 {
			t.Fatalf("licences: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &ls)
	}
	read()
	var driving, expires string
	for _, l := range ls.Licenses {
		if l.Type == "driving_license" && l.Status == "valid" {
			driving, expires = l.ID, l.ExpiresOn
		}
	}
	in20 := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 20).Format("2006-01-02")
	if driving == "" || expires != in20 {
		t.Fatalf("张三's driving licence %q expires %q, want %s", driving, expires, in20)
	}
	read()
	read()
	if got := s.licenceJobs(me.UserID); got[notify.RuleLicenseExpiry30] != 1 || got[notify.RuleLicenseExpiry7] != 1 || len(got) != 2 {
		t.Fatalf("licence reminder jobs after three reads: %v", got)
	}
	var bodies []string
	testenv.WaitFor(t, "the renewal reminder, sent at once", func() bool {
		bodies = s.inboxBodies(me.Access, notify.RuleLicenseExpiry30)
		return len(bodies) == 1
	})
	if !strings.Contains(bodies[0], "机动车驾驶证") || !strings.Contains(bodies[0], in20) {
		t.Fatalf("reminder %q", bodies[0])
	}

	// Renewed at the traffic police: the old licence's 7-day reminder is cancelled.
	code, renewed := s.sandboxControl("POST", "/sandbox/province/licenses/"+driving+"/renew",
		map[string]string{"expires_on": time.Now().AddDate(6, 0, 0).Format("2006-01-02")})
	if code != 200 {
		t.Fatalf("renew: %d %v", code, renewed)
	}
	read()
	old7 := notify.DedupID(me.UserID, notify.RuleLicenseExpiry7, "license:"+driving+"@"+in20)
	if st := s.messageState(old7); st != "cancelled" {
		t.Fatalf("the old licence's 7-day reminder is %q", st)
	}
	if got := s.licenceJobs(me.UserID); len(got) != 2 || got[notify.RuleLicenseExpiry7] != 1 {
		t.Fatalf("reminder jobs after the renewal (six years out: none new): %v", got)
	}
	read()
	if n := len(s.inboxBodies(me.Access, notify.RuleLicenseExpiry30)); n != 1 {
		t.Fatalf("%d renewal reminders", n)
	}

	// 林小红 is verified and never reads her licences: the daily sweep finds
	// her ID card, expiring in 25 days.
	lin := sbprovince.DemoPeople[4]
	her := s.loginWeChat("lin")
	if r := s.request("POST", "/api/v1/me/realname", her.Access, map[string]string{"name": lin.Name, "id_number": lin.IDNumber}); r.Status != 200 {
		t.Fatalf("realname: %d %s", r.Status, r.Body)
	}
	if got := s.licenceJobs(her.UserID); len(got) != 0 {
		t.Fatalf("jobs before the sweep: %v", got)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if _, _, err := s.app.Jobs().Enqueue(context.Background(), jobs.EnqueueRequest{Type: renewals.JobSweep, Key: "test:" + today,
		Payload: map[string]string{"day": today, "after": ""}}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the sweep's reminders for 林小红", func() bool {
		got := s.licenceJobs(her.UserID)
		return got[notify.RuleLicenseExpiry30] == 1 && got[notify.RuleLicenseExpiry7] == 1
	})
	if got := s.licenceJobs(me.UserID); len(got) != 2 {
		t.Fatalf("the sweep changed 张三's (fresh) reminders: %v", got)
	}
}
