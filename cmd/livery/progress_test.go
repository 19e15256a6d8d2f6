package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReindexProgress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []struct {
			at          time.Duration
			read, total int
		}
		want []string
	}{
		{"a short run prints nothing", []struct {
			at          time.Duration
			read, total int
		}{{0, 1, 3}, {100 * time.Millisecond, 2, 3}, {200 * time.Millisecond, 3, 3}}, nil},
		{"a long run prints once a second and its total", []struct {
			at          time.Duration
			read, total int
		}{{0, 1, 4000}, {500 * time.Millisecond, 1000, 4000}, {time.Second, 2000, 4000}, {1500 * time.Millisecond, 3000, 4000},
			{1600 * time.Millisecond, 4000, 4000}},
			[]string{"tenant acme: 2000/4000 customers read (50%), 2000/s", "tenant acme: 4000/4000 customers read (100%), 2500/s"}},
		{"a slow run's only report is its total", []struct {
			at          time.Duration
			read, total int
		}{{0, 1, 2}, {3 * time.Second, 2, 2}}, []string{"tenant acme: 2/2 customers read (100%), 1/s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			base := time.Unix(1_000_000, 0)
			var now time.Time
			p := newProgress(&out)
			p.now = func() time.Time { return now }
			for _, s := range tc.steps {
				now = base.Add(s.at)
				p.update("acme", s.read, s.total)
			}
			got := strings.Split(strings.TrimSpace(out.String()), "\n")
			if out.Len() == 0 {
				got = nil
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
