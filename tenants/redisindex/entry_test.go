package redisindex

import (
	"reflect"
	"testing"
	"time"

	"github.com/livery/livery/tenants"
)

// TestEntryKeepsEveryField: a customer with every field set comes back
// from the records hash's encoding equal (a field added to
// tenants.Customer but not to entry fails here).
func TestEntryKeepsEveryField(t *testing.T) {
	var c tenants.Customer
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("v" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"m1", "m2"}))
		case reflect.Struct:
			f.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).Add(time.Duration(i) * time.Hour)))
		default:
			t.Fatalf("field %s of kind %s: teach the test and entry", v.Type().Field(i).Name, f.Kind())
		}
	}
	b, err := encode(&c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(c.Tenant, c.DomainName, "7|"+string(b))
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v (%v)", got, c, err)
	}
}
