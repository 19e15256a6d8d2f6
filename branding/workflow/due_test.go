package workflow_test

import (
	"testing"
	"time"

	"github.com/livery/livery/branding/workflow"
)

func TestDueDate(t *testing.T) {
	// 2026-02-09 is a Monday.
	cal, err := workflow.NewHolidays(
		[]string{"2026-02-16", "2026-02-17", "2026-02-18", "2026-04-06", "2026-12-31", "2027-01-01"},
		[]string{"2026-02-14"}, // a Saturday worked in exchange
	)
	if err != nil {
		t.Fatal(err)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name      string
		submitted string
		cal       workflow.Holidays
		loc       *time.Location
		due       string
	}{
		{"Monday", "2026-02-02 09:00", workflow.Holidays{}, nil, "2026-02-05 09:00"},
		{"Tuesday", "2026-02-03 09:00", workflow.Holidays{}, nil, "2026-02-06 09:00"},
		{"Wednesday crosses weekend", "2026-02-04 09:00", workflow.Holidays{}, nil, "2026-02-09 09:00"},
		{"Thursday crosses weekend", "2026-02-05 09:00", workflow.Holidays{}, nil, "2026-02-10 09:00"},
		{"Friday 15:00 is due Wednesday 15:00", "2026-02-06 15:00", workflow.Holidays{}, nil, "2026-02-11 15:00"},
		{"Saturday", "2026-02-07 10:00", workflow.Holidays{}, nil, "2026-02-11 10:00"},
		{"Sunday late", "2026-02-08 23:59", workflow.Holidays{}, nil, "2026-02-11 23:59"},
		{"month end", "2026-02-26 12:00", workflow.Holidays{}, nil, "2026-03-03 12:00"},
		{"year end with holidays", "2026-12-30 08:00", cal, nil, "2027-01-06 08:00"},  // Thu 31, Fri 1 off
		{"holidays skipped", "2026-02-12 10:00", cal, nil, "2026-02-19 10:00"},        // Fri 13, Sat 14 (worked), Thu 19
		{"make-up Saturday counts", "2026-02-13 10:00", cal, nil, "2026-02-20 10:00"}, // Sat 14, Thu 19, Fri 20
		{"submitted on a holiday", "2026-02-16 10:00", cal, nil, "2026-02-23 10:00"},
		{"Easter Monday", "2026-04-03 10:00", cal, nil, "2026-04-09 10:00"},
		// 2026-02-06 17:00 UTC is Saturday 01:00 in Shanghai: counts from Saturday there.
		{"location decides the day", "2026-02-06 17:00", workflow.Holidays{}, shanghai, "2026-02-10 17:00"},
	}
	for _, c := range cases {
		got := workflow.DueDate(at(c.submitted), c.cal, c.loc)
		if want := at(c.due); !got.Equal(want) {
			t.Errorf("%s: DueDate(%s) = %s (%s); want %s", c.name, c.submitted, got.UTC().Format("2006-01-02 15:04 Mon"),
				got.Weekday(), want.Format("2006-01-02 15:04 Mon"))
		}
	}
}

func TestNewHolidaysRejectsBadDates(t *testing.T) {
	for _, d := range []string{"2026-2-1", "tomorrow", "2026-02-30", ""} {
		if _, err := workflow.NewHolidays([]string{d}, nil); err == nil {
			t.Errorf("NewHolidays(%q) accepted", d)
		}
	}
}
