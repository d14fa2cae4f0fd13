package identity

import (
	"reflect"
	"testing"
	"time"
)

// cloneUser shares no memory with the user it copies, for every field a
// User has (a field added later fails here until cloneUser copies it).
func TestCloneUserSharesNothing(t *testing.T) {
	var u User
	v := reflect.ValueOf(&u).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		}
	}
	c := reflect.ValueOf(cloneUser(&u)).Elem()
	timeType := reflect.TypeOf(time.Time{})
	// plain: a value copied by assignment shares nothing that can change
	// (time.Time's location is immutable).
	var plain func(ty reflect.Type) bool
	plain = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Slice, reflect.Pointer, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			return false
		case reflect.Array:
			return plain(ty.Elem())
		case reflect.Struct:
			if ty == timeType {
				return true
			}
			for i := range ty.NumField() {
				if !plain(ty.Field(i).Type) {
					return false
				}
			}
		}
		return true
	}
	for i := range v.NumField() {
		name, f, g := v.Type().Field(i).Name, v.Field(i), c.Field(i)
		switch f.Kind() {
		case reflect.Slice, reflect.Pointer:
			if f.Pointer() == g.Pointer() {
				t.Errorf("User.%s: the clone shares it", name)
			}
			if !plain(f.Type().Elem()) {
				t.Errorf("User.%s: its elements hold references cloneUser does not copy", name)
			}
		default:
			if !plain(f.Type()) {
				t.Errorf("User.%s: of kind %s, which cloneUser does not copy", name, f.Kind())
			}
		}
	}
}
