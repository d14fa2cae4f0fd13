package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"zwfw/apperr"
	"zwfw/platform/jobs"
)

// A merge makes two persons one when a login proven by one belongs to the
// other: the caller's person survives, the other is absorbed. It is a
// durable job (JobMerge) of named steps, each idempotent (a move by owner
// field, or a union), and a record (MergesCollection) that says which steps
// are done, so a crash anywhere resumes where it stopped and nothing moves
// twice. The record is also the audit: who asked (person and session),
// when, by which proof, which logins came over, what each step moved.
//
// The steps, in order:
//   - identity.commit: the absorbed person points to the survivor; from
//     here every look-up of its id, its logins, its refresh tokens and (by a
//     Redis alias for an access token's lifetime) its access tokens lead to
//     the survivor, so nothing new is written under the absorbed id;
//   - identity.profile: the survivor lists the absorbed logins and takes its
//     companies, roles, and (when it has none) its real-name identity, phone
//     and WeChat;
//   - identity.logins, identity.sessions: login keys, session families and
//     refresh tokens move;
//   - one step per domain (cases, bookings, payments, shipments, reminders):
//     its Reassigner moves the records by owner;
//   - finish: the survivor's lock is released and the record closed.
//
// A late sweep (JobMergeSweep, after the longest an old access token can
// live) runs the moves again, for what was written under the absorbed id
// while Redis could not say it was merged.

// Job types of merges.
const (
	JobMerge      = "identity.merge"
	JobMergeSweep = "identity.merge_sweep"
)

// Reassigner moves one domain's records of a person to another. Declared
// here, where it is used; each domain implements it over its own store and
// bff wires them. Moving again after a crash must move only what is left.
type Reassigner interface {
	Reassign(ctx context.Context, from, to string) (moved int64, err error)
}

// ReassignFunc adapts a function to Reassigner.
type ReassignFunc func(ctx context.Context, from, to string) (int64, error)

// Reassign implements Reassigner.
func (f ReassignFunc) Reassign(ctx context.Context, from, to string) (int64, error) {
	return f(ctx, from, to)
}

// Domain is a merge step of a domain.
type Domain struct {
	Name string // the step's name in the record, e.g. "booking"
	Move Reassigner
}

// MergeQueue is where merges run (implemented by *jobs.Queue).
type MergeQueue interface {
	Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error)
}

// MergeOptions wire merges once the domains exist.
type MergeOptions struct {
	Queue   MergeQueue
	Domains []Domain
	// Wait is how long a link waits for the merge it started (default 5 s);
	// after that the answer says it is still running.
	Wait time.Duration
	// StopAfterSteps is a test hook for crash tests (0 = off): after this
	// many steps were recorded in this process, the next step does its
	// writes and then the merge stops, unrecorded, as if the process died
	// there; later runs in this process stop at once.
	StopAfterSteps int
}

// UseMerges enables merges (bff calls it after building the domains).
func (s *Service) UseMerges(o MergeOptions) {
	if o.Wait <= 0 {
		o.Wait = 5 * time.Second
	}
	s.merge = o
}

// MergeState is where a merge stands.
type MergeState string

// The states of a merge.
const (
	MergeRunning MergeState = "running"
	MergeDone    MergeState = "done"
	// MergeRefused: by the time the job ran, the two could not be merged
	// (e.g. one was verified as another person meanwhile); nothing moved.
	MergeRefused MergeState = "refused"
)

// Merge is the record of one merge.
type Merge struct {
	ID       string     `bson:"_id"`
	State    MergeState `bson:"state"`
	Survivor string     `bson:"survivor"`
	Absorbed string     `bson:"absorbed"`
	// The proof that started it: the login proven and how.
	Login Login  `bson:"login"`
	Via   string `bson:"via"`
	// AbsorbedLogins are the absorbed person's logins as they came over (masked).
	AbsorbedLogins []Login `bson:"absorbed_logins"`
	// Who asked: the caller's person and session.
	ActorUserID  string            `bson:"actor_user_id"`
	ActorSession string            `bson:"actor_session"`
	Refusal      string            `bson:"refusal,omitempty"`
	Steps        []MergeStepRecord `bson:"steps"`
	RequestedAt  time.Time         `bson:"requested_at"`
	StartedAt    time.Time         `bson:"started_at"`
	FinishedAt   *time.Time        `bson:"finished_at,omitempty"`
	Sweep        *MergeSweep       `bson:"sweep,omitempty"`
}

// MergeStepRecord is one step done: when, and how many records it moved.
type MergeStepRecord struct {
	Name  string    `bson:"name"`
	At    time.Time `bson:"at"`
	Moved int64     `bson:"moved"`
}

// MergeSweep is what the late sweep moved, per step.
type MergeSweep struct {
	At    time.Time         `bson:"at"`
	Steps []MergeStepRecord `bson:"steps"`
}

// Done reports whether the step is recorded.
func (m *Merge) Done(step string) bool {
	for _, s := range m.Steps {
		if s.Name == step {
			return true
		}
	}
	return false
}

// mergePayload is the job's payload: what the link asked for.
type mergePayload struct {
	ID           string    `bson:"id"`
	Survivor     string    `bson:"survivor"`
	Absorbed     string    `bson:"absorbed"`
	Login        Login     `bson:"login"`
	ActorUserID  string    `bson:"actor_user_id"`
	ActorSession string    `bson:"actor_session"`
	RequestedAt  time.Time `bson:"requested_at"`
}

// errMergeHalted is what the crash-test hook stops a merge with.
var errMergeHalted = errors.New("identity: merge halted by the test hook")

// mergeable refuses to make one person of two verified as different people.
func mergeable(survivor, absorbed *User) error {
	if absorbed.Kind != KindPublic {
		return ErrLinkNotPublic
	}
	if survivor.RealNameVerified && absorbed.RealNameVerified && survivor.IDNumberIndex != absorbed.IDNumberIndex {
		return ErrLinkOtherPerson
	}
	if absorbed.MergeLock != "" {
		return ErrMergeInProgress
	}
	return nil
}

// startMerge queues the merge of absorbed into survivor and waits for it a
// little. The job, not this request, does the work: a crash of this process
// (or a client that gives up) leaves it to finish on any replica.
func (s *Service) startMerge(ctx context.Context, p *Principal, survivor, absorbed *User, ref Login) (*Merge, error) {
	if s.merge.Queue == nil {
		return nil, ErrMergeInProgress.WithMessage("暂不支持账号合并").WithCause(errors.New("identity: merges not wired"))
	}
	now := s.clock()
	pl := mergePayload{ID: newID("mg_"), Survivor: survivor.ID, Absorbed: absorbed.ID, Login: ref,
		ActorUserID: p.UserID, ActorSession: p.SessionID, RequestedAt: now}
	if _, _, err := s.merge.Queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobMerge, Key: pl.ID, Payload: pl, MaxAttempts: 100}); err != nil {
		return nil, err
	}
	s.log.Info("merge queued", "merge", pl.ID, "survivor", survivor.ID, "absorbed", absorbed.ID, "login", ref.ID(), "via", ref.Via)
	return s.awaitMerge(ctx, pl)
}

// awaitMerge polls the merge record until it is finished or Wait passed.
func (s *Service) awaitMerge(ctx context.Context, pl mergePayload) (*Merge, error) {
	deadline := time.Now().Add(s.merge.Wait)
	for {
		m, err := s.merges.Merge(ctx, pl.ID)
		if err != nil {
			return nil, err
		}
		if m != nil && m.State != MergeRunning {
			return m, nil
		}
		if time.Now().After(deadline) {
			if m == nil {
				m = &Merge{ID: pl.ID, State: MergeRunning, Survivor: pl.Survivor, Absorbed: pl.Absorbed, Login: pl.Login,
					Via: pl.Login.Via, RequestedAt: pl.RequestedAt, Steps: []MergeStepRecord{}}
			}
			return m, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// mergeStep is one named, idempotent step of a merge.
type mergeStep struct {
	name string
	run  func(ctx context.Context, m *Merge) (int64, error)
}

func (s *Service) mergeSteps() []mergeStep {
	steps := []mergeStep{
		{"identity.commit", s.commitMerge},
		{"identity.profile", s.mergeProfile},
		{"identity.logins", func(ctx context.Context, m *Merge) (int64, error) {
			return s.merges.MoveLoginKeys(ctx, m.Absorbed, m.Survivor)
		}},
		{"identity.sessions", func(ctx context.Context, m *Merge) (int64, error) {
			return s.merges.MoveSessions(ctx, m.Absorbed, m.Survivor)
		}},
	}
	for _, d := range s.merge.Domains {
		steps = append(steps, mergeStep{d.Name, func(ctx context.Context, m *Merge) (int64, error) {
			return d.Move.Reassign(ctx, m.Absorbed, m.Survivor)
		}})
	}
	return steps
}

// HandleMergeJob runs (or resumes) a merge; the job handler of JobMerge.
func (s *Service) HandleMergeJob(ctx context.Context, j *jobs.Job) error {
	if s.halted.Load() {
		return errMergeHalted
	}
	var pl mergePayload
	if err := j.Decode(&pl); err != nil {
		return jobs.Permanent(err)
	}
	m, err := s.merges.Merge(ctx, pl.ID)
	if err != nil {
		return err
	}
	if m == nil {
		if m, err = s.beginMerge(ctx, pl); err != nil {
			return err
		}
	}
	if m.State != MergeRunning {
		return nil
	}
	for _, st := range s.mergeSteps() {
		if m.Done(st.name) {
			continue
		}
		moved, err := st.run(ctx, m)
		if err != nil {
			return fmt.Errorf("merge %s: step %s: %w", m.ID, st.name, err)
		}
		if n := s.merge.StopAfterSteps; n > 0 && s.stepsRecorded.Load() >= int64(n) {
			s.halted.Store(true)
			s.log.Warn("merge halted by the test hook", "merge", m.ID, "step", st.name)
			return errMergeHalted
		}
		if _, err := s.merges.RecordMergeStep(ctx, m.ID, MergeStepRecord{Name: st.name, At: s.clock(), Moved: moved}); err != nil {
			return err
		}
		s.stepsRecorded.Add(1)
	}
	return s.finishMerge(ctx, m)
}

// beginMerge resolves the two persons as they are now, locks both and
// writes the record. Run again after a crash, it takes the same locks
// (they name this merge) and finds the record.
func (s *Service) beginMerge(ctx context.Context, pl mergePayload) (*Merge, error) {
	survivor, err := s.person(ctx, pl.Survivor)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	absorbed, err := s.person(ctx, pl.Absorbed)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	now := s.clock()
	m := &Merge{ID: pl.ID, State: MergeRunning, Survivor: survivor.ID, Absorbed: absorbed.ID, Login: pl.Login, Via: pl.Login.Via,
		AbsorbedLogins: absorbed.Logins, ActorUserID: pl.ActorUserID, ActorSession: pl.ActorSession,
		RequestedAt: pl.RequestedAt, StartedAt: now, Steps: []MergeStepRecord{}}
	if m.AbsorbedLogins == nil {
		m.AbsorbedLogins = []Login{}
	}
	refuse := func(reason string) (*Merge, error) {
		// Locks this merge may hold from a run a crash interrupted go back.
		for _, id := range []string{survivor.ID, absorbed.ID} {
			if err := s.setMergeLock(ctx, id, pl.ID, false); err != nil {
				return nil, err
			}
		}
		m.State, m.Refusal, m.FinishedAt = MergeRefused, reason, &now
		s.log.Warn("merge refused", "merge", m.ID, "reason", reason)
		return s.merges.CreateMerge(ctx, m)
	}
	if survivor.ID == absorbed.ID {
		return refuse("ALREADY_ONE_PERSON")
	}
	if err := mergeable(survivor, absorbed); err != nil && !errors.Is(err, ErrMergeInProgress) {
		return refuse(apperr.From(err).Code)
	}
	// Locks are taken in one order (by id), so two merges of the same two
	// persons in opposite directions cannot hold one lock each for ever.
	order := []string{survivor.ID, absorbed.ID}
	slices.Sort(order)
	for i, id := range order {
		if err := s.setMergeLock(ctx, id, pl.ID, true); err != nil {
			if i == 1 {
				if uerr := s.setMergeLock(ctx, order[0], pl.ID, false); uerr != nil {
					return nil, uerr
				}
			}
			if errors.Is(err, ErrMergeInProgress) {
				// Another merge holds one of them: this one waits its turn.
				return nil, jobs.RetryAfter(err, 2*time.Second)
			}
			return nil, err
		}
	}
	return s.merges.CreateMerge(ctx, m)
}

// setMergeLock takes (on) or releases the person's merge lock for merge id.
// Taking a lock another merge holds is ErrMergeInProgress.
func (s *Service) setMergeLock(ctx context.Context, userID, id string, on bool) error {
	_, err := s.updateUser(ctx, userID, func(u *User) error {
		switch {
		case on && u.MergeLock == id, !on && u.MergeLock != id:
			return errUnchanged
		case on && u.MergeLock != "":
			return ErrMergeInProgress
		case on:
			u.MergeLock = id
		default:
			u.MergeLock = ""
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// errUnchanged tells updateUser's callers that nothing needed writing.
var errUnchanged = errors.New("identity: unchanged")

// commitMerge points the absorbed person to the survivor, and aliases its
// access tokens for as long as one issued before now can live.
func (s *Service) commitMerge(ctx context.Context, m *Merge) (int64, error) {
	_, err := s.updateUser(ctx, m.Absorbed, func(u *User) error {
		if u.MergedInto == m.Survivor {
			return errUnchanged
		}
		u.MergedInto = m.Survivor
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return 0, err
	}
	if s.revoked != nil {
		if err := s.revoked.Alias(ctx, m.Absorbed, m.Survivor, s.tokens.Lifetime()+time.Minute); err != nil {
			s.log.Warn("merge alias not written; old access tokens act for the absorbed id, which look-ups follow, until the sweep", "err", err)
		}
	}
	return 1, nil
}

// mergeProfile gives the survivor the absorbed person's logins, companies
// and roles, and, where the survivor has none, its real-name identity
// (with the identity's claim), phone and WeChat. A union: repeating it adds nothing.
func (s *Service) mergeProfile(ctx context.Context, m *Merge) (int64, error) {
	absorbed, err := s.users.UserByID(ctx, m.Absorbed)
	if err != nil {
		return 0, err
	}
	logins := append([]Login(nil), absorbed.Logins...)
	if !absorbed.HasLogin(m.Login.Key) {
		logins = append(logins, m.Login) // a person listed before logins were
	}
	var moved int64
	_, err = s.updateUser(ctx, m.Survivor, func(u *User) error {
		moved = 0
		for _, l := range logins {
			if u.HasLogin(l.Key) {
				continue
			}
			if l.ID() == m.Login.ID() {
				l.Via = m.Via
			} else {
				l.Via = ViaMerge
			}
			l.LinkedAt = m.StartedAt
			u.addLogin(l)
			moved++
		}
		if u.PhoneIndex == "" && absorbed.PhoneIndex != "" {
			u.PhoneEnc, u.PhoneIndex, u.PhoneMasked = absorbed.PhoneEnc, absorbed.PhoneIndex, absorbed.PhoneMasked
		}
		if u.WeChatOpenID == "" && absorbed.WeChatOpenID != "" {
			u.WeChatOpenID, u.WeChatUnionID = absorbed.WeChatOpenID, absorbed.WeChatUnionID
		}
		if u.DisplayName == "" {
			u.DisplayName = absorbed.DisplayName
		}
		if !u.RealNameVerified && absorbed.RealNameVerified {
			u.RealNameVerified, u.RealNameVerifiedAt, u.RealNameVerifyID = true, absorbed.RealNameVerifiedAt, absorbed.RealNameVerifyID
			u.NameEnc, u.NameMasked = absorbed.NameEnc, absorbed.NameMasked
			u.IDNumberEnc, u.IDNumberIndex, u.IDNumberMasked = absorbed.IDNumberEnc, absorbed.IDNumberIndex, absorbed.IDNumberMasked
		}
		for _, c := range absorbed.Companies {
			if !hasCompany(u, c.USCC) {
				u.Companies = append(u.Companies, c)
			}
		}
		for _, r := range absorbed.Roles {
			if !u.HasRole(r) {
				u.Roles = append(u.Roles, r)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if absorbed.RealNameVerified {
		if err := s.claims.MoveClaim(ctx, absorbed.IDNumberIndex, absorbed.ID, m.Survivor, s.clock()); err != nil {
			return 0, err
		}
	}
	return moved, nil
}

func hasCompany(u *User, uscc string) bool {
	for _, c := range u.Companies {
		if c.USCC == uscc {
			return true
		}
	}
	return false
}

// finishMerge releases the survivor (before closing the record, so a crash
// in between repeats the release, never skips it), closes the record and
// plans the late sweep.
func (s *Service) finishMerge(ctx context.Context, m *Merge) error {
	if err := s.setMergeLock(ctx, m.Survivor, m.ID, false); err != nil {
		return err
	}
	now := s.clock()
	if _, _, err := s.merge.Queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobMergeSweep, Key: m.ID, Payload: mergePayload{ID: m.ID},
		RunAt: now.Add(s.tokens.Lifetime() + 2*time.Minute)}); err != nil {
		return err
	}
	if err := s.merges.FinishMerge(ctx, m.ID, MergeDone, now); err != nil {
		return err
	}
	if rec, err := s.merges.Merge(ctx, m.ID); err == nil && rec != nil {
		m = rec // with the steps this run recorded
	}
	moved := make([]any, 0, 2*len(m.Steps))
	for _, st := range m.Steps {
		moved = append(moved, st.Name, st.Moved)
	}
	s.log.Info("merge done", "merge", m.ID, "survivor", m.Survivor, "absorbed", m.Absorbed, "via", m.Via,
		"login", m.Login.ID(), "actor", m.ActorUserID, "session", m.ActorSession, "absorbed_logins", len(m.AbsorbedLogins),
		slog.Group("moved", moved...))
	return nil
}

// HandleMergeSweepJob moves, once more, what was written under the absorbed
// id after the merge (by a token Redis could not alias); the job handler of
// JobMergeSweep. What it moved is kept on the record.
func (s *Service) HandleMergeSweepJob(ctx context.Context, j *jobs.Job) error {
	var pl mergePayload
	if err := j.Decode(&pl); err != nil {
		return jobs.Permanent(err)
	}
	m, err := s.merges.Merge(ctx, pl.ID)
	if err != nil || m == nil || m.State != MergeDone {
		return err
	}
	survivor, err := s.person(ctx, m.Survivor) // merged again since: its survivor
	if err != nil {
		return err
	}
	sw := MergeSweep{Steps: []MergeStepRecord{}}
	for _, st := range s.mergeSteps()[2:] { // the moves; commit and profile are done for good
		moved, err := st.run(ctx, &Merge{ID: m.ID, Absorbed: m.Absorbed, Survivor: survivor.ID})
		if err != nil {
			return err
		}
		sw.Steps = append(sw.Steps, MergeStepRecord{Name: st.name, At: s.clock(), Moved: moved})
	}
	sw.At = s.clock()
	return s.merges.RecordSweep(ctx, m.ID, sw)
}

// stepsRecorded and halted serve the crash-test hook.
type mergeHook struct {
	stepsRecorded atomic.Int64
	halted        atomic.Bool
}
