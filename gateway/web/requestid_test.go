package web

import (
	"sync"
	"testing"
)

func TestNewRequestIDUnique(t *testing.T) {
	const workers, each = 8, 5000
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ids[w] = append(ids[w], NewRequestID())
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, list := range ids {
		for _, id := range list {
			if len(id) != 32 || !validRequestID(id) {
				t.Fatalf("malformed request id %q", id)
			}
			if id[:16] != string(requestIDPrefix[:]) {
				t.Fatalf("request id %q does not carry the process prefix %q", id, requestIDPrefix)
			}
			if seen[id] {
				t.Fatalf("request id %q issued twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct ids, want %d", len(seen), workers*each)
	}
}

func TestRandomID(t *testing.T) {
	a, b := RandomID(), RandomID()
	if len(a) != 32 || !validRequestID(a) || a == b || a[:16] == string(requestIDPrefix[:]) && b[:16] == a[:16] {
		t.Fatalf("randomID: %q, %q", a, b)
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRequestID()
	}
}
