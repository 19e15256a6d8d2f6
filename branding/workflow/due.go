package workflow

import (
	"fmt"
	"time"
)

// ReviewWorkingDays is how many working days operators have to review a
// submission.
const ReviewWorkingDays = 3

// Holidays is a working-day calendar: Monday to Friday are working days
// except the listed holidays, and listed make-up working days (weekend days
// worked in exchange for a holiday, as in the Chinese calendar) are working
// days too. Dates are civil dates ("2006-01-02") in the location the due
// date is computed in. The zero value has no holidays.
type Holidays struct {
	off  map[string]bool
	work map[string]bool
}

// NewHolidays builds a calendar from "YYYY-MM-DD" dates. It returns an
// error naming the first malformed date.
func NewHolidays(holidays, makeUpWorkdays []string) (Holidays, error) {
	h := Holidays{off: map[string]bool{}, work: map[string]bool{}}
	for _, set := range []struct {
		dates []string
		m     map[string]bool
	}{{holidays, h.off}, {makeUpWorkdays, h.work}} {
		for _, d := range set.dates {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return Holidays{}, fmt.Errorf("workflow: holiday %q: want YYYY-MM-DD", d)
			}
			set.m[t.Format(time.DateOnly)] = true
		}
	}
	return h, nil
}

// WorkingDay reports whether t's civil date (in t's location) is a working
// day.
func (h Holidays) WorkingDay(t time.Time) bool {
	d := t.Format(time.DateOnly)
	if h.work[d] {
		return true
	}
	if h.off[d] {
		return false
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// DueDate returns the review deadline of a submission made at submitted:
// the same wall-clock time in loc on the ReviewWorkingDays-th working day
// strictly after the submission's calendar day (in loc). The submission day
// itself never counts, whether or not it is a working day. Examples:
// Monday 09:00 → Thursday 09:00; Thursday 09:00 → Tuesday 09:00; Friday
// 15:00 → Wednesday 15:00; Saturday or Sunday 10:00 → Wednesday 10:00; a
// holiday in the window pushes the due date one working day later. (If the
// wall-clock time does not exist on the due day because of a DST change, it
// is normalised as time.Date does.) A nil loc means UTC.
func DueDate(submitted time.Time, cal Holidays, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := submitted.In(loc)
	y, m, d := t.Date()
	found := 0
	// A calendar with no working day at all would loop forever; ten years
	// is far beyond any real calendar.
	for i := 1; i <= 3660; i++ {
		day := time.Date(y, m, d+i, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		if cal.WorkingDay(day) {
			found++
			if found == ReviewWorkingDays {
				return day
			}
		}
	}
	return t.AddDate(0, 0, ReviewWorkingDays)
}
