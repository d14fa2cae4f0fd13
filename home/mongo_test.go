package home_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"zwfw/home"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The index store on the real database: adds are sets, a rebuild keeps
// what events added meanwhile, removes and merges by _id.
func TestMongoIndexStore(t *testing.T) {
	ctx := context.Background()
	s := home.NewMongoIndexStore(testenv.DB(t))
	if idx, err := s.Index(ctx, "u1"); err != nil || idx != nil {
		t.Fatalf("no index yet: %v %v", idx, err)
	}
	for range 2 {
		if err := s.Add(ctx, "u1", home.PartBookings, "b_1", "b_2"); err != nil {
			t.Fatal(err)
		}
	}
	built := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)
	if err := s.Rebuilt(ctx, &home.Index{UserID: "u1", Cases: []string{"c_1"}, Bookings: []string{"b_3"}, BuiltAt: built}); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "u1", home.PartBookings, "b_1", "b_9"); err != nil {
		t.Fatal(err)
	}
	idx, err := s.Index(ctx, "u1")
	if err != nil || !slices.Equal(idx.Bookings, []string{"b_2", "b_3"}) || !slices.Equal(idx.Cases, []string{"c_1"}) ||
		len(idx.Payments) != 0 || !idx.BuiltAt.Equal(built) {
		t.Fatalf("index %+v %v", idx, err)
	}
	if err := s.Add(ctx, "u2", home.PartCases, "c_2"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ReassignUser(ctx, "u2", "u1"); err != nil || n != 2 {
		t.Fatalf("merge forgot %d indexes: %v", n, err)
	}
	if idx, _ := s.Index(ctx, "u1"); idx != nil {
		t.Fatalf("the survivor's index is still there: %+v", idx)
	}
}
