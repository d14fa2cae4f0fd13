package bff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/cases"
	"zwfw/platform/mongox"
	"zwfw/platform/workdays"
	sbprovince "zwfw/sandbox/province"
)

// demoEvaluationSeedID is the meta document of the demo 差评: the demo
// rater and the case while it is under way, done once the case is rated.
const demoEvaluationSeedID = "seed:demo:evaluation:v1"

type demoEvaluationSeed struct {
	ID     string    `bson:"_id"`
	UserID string    `bson:"user_id,omitempty"`
	CaseID string    `bson:"case_id,omitempty"`
	Done   bool      `bson:"done"`
	At     time.Time `bson:"at"`
}

// The demo citizen who rates a case 差评: a WeChat test login verified as a
// person the sandbox registers on the spot, not one of the documented demo
// people (an identity has one holder: theirs stay free for whoever tries
// the demo).
const (
	demoRaterCode     = "test:demo-rater"
	demoRaterName     = "郑演示"
	demoRaterIDNumber = "350102198808082462"
	demoRaterPhone    = "13300133001"
)

// demoPDF is the material the demo case carries.
var demoPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// errDemoCaseLost: the sandbox (in memory) restarted before the demo case
// was finished there; a new case is filed.
var errDemoCaseLost = errors.New("the sandbox province no longer knows the demo case")

// seedDemoEvaluation gives the demo supervisor (jiancha01) a rectification
// on the 好差评 page: a demo citizen files a case, the sandbox province
// accepts and approves it, and the citizen rates it 不满意 — each step
// through the services the API, the jobs and the province's callbacks use,
// so the case's evaluation event opens the rectification in the rectify
// consumer like any other. It runs in the background once the app serves
// (the province calls back), once per database: the meta document keeps
// the case across restarts until it is rated; a case the restarted
// (in-memory) sandbox no longer knows is replaced by a new one before it is
// rated, so there is never a second rectification.
func (a *App) seedDemoEvaluation(ctx context.Context) {
	if err := a.demoEvaluation(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("demo 差评 not seeded; tried again at the next start", "err", err)
	}
}

func (a *App) demoEvaluation(ctx context.Context) error {
	meta := mongox.C(a.db, "meta")
	var st demoEvaluationSeed
	switch err := meta.FindOne(ctx, bson.D{{Key: "_id", Value: demoEvaluationSeedID}}).Decode(&st); {
	case err == nil && st.Done:
		return nil
	case mongox.IsNoDocuments(err):
		// Claimed by one insert: of replicas starting together on a new
		// database, one seeds.
		st = demoEvaluationSeed{ID: demoEvaluationSeedID, At: time.Now().UTC()}
		if _, err := meta.InsertOne(ctx, st); err != nil {
			if mongox.IsDuplicateKey(err) {
				return nil
			}
			return err
		}
	case err != nil:
		return err
	}
	save := func() error {
		st.At = time.Now().UTC()
		_, err := meta.ReplaceOne(ctx, bson.D{{Key: "_id", Value: st.ID}}, st, options.Replace().SetUpsert(true))
		return err
	}
	fake := a.sandbox.ProvinceServer()
	for fake.CallbackURL() == "" { // not serving yet: the province could not call back
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if st.UserID == "" {
		sess, err := a.identity.LoginWeChat(ctx, demoRaterCode)
		if err != nil {
			return fmt.Errorf("demo rater login: %w", err)
		}
		p, err := a.identity.VerifyToken(sess.AccessToken)
		if err != nil {
			return err
		}
		if _, err := a.identity.VerifyRealName(ctx, p, demoRaterName, demoRaterIDNumber); err != nil {
			return fmt.Errorf("demo rater real name: %w", err)
		}
		st.UserID = p.UserID
		if err := save(); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		c, err := a.demoCaseOf(ctx, &st, save)
		if err != nil {
			return err
		}
		c, err = a.finishDemoCase(ctx, st.UserID, c)
		if errors.Is(err, errDemoCaseLost) && attempt == 0 {
			a.log.Info("demo case lost by the restarted sandbox; filing another", "case_id", st.CaseID)
			st.CaseID = ""
			continue
		}
		if err != nil {
			return err
		}
		// 不满意, or worse if rectifications are opened only below it.
		level := min(2, a.rectify.MaxLevel())
		_, err = a.cases.Evaluate(ctx, st.UserID, c.ID, level, []string{"too_slow", "many_trips"}, "材料交了很久才办好，还跑了两趟窗口")
		if err != nil && !errors.Is(err, cases.ErrEvaluated) {
			return fmt.Errorf("demo evaluation: %w", err)
		}
		st.Done = true
		return save()
	}
}

// demoCaseOf is the demo case under way, or a new draft with its
// materials (recorded before anything else is done with it).
func (a *App) demoCaseOf(ctx context.Context, st *demoEvaluationSeed, save func() error) (*cases.Case, error) {
	if st.CaseID != "" {
		c, err := a.cases.ByID(ctx, st.CaseID)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, cases.ErrNotFound) {
			return nil, err
		}
	}
	g, ok := demoItem(a.sandbox.ProvinceServer().Items())
	if !ok {
		return nil, errors.New("the sandbox has no online item for a person")
	}
	form := map[string]any{}
	for _, f := range g.FormFields {
		switch f.Name {
		case "applicant_name", "applicant_id_number":
			continue // from the account
		}
		switch f.Type {
		case "phone":
			form[f.Name] = demoRaterPhone
		case "enum":
			form[f.Name] = f.Options[0]
		case "number":
			form[f.Name] = 1
		case "date":
			form[f.Name] = workdays.DateOf(time.Now()).String()
		case "id_number":
			form[f.Name] = demoRaterIDNumber
		case "address":
			form[f.Name] = "福州市鼓楼区五四路1号"
		default:
			if f.Required {
				form[f.Name] = "演示"
			}
		}
	}
	c, err := a.cases.CreateDraft(ctx, st.UserID, cases.DraftInput{ItemCode: g.Code, Form: form,
		Delivery: cases.Delivery{Materials: "upload", Result: "electronic"}})
	if err != nil {
		return nil, fmt.Errorf("demo case: %w", err)
	}
	st.CaseID = c.ID
	if err := save(); err != nil {
		return nil, err
	}
	return c, nil
}

// demoItem is the online item for a person with the fewest required
// materials (at least one), first in the catalog among equals.
func demoItem(items []sbprovince.Guide) (sbprovince.Guide, bool) {
	var best sbprovince.Guide
	fewest := 0
	for _, it := range items {
		required := 0
		for _, m := range it.Materials {
			if m.Required {
				required++
			}
		}
		personal := !slices.ContainsFunc(it.FormFields, func(f sbprovince.FormField) bool { return f.Type == "uscc" })
		if it.OnlineApply && personal && required > 0 && (fewest == 0 || required < fewest) {
			best, fewest = it, required
		}
	}
	return best, fewest > 0
}

// finishDemoCase takes the demo case from wherever it is to approved:
// materials, submission (the submission job brings the case number), then
// the sandbox province's clerk accepts and approves it and its callbacks
// bring the statuses. Returns errDemoCaseLost when the sandbox forgot it.
func (a *App) finishDemoCase(ctx context.Context, owner string, c *cases.Case) (*cases.Case, error) {
	var err error
	if c.Status == cases.StatusDraft {
		g, _ := a.sandbox.ProvinceServer().Item(c.ItemCode)
		for _, m := range g.Materials {
			attached := slices.ContainsFunc(c.Materials, func(have cases.Material) bool { return have.SlotID == m.ID })
			if !m.Required || attached {
				continue
			}
			if c, err = a.cases.UploadMaterial(ctx, materialBlobs{a.blobs}, owner, c.ID, m.ID, bytes.NewReader(demoPDF), "材料.pdf"); err != nil {
				return nil, fmt.Errorf("demo material: %w", err)
			}
		}
		if c, err = a.cases.Submit(ctx, owner, c.ID); err != nil {
			return nil, fmt.Errorf("demo submission: %w", err)
		}
	}
	if c, err = a.awaitDemoCase(ctx, c.ID, func(c *cases.Case) bool { return c.CaseNumber != "" }); err != nil {
		return nil, err
	}
	fake := a.sandbox.ProvinceServer()
	for c.Status != cases.StatusCompletedApproved {
		if c.Status.Final() {
			return nil, errDemoCaseLost // ended otherwise (an operator's hand): another one
		}
		pc, ok := fake.CaseByNumber(c.CaseNumber)
		if !ok {
			return nil, errDemoCaseLost
		}
		next := map[string]sbprovince.Advance{
			sbprovince.StatusSubmitted: {Status: sbprovince.StatusAccepted, Note: "材料齐全，予以受理"},
			sbprovince.StatusAccepted:  {Status: sbprovince.StatusCompletedApproved, Note: "准予许可", Result: sbprovince.ResultElectronic},
		}[pc.Status]
		if next.Status != "" {
			if _, err := fake.AdvanceCase(c.CaseNumber, next); err != nil {
				return nil, fmt.Errorf("demo case at the province: %w", err)
			}
		} else if pc.Status != sbprovince.StatusCompletedApproved {
			return nil, errDemoCaseLost
		}
		want := cases.Status(pc.Status)
		if next.Status != "" {
			want = cases.Status(next.Status)
		}
		if c, err = a.awaitDemoCase(ctx, c.ID, func(c *cases.Case) bool { return c.Status == want || c.Status.Final() }); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// awaitDemoCase reads the case until done says it is there (a job or a
// callback moves it), for at most two minutes.
func (a *App) awaitDemoCase(ctx context.Context, id string, done func(*cases.Case) bool) (*cases.Case, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		c, err := a.cases.ByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if done(c) {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("demo case %s stays %s: %w", id, c.Status, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
