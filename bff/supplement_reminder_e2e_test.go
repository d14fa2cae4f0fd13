package bff_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
	sbprovince "zwfw/sandbox/province"
)

// inboxBodies lists the bodies of the user's messages of rule, newest first.
func (s *server) inboxBodies(token, rule string) []string {
	s.t.Helper()
	var inbox struct {
		Items []struct {
			Rule string `json:"rule"`
			Body string `json:"body"`
		} `json:"items"`
	}
	s.request("GET", "/api/v1/me/notifications", token, nil).JSON(s.t, &inbox)
	var out []string
	for _, it := range inbox.Items {
		if it.Rule == rule {
			out = append(out, it.Body)
		}
	}
	return out
}

// The 补正 reminder names the materials as the guide does, carries the
// clerk's note and gives the real deadline: the guide's working days from
// the request on the official calendar, or the province's own date.
func TestSupplementReminderSaysWhatWhyAndUntilWhen(t *testing.T) {
	s := start(t, fastCallbacks)
	fake := s.app.Sandbox().ProvinceServer()
	me, id, number := s.submittedCase("supplementee")
	g := onlineItem(t, fake)
	if g.SupplementDays == 0 {
		t.Fatalf("guide %s states no supplement days", g.Code)
	}
	m := g.Materials[0]
	advance(t, fake, number, sbprovince.Advance{Status: "accepted"})
	s.waitCase(me.Access, id, "accepted", statusIs("accepted"))
	requested := time.Now()
	advance(t, fake, number, sbprovince.Advance{Status: "supplement_requested", Note: "复印件模糊，请重新扫描", Materials: []string{m.ID}})
	c := s.waitCase(me.Access, id, "supplement requested", statusIs("supplement_requested"))

	cal, err := workdays.NewCalendar(context.Background(), workdays.NewMongoStore(s.app.DB()))
	if err != nil {
		t.Fatal(err)
	}
	due := cal.Times().AddWorkdays(requested, g.SupplementDays).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if c["supplement_due"] != due {
		t.Fatalf("the case's supplement_due %v, want %s (%d working days)", c["supplement_due"], due, g.SupplementDays)
	}
	var bodies []string
	testenv.WaitFor(t, "the supplement reminder", func() bool {
		bodies = s.inboxBodies(me.Access, "case.supplement")
		return len(bodies) == 1
	})
	for _, want := range []string{number, m.Name, "复印件模糊，请重新扫描", "请于" + due + "前提交"} {
		if !strings.Contains(bodies[0], want) {
			t.Fatalf("reminder %q does not say %q", bodies[0], want)
		}
	}
	if strings.Contains(bodies[0], "尽快") || strings.Contains(bodies[0], "："+m.ID) {
		t.Fatalf("reminder %q", bodies[0])
	}

	// Supplemented; asked again, with the province's own deadline.
	s.upload(me.Access, id, m.ID, "again.pdf", bytes.NewReader(minimalPDF))
	if r := s.request("POST", "/api/v1/cases/"+id+"/supplement", me.Access, nil, "Idempotency-Key", "supp-"+id); r.Status != 200 {
		t.Fatalf("supplement: %d %s", r.Status, r.Body)
	}
	provinceDue := time.Now().AddDate(0, 0, 12).Format("2006-01-02")
	advance(t, fake, number, sbprovince.Advance{Status: "supplement_requested", Note: "还缺原件照片", Materials: []string{m.ID}, SupplementDue: provinceDue})
	testenv.WaitFor(t, "the second supplement reminder", func() bool {
		bodies = s.inboxBodies(me.Access, "case.supplement")
		return len(bodies) == 2
	})
	if !strings.Contains(bodies[0], "请于"+provinceDue+"前提交") || !strings.Contains(bodies[0], "还缺原件照片") {
		t.Fatalf("second reminder %q", bodies[0])
	}
	if c := s.getCase(me.Access, id); c["supplement_due"] != provinceDue {
		t.Fatalf("the case's supplement_due %v, want the province's %s", c["supplement_due"], provinceDue)
	}
}
