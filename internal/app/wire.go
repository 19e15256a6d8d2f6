package app

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livery/livery/association"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/apistats"
	"github.com/livery/livery/tenants/codes"
	"github.com/livery/livery/tenants/keyusage"
	"github.com/livery/livery/tenants/live"
	"github.com/livery/livery/tenants/notify"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/records"
	"github.com/livery/livery/tenants/redisindex"
)

// services are the concrete stores and domain services of one process.
// This file is the only place that chooses implementations.
type services struct {
	cfg        *config.Config
	store      objstore.Store
	rdb        *redisx.Conn
	tenants    *live.Table    // this instance's table of tenants
	records    *records.Store // the tenant records (operators edit them at runtime)
	swaps      *swapHooks     // run when the tenant table changes
	creds      *tenants.Credentials
	customers  *tenants.Customers
	codes      *codes.Store
	limiter    *ratelimit.Limiter
	notifier   notify.Notifier
	audit      *audit.Log // the partner domain's (partner API, managers, access keys)
	staff      *tenants.StaffDirectory
	managers   *tenants.Assignments
	keys       *tenants.AccessKeys
	apiStats   *apistats.Stats      // partner API request counts (the request summary)
	branding   *brandingParts       // set by Build
	delegation *delegation.Service  // set by Build
	assoc      *association.Service // set by Build
	stopRepair func()               // set by runIndexRepair
}

func (s *services) Close() {
	if s.stopRepair != nil {
		s.stopRepair()
	}
	if s.rdb != nil {
		s.rdb.Close()
	}
}

// openServices connects the object store and Redis and builds the domain
// services; obs, when set, measures both. Errors name the dependency that
// failed.
func openServices(ctx context.Context, cfg *config.Config, log *slog.Logger, obs *observability) (*services, error) {
	s := &services{cfg: cfg}
	var err error
	if s.store, err = openStore(ctx, cfg.Store); err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	var redisMetrics *redisx.Metrics
	if obs != nil {
		s.store = objstore.WithMetrics(s.store, obs.store)
		redisMetrics = obs.redis
	}
	key, err := masterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	if s.creds, err = tenants.NewCredentials(s.store, key, cfg.Partner.KeyCacheTTL); err != nil {
		return nil, err
	}
	ro, err := redisOptions(cfg.Redis)
	if err != nil {
		return nil, err
	}
	ro.Metrics = redisMetrics
	if s.rdb, err = redisx.Open(ctx, ro); err != nil {
		return nil, err
	}
	s.swaps = &swapHooks{}
	tp, err := openTenants(ctx, cfg, s.store, key, s.rdb, s.swaps.swapped, log)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.tenants, s.records = tp.table, tp.records
	s.codes = codes.New(s.rdb, codes.Options{})
	s.limiter = ratelimit.New(s.rdb)
	s.audit = audit.NewLog(s.store, tenants.AuditStream)
	if cfg.Partner.Notifier.Kind == "webhook" {
		if s.notifier, err = notify.NewWebhook(cfg.Partner.Notifier.URL, notify.WebhookOptions{
			Token: cfg.Partner.Notifier.Token, Logger: log}); err != nil {
			s.Close()
			return nil, err
		}
	} else {
		s.notifier = notify.NewLog(log)
	}
	s.customers = tenants.NewCustomers(tenants.CustomerOptions{
		Store: s.store, Provisioner: liveProvisioner{s.tenants}, Codes: s.codes, Index: redisindex.Index{RDB: s.rdb},
		PhoneLimit: cfg.Partner.PhoneLimit, Logger: log,
	})
	s.staff = tenants.NewStaffDirectory(s.store, log.With("component", "staff"))
	s.managers = &tenants.Assignments{Customers: s.customers, Staff: s.staff, Audit: s.audit, Logger: log}
	s.keys = tenants.NewAccessKeys(tenants.AccessKeysOptions{Credentials: s.creds, Usage: keyusage.Usage{RDB: s.rdb},
		Audit: s.audit, Logger: log.With("component", "keys")})
	s.apiStats = apistats.New(s.rdb, apistats.Options{Logger: log.With("component", "apistats")})
	return s, nil
}

// redisOptions converts the redis settings; errors name the setting.
func redisOptions(r config.Redis) (redisx.Options, error) {
	o := redisx.Options{URL: r.URL, Addrs: r.Addrs, MasterName: r.MasterName, SentinelAddrs: r.SentinelAddrs,
		TLS: r.TLS, Username: r.Username, Password: r.Password}
	if r.TLSCAFile != "" {
		pem, err := os.ReadFile(r.TLSCAFile)
		if err != nil {
			return o, fmt.Errorf("redis.tls_ca_file: %w", err)
		}
		o.RootCAs = x509.NewCertPool()
		if !o.RootCAs.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("redis.tls_ca_file: %s holds no PEM certificate", r.TLSCAFile)
		}
	}
	return o, nil
}

// runIndexRepair runs the customer index repairer in the background until
// ctx ends or Close, which waits for it to stop.
func (s *services) runIndexRepair(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.customers.RunIndexRepair(ctx) }()
	s.stopRepair = func() { cancel(); <-done }
}

// partnerOptions wires the partner API to the services.
func (s *services) partnerOptions() *partnerapi.Options {
	p := s.cfg.Partner
	return &partnerapi.Options{
		Keys: s.creds, Tenants: s.tenants, Customers: s.customers, Codes: s.codes, Notifier: s.notifier,
		Limiter: s.limiter, Audit: s.audit, KeyUsage: s.keys, Stats: s.apiStats,
		CheckIdentityRate: p.CheckIdentityRate, SendCodeRate: p.SendCodeRate, CreateRate: p.CreateRate, QueryRate: p.QueryRate,
		AuthFailureLimit: riskLimit(p.AuthFailureLimit),
	}
}

// devKeyFile is the development master key's file in the store directory.
const devKeyFile = "dev-master.key"

// masterKey returns the configured master key or, only with the dir store,
// a development key kept (and created once) inside the store directory.
func masterKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.Security.MasterKey != "" {
		return config.MasterKey(cfg.Security.MasterKey)
	}
	if cfg.Store.Driver != "dir" {
		return nil, errors.New("security.master_key is required with the s3 store")
	}
	path := filepath.Join(cfg.Store.Dir.Path, devKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		return config.MasterKey(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("development master key: %w", err)
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	if err := os.MkdirAll(cfg.Store.Dir.Path, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process created it first
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, rerr
		}
		return config.MasterKey(string(b))
	}
	if err != nil {
		return nil, fmt.Errorf("development master key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	log.Warn("no security.master_key configured: generated a development master key inside the store directory; configure one for production",
		"path", path)
	return k, nil
}

// riskLimit converts a validated "N/duration" ("" = default, "off" =
// unlimited) to a limit; the zero Limit selects the default.
func riskLimit(spec string) ratelimit.Limit {
	n, per, off, ok, _ := config.ParseRate(strings.TrimSpace(spec))
	switch {
	case off:
		return ratelimit.Limit{Rate: 1 << 30, Period: time.Second}
	case !ok:
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Rate: n, Burst: n, Period: per}
}
