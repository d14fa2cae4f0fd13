package bff

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/booking"
	"zwfw/identity"
	"zwfw/platform/mongox"
)

const demoBookingSeedID = "seed:demo:booking:v1"

// seedDemoBooking gives every sandbox hall a booking template (one window
// per department, serving its bookable items listed at the hall, two places
// per 30-minute slot) and assigns the demo clerk hall01 to 鼓楼区政务服务中心.
func (a *App) seedDemoBooking(ctx context.Context) error {
	if a.sandbox == nil {
		return nil
	}
	meta := mongox.C(a.db, "meta")
	err := meta.FindOne(ctx, bson.D{{Key: "_id", Value: demoBookingSeedID}}).Err()
	if err == nil {
		return nil
	}
	if !mongox.IsNoDocuments(err) {
		return err
	}
	fake := a.sandbox.ProvinceServer()
	for _, h := range fake.Halls() {
		byDept := map[string]*booking.Window{}
		var order []string
		for _, it := range fake.Items() {
			if !it.Bookable {
				continue
			}
			for _, ih := range it.Halls {
				if ih.ID != h.ID {
					continue
				}
				w, ok := byDept[it.DeptCode]
				if !ok {
					w = &booking.Window{ID: "w-" + it.DeptCode, Name: it.Dept + "窗口", PerSlotCapacity: 2}
					byDept[it.DeptCode] = w
					order = append(order, it.DeptCode)
				}
				w.ItemCodes = append(w.ItemCodes, it.Code)
			}
		}
		if len(order) == 0 {
			continue
		}
		cfg := booking.HallConfig{ID: h.ID, Name: h.Name, Address: h.Address, Lat: h.Lat, Lng: h.Lng, Phone: h.Phone, Hours: h.Hours}
		for _, d := range order {
			cfg.Windows = append(cfg.Windows, *byDept[d])
		}
		if _, err := a.booking.PutHallConfig(ctx, cfg); err != nil && !errors.Is(err, booking.ErrStateConflict) {
			return err
		}
	}
	if staff, err := a.identity.StaffByUsername(ctx, "hall01"); err == nil {
		if _, err := a.identity.AssignHalls(ctx, staff.ID, []string{"fz-gl"}); err != nil {
			return err
		}
	} else if !errors.Is(err, identity.ErrUserNotFound) {
		return err
	}
	_, err = meta.InsertOne(ctx, bson.D{{Key: "_id", Value: demoBookingSeedID}, {Key: "at", Value: time.Now().UTC()}})
	if err != nil && !mongox.IsDuplicateKey(err) {
		return err
	}
	return nil
}
