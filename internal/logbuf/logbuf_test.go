package logbuf

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink records each write it receives.
type sink struct {
	mu     sync.Mutex
	writes []string
	fail   error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

const never = time.Hour

func TestWriterBatching(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		lines []string
		flush bool
		want  []string // writes seen by the sink
	}{
		{"held until flushed: nothing written", 64, []string{"a\n", "b\n"}, false, nil},
		{"flush writes the lines in one write", 64, []string{"a\n", "b\n"}, true, []string{"a\nb\n"}},
		{"a line that does not fit writes the buffer first", 4, []string{"aa\n", "bb\n"}, true,
			[]string{"aa\n", "bb\n"}},
		{"a line larger than the buffer goes through after it", 4, []string{"a\n", "0123456789\n", "b\n"}, true,
			[]string{"a\n", "0123456789\n", "b\n"}},
		{"an exact fit stays buffered", 4, []string{"a\n", "b\n"}, false, nil},
		{"unbuffered (size 0): every line at once", 0, []string{"a\n", "b\n"}, false, []string{"a\n", "b\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{}
			w := New(s, tt.size, never)
			defer w.Close()
			for _, l := range tt.lines {
				if n, err := w.Write([]byte(l)); err != nil || n != len(l) {
					t.Fatalf("Write(%q) = %d, %v", l, n, err)
				}
			}
			if tt.flush {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.got(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("writes %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriterCloseFlushesAndPassesThroughAfter(t *testing.T) {
	s := &sink{}
	w := New(s, 1024, never)
	w.Write([]byte("before\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("after\n"))
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := s.got(); fmt.Sprint(got) != fmt.Sprint([]string{"before\n", "after\n"}) {
		t.Errorf("writes %q", got)
	}
}

func TestWriterFlushesOnInterval(t *testing.T) {
	s := &sink{}
	w := New(s, 1024, 10*time.Millisecond)
	defer w.Close()
	w.Write([]byte("line\n"))
	for deadline := time.Now().Add(5 * time.Second); len(s.got()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the buffered line was not written by the flusher")
		}
	}
	if got := s.got(); got[0] != "line\n" {
		t.Errorf("writes %q", got)
	}
}

func TestWriterReportsWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	s := &sink{fail: boom}
	w := New(s, 4, never)
	if _, err := w.Write([]byte("ab\n")); err != nil {
		t.Fatalf("buffered write failed: %v", err)
	}
	if _, err := w.Write([]byte("cd\n")); !errors.Is(err, boom) {
		t.Errorf("the write that flushed returned %v, want %v", err, boom)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("Close = %v, want the first write error", err)
	}
}

func TestWriterConcurrentLinesStayWhole(t *testing.T) {
	s := &sink{}
	w := New(s, 256, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "g%d line %03d %s\n", g, i, strings.Repeat("x", g*7))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(s.got(), "")
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	next := make([]int, 8)
	for _, l := range lines {
		var g, i int
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != "line" {
			t.Fatalf("torn line %q", l)
		}
		fmt.Sscanf(f[0], "g%d", &g)
		fmt.Sscanf(f[2], "%d", &i)
		if pad := strings.TrimPrefix(l, fmt.Sprintf("g%d line %03d ", g, i)); pad != strings.Repeat("x", g*7) {
			t.Fatalf("torn line %q", l)
		}
		if next[g] != i {
			t.Fatalf("goroutine %d: line %d arrived, want %d (order lost)", g, i, next[g])
		}
		next[g]++
	}
}

func TestHandlerFlushesUrgentRecords(t *testing.T) {
	tests := []struct {
		level     slog.Level
		wantWrite bool
	}{
		{slog.LevelDebug, false},
		{slog.LevelInfo, false},
		{slog.LevelWarn, true},
		{slog.LevelError, true},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			s := &sink{}
			w := New(s, 4096, never)
			defer w.Close()
			h := Handler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), w, slog.LevelWarn)
			log := slog.New(h).With("listener", "console").WithGroup("g")
			log.Info("earlier")
			log.Log(t.Context(), tt.level, "this one", "k", "v")
			got := s.got()
			if !tt.wantWrite {
				if len(got) != 0 {
					t.Fatalf("a %s record was written at once: %q", tt.level, got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], "msg=earlier") || !strings.Contains(got[0], "msg=\"this one\"") ||
				!strings.Contains(got[0], "g.k=v") || !strings.Contains(got[0], "listener=console") {
				t.Fatalf("want the earlier line and this one in one write, got %q", got)
			}
		})
	}
}

// BenchmarkLogLine writes access-log-sized lines to a file, one write
// system call per line (buffer=0) or batched.
func BenchmarkLogLine(b *testing.B) {
	line := bytes.Repeat([]byte("x"), 210)
	line[len(line)-1] = '\n'
	for _, size := range []int{0, 64 << 10} {
		b.Run(fmt.Sprintf("buffer=%d", size), func(b *testing.B) {
			f, err := os.CreateTemp(b.TempDir(), "log")
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			w := New(f, size, time.Second)
			defer w.Close()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				w.Write(line)
			}
		})
	}
}
