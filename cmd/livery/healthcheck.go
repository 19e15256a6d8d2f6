package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/livery/livery/internal/config"
)

// healthcheckCmd probes the running gateway's readiness, for container
// images without a shell (HEALTHCHECK CMD ["/livery","healthcheck"]): it
// exits 0 when /readyz answers 200 within -timeout and 1 otherwise (not
// ready, draining, not running), 2 for bad flags. Without -url it asks the
// ops listener of the configuration (ops.addr; an unspecified host means
// loopback), reading only the file and LIVERY_* variables, not validating
// the rest: the probe must work wherever the gateway itself runs.
func healthcheckCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", stderr)
	rawURL := fs.String("url", "", "readiness URL (default: http://<ops.addr>/readyz of the configuration)")
	path := fs.String("config", "", "configuration file, for ops.addr (default $LIVERY_CONFIG or the embedded defaults)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	url := *rawURL
	if url == "" {
		addr, err := opsAddr(*path)
		if err != nil {
			fmt.Fprintln(stderr, "livery healthcheck:", err)
			return exitFail
		}
		url = "http://" + addr + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "livery healthcheck: -url:", err)
		return exitConfig
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "livery healthcheck: not ready:", err)
		return exitFail
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "livery healthcheck: not ready: %s %s\n", resp.Status, body)
		return exitFail
	}
	fmt.Fprintf(stdout, "ready: %s\n", body)
	return exitOK
}

// opsAddr is the dialable address of the configuration's ops listener:
// ops.addr of the loaded configuration; if it does not load (the probe
// runs where the gateway runs, so it normally does), LIVERY_OPS_ADDR or
// the default.
func opsAddr(path string) (string, error) {
	if path == "" {
		path = os.Getenv("LIVERY_CONFIG")
	}
	addr := config.Default().Ops.Addr
	if cfg, err := config.Load(path, nil); err == nil {
		addr = cfg.Ops.Addr
	} else if v, ok := os.LookupEnv(config.EnvPrefix + "OPS_ADDR"); ok {
		addr = v
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("ops.addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
