package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/httpprovision"
	"github.com/livery/livery/tenants/live"
	"github.com/livery/livery/tenants/records"

	"github.com/redis/go-redis/v9"
)

// tenantParts are the tenant records (the system of record, in the object
// store) and this instance's live table of them.
type tenantParts struct {
	records *records.Store
	table   *live.Table
}

// openTenants seeds the tenant records from the configuration file (the
// rule: docs/partners.md), loads the first table and returns both; Run
// (runTenants) keeps the table fresh. rdb, when set, carries the change
// notices between instances. Errors: the master key's, the store's
// (reading or seeding the records), a table without any tenant to serve.
func openTenants(ctx context.Context, cfg *config.Config, store objstore.Store, key []byte, rdb redis.UniversalClient,
	onSwap func(before, after *tenants.Registry), log *slog.Logger) (*tenantParts, error) {
	sealer, err := records.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("security.master_key: %w", err)
	}
	tlog := log.With("component", "tenants")
	table := live.New(records.New(store, sealer, records.Options{Logger: tlog}), sealer, rdb,
		live.Options{RefreshEvery: cfg.TenantTable.Refresh, Logger: tlog, OnSwap: onSwap})
	st := records.New(store, sealer, records.Options{Notifier: table, Logger: tlog})
	rep, err := st.Seed(ctx, SeedInputs(cfg), time.Now())
	for _, l := range rep.Lines() {
		tlog.Info(l)
	}
	if err != nil {
		if len(rep.Entries) == 0 {
			return nil, fmt.Errorf("object store: seeding the tenant records: %w", err)
		}
		// Some tenants of the file failed (invalid against the store, a
		// host another tenant now holds): serve the others, loudly.
		tlog.Error("tenants: some tenants of the configuration file were not applied; see the lines above", "err", err)
	}
	if err := table.Refresh(ctx); err != nil {
		if len(table.All()) == 0 {
			return nil, err
		}
		tlog.Error("tenants: some tenants are not served", "err", err)
	}
	if len(table.All()) == 0 {
		tlog.Warn("no tenant yet: create one in the web UI (/ui/partners) or the admin API (POST /admin/v1/tenants)")
	}
	return &tenantParts{records: st, table: table}, nil
}

// run keeps the table fresh until ctx ends.
func (p *tenantParts) run(ctx context.Context) {
	go func() { _ = p.table.Run(ctx) }()
}

// SeedInputs converts the configuration file's tenants to record inputs
// (what Seed and check-config's plan take). Secrets come from their files
// or the environment, already loaded.
func SeedInputs(cfg *config.Config) []records.Input {
	out := make([]records.Input, 0, len(cfg.Tenants))
	for _, t := range cfg.Tenants {
		in := records.Input{ID: t.ID, Name: records.Names{ZH: t.Name.ZH, EN: t.Name.EN}, Hosts: slices.Clone(t.Hosts),
			Upstream: t.Upstream, XAccountType: t.XAccountType, Managed: t.Managed,
			Provisioner: records.ProvisionerInput{Kind: t.Provisioner.Kind, URL: t.Provisioner.URL},
			Risk: records.Risk{PerDevice: t.Risk.PerDevice, PerAddress: t.Risk.PerAddress, PerPartner: t.Risk.PerPartner,
				RequireDevice: t.Risk.RequireDevice}}
		if in.Provisioner.Kind == "" {
			in.Provisioner.Kind = records.ProvisionerBuiltin
		}
		if t.Provisioner.TokenFile != "" || t.Provisioner.Token != "" {
			tok := t.Provisioner.Token
			in.Provisioner.Token = &tok
		}
		if o := t.OIDC; o != nil {
			in.SignIn = &records.SignInInput{Issuer: o.Issuer, ClientID: o.ClientID, Scopes: slices.Clone(o.Scopes),
				AccountClaim: o.AccountClaim}
			if o.ClientSecretFile != "" || o.ClientSecret != "" {
				sec := o.ClientSecret
				in.SignIn.ClientSecret = &sec
			}
		}
		out = append(out, in)
	}
	return out
}

// liveProvisioner creates accounts with each tenant's provisioner as the
// table has it now (a change applies to the next registration).
type liveProvisioner struct{ table *live.Table }

func (p liveProvisioner) CreateAccount(ctx context.Context, r tenants.ProvisionRequest) (tenants.Account, error) {
	t, ok := p.table.ByID(r.Tenant)
	if !ok {
		return tenants.Account{}, fmt.Errorf("%w: no such tenant %q", tenants.ErrRejected, r.Tenant)
	}
	if api := cloudAccountAPI(t); api != nil {
		return api.CreateAccount(ctx, r)
	}
	return tenants.Builtin{}.CreateAccount(ctx, r)
}

// cloudAccountAPI is the cloud's account API as t's provisioner reaches it
// (kind http), nil with the builtin provisioner.
func cloudAccountAPI(t *tenants.Tenant) *httpprovision.Provisioner {
	if t.Provisioner.Kind != records.ProvisionerHTTP {
		return nil
	}
	return &httpprovision.Provisioner{URL: t.Provisioner.URL, Token: t.Provisioner.Token}
}

// PlanTenants tells, without writing anything, what serve would do at start
// with the configuration file's tenants and the store's records (the rule:
// docs/partners.md): one line per tenant. Errors: the store cannot be
// opened or read (check-config then says so and still passes: the file is
// valid).
func PlanTenants(ctx context.Context, cfg *config.Config) ([]string, error) {
	if cfg.Store.Driver == "dir" {
		if _, err := os.Stat(cfg.Store.Dir.Path); errors.Is(err, os.ErrNotExist) {
			// No store yet (and check-config creates none): all is new.
			rep := records.SeedReport{Planned: true}
			for _, t := range cfg.Tenants {
				rep.Entries = append(rep.Entries, records.SeedEntry{ID: t.ID, Action: records.SeedCreated})
			}
			return rep.Lines(), nil
		}
	}
	store, err := openStore(ctx, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	key, err := planKey(cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := records.NewSealer(key)
	if err != nil {
		return nil, err
	}
	rep, err := records.New(store, sealer, records.Options{Logger: slog.New(slog.DiscardHandler)}).Plan(ctx, SeedInputs(cfg))
	if err != nil {
		return nil, err
	}
	return rep.Lines(), nil
}

// planKey is the master key without masterKey's side effect: a development
// key not created yet is a throwaway one (nothing in the store is sealed
// under a key that does not exist).
func planKey(cfg *config.Config) ([]byte, error) {
	if cfg.Security.MasterKey != "" || cfg.Store.Driver != "dir" {
		return masterKey(cfg, slog.New(slog.DiscardHandler))
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Store.Dir.Path, devKeyFile)); err == nil {
		return config.MasterKey(string(b))
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k, nil
}
