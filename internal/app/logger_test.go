package app

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/internal/config"
)

// TestLoggerBatching checks how the process logger reaches its output:
// info lines wait in the buffer, a warning takes them out at once, and
// the close function writes whatever is left; unbuffered writes each line.
func TestLoggerBatching(t *testing.T) {
	tests := []struct {
		name         string
		cfg          config.Log
		afterInfo    string // what the output holds after one info line
		afterWarn    []string
		afterClosing []string
	}{
		{name: "buffered json", cfg: config.Log{Level: "info", Format: "json", BufferBytes: 4096, FlushInterval: time.Hour},
			afterInfo: "", afterWarn: []string{`"msg":"first"`, `"msg":"careful"`}, afterClosing: []string{`"msg":"last"`}},
		{name: "buffered text", cfg: config.Log{Level: "info", Format: "text", BufferBytes: 4096, FlushInterval: time.Hour},
			afterInfo: "", afterWarn: []string{"msg=first", "msg=careful"}, afterClosing: []string{"msg=last"}},
		{name: "unbuffered", cfg: config.Log{Level: "info", Format: "text"},
			afterInfo: "msg=first", afterWarn: []string{"msg=careful"}, afterClosing: []string{"msg=last"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			log, closeLog := NewLogger(tt.cfg, &out)
			log.Info("first")
			if got := out.String(); tt.afterInfo == "" && got != "" || !strings.Contains(got, tt.afterInfo) {
				t.Fatalf("after one info line the output is %q, want %q", got, tt.afterInfo)
			}
			log.Warn("careful")
			for _, w := range tt.afterWarn {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("after a warning the output lacks %s: %q", w, out.String())
				}
			}
			log.Info("last")
			closeLog()
			for _, w := range tt.afterClosing {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("after closing the output lacks %s: %q", w, out.String())
				}
			}
			if n := strings.Count(out.String(), "\n"); n != 3 {
				t.Errorf("%d lines, want 3: %q", n, out.String())
			}
		})
	}
}
