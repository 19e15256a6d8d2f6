package authz

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch follows the policy file and reloads it when it changes, until ctx is
// done; run it in its own goroutine. It watches the file's directory as well
// as the file, so replacements by rename (editors, config management,
// Kubernetes ConfigMap symlink swaps) are seen, and it compares content
// hashes so bursts of events cost at most one parse. A broken file is logged
// (and reported to Options.OnReload) and the previous policy stays active.
// Right after the watch is established the file is re-checked, so changes
// made between NewCasbin and Watch are not lost.
//
// Watch returns nil when ctx is done, ErrNoPolicyFile for an authorizer built
// from the embedded policy, and an error if the watch cannot be set up or the
// underlying watcher stops unexpectedly.
func (c *Casbin) Watch(ctx context.Context) error {
	if c.path == "" {
		return ErrNoPolicyFile
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("authz: watch policy: %w", err)
	}
	defer w.Close()
	dir := filepath.Dir(c.path)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("authz: watch policy directory %s: %w", dir, err)
	}
	c.addFileWatch(w)
	_ = c.reload(false) // errors are logged and reported by reload

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("authz: policy watcher closed")
			}
			// Every event in the directory triggers a (debounced) content
			// check: renames of sibling files such as Kubernetes' ..data
			// swap the file's content without naming it.
			c.log.Debug("authz: policy event", "event", ev.String())
			timer.Reset(c.debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("authz: policy watcher closed")
			}
			c.log.Warn("authz: policy watcher error", "err", err)
			timer.Reset(c.debounce) // events may have been lost: re-check
		case <-timer.C:
			_ = c.reload(false)
			c.addFileWatch(w) // re-arm after a rename-replace dropped it
		}
	}
}

// addFileWatch watches the file itself (following a symlink to its target);
// best effort, as the directory watch already covers the common cases.
func (c *Casbin) addFileWatch(w *fsnotify.Watcher) {
	if err := w.Add(c.path); err != nil {
		c.log.Debug("authz: cannot watch policy file (directory still watched)", "path", c.path, "err", err)
	}
}
