package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// backend is one store + Redis pair the customer tests run against.
type backend struct {
	store objstore.Store
	rdb   *redisx.Conn
}

// backends returns the embedded pair (dir + embedded Redis) and the real
// pair (MinIO + redis-server).
func backends(t *testing.T) map[string]func(t *testing.T) backend {
	return map[string]func(t *testing.T) backend{
		"dir+embedded": func(t *testing.T) backend {
			st, err := objstore.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			rdb, err := redisx.Open(context.Background(), redisx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			return backend{st, rdb}
		},
		"minio+redis": func(t *testing.T) backend {
			m := testenv.StartMinIO(t)
			st, err := objstore.NewS3(context.Background(), objstore.S3Config{
				Endpoint: m.Endpoint, Bucket: m.NewBucket(t), AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			rdb, err := redisx.Open(context.Background(), redisx.Options{URL: "redis://" + testenv.Redis(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			return backend{st, rdb}
		},
	}
}

// fakeCodes accepts "123456" for any phone and refuses anything else.
type fakeCodes struct{ checks atomic.Int32 }

var errWrongCode = errors.New("wrong code")

func (f *fakeCodes) Check(_ context.Context, _, _, _, code string) error {
	f.checks.Add(1)
	if code != "123456" {
		return errWrongCode
	}
	return nil
}

// countingProvisioner wraps Builtin, counting distinct idempotency keys.
type countingProvisioner struct {
	mu   sync.Mutex
	keys map[string]int
	fail error
}

func (p *countingProvisioner) CreateAccount(ctx context.Context, r tenants.ProvisionRequest) (tenants.Account, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return tenants.Account{}, p.fail
	}
	if p.keys == nil {
		p.keys = map[string]int{}
	}
	p.keys[r.IdempotencyKey]++
	return tenants.Builtin{}.CreateAccount(ctx, r)
}

func (p *countingProvisioner) distinct() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.keys)
}

func newService(b backend, prov tenants.Provisioner, step func(string) error) *tenants.Customers {
	return tenants.NewCustomers(tenants.CustomerOptions{Store: b.store, Provisioner: prov, Codes: &fakeCodes{},
		Index: redisindex.Index{RDB: b.rdb}, PhoneLimit: 2, Step: step})
}

func reg(xid, name, phone string) tenants.Registration {
	r := tenants.Registration{XAccountID: xid, XAccountType: "plat_1", DomainName: name, AssociationType: tenants.AssociationResale}
	if phone != "" {
		r.Phone, r.VerificationCode = phone, "123456"
	}
	return r
}

func TestCustomers(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			ctx := context.Background()
			t.Run("create is idempotent by xaccount", func(t *testing.T) {
				s := newService(b, tenants.Builtin{}, nil)
				c1, err := s.Create(ctx, "ta", reg("u1", "alpha_01", ""), tenants.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				c2, err := s.Create(ctx, "ta", reg("u1", "", ""), tenants.Meta{})
				if err != nil || c2.DomainID != c1.DomainID || c2.DomainName != "alpha_01" {
					t.Fatalf("retry: %+v %v", c2, err)
				}
				if _, err := s.Create(ctx, "ta", reg("u1", "other_name", ""), tenants.Meta{}); !errors.Is(err, tenants.ErrXAccountUsed) {
					t.Fatalf("same xaccount, new name: %v", err)
				}
				if _, err := s.Create(ctx, "ta", reg("u2", "ALPHA_01", ""), tenants.Meta{}); !errors.Is(err, tenants.ErrNameTaken) {
					t.Fatalf("name reuse (case-insensitive): %v", err)
				}
				// The same xaccount id of another tenant is another customer.
				if _, err := s.Create(ctx, "tb", reg("u1", "beta_001", ""), tenants.Meta{}); err != nil {
					t.Fatal(err)
				}
				random, err := s.Create(ctx, "ta", reg("u3", "", ""), tenants.Meta{})
				if err != nil || len(random.DomainName) != 32 || tenants.ValidateDomainName(random.DomainName) != nil {
					t.Fatalf("random name: %+v %v", random, err)
				}
			})
			t.Run("phone rules", func(t *testing.T) {
				s := newService(b, tenants.Builtin{}, nil)
				if _, err := s.Create(ctx, "ta", reg("p1", "phone_one", "0086-13800000001"), tenants.Meta{}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Create(ctx, "ta", reg("p2", "phone_two", "0086-13800000001"), tenants.Meta{}); !errors.Is(err, tenants.ErrPhoneExists) {
					t.Fatalf("same partner, same phone: %v", err)
				}
				if _, err := s.Create(ctx, "tb", reg("p2", "phone_two", "0086-13800000001"), tenants.Meta{}); err != nil {
					t.Fatalf("other partner, same phone: %v", err)
				}
				if _, err := s.Create(ctx, "tc", reg("p3", "phone_three", "0086-13800000001"), tenants.Meta{}); !errors.Is(err, tenants.ErrPhoneLimit) {
					t.Fatalf("phone limit 2: %v", err)
				}
				id, err := s.CheckIdentity(ctx, "mobile", "0086-13800000001")
				if err != nil || !id.Used || *id.PhoneRemaining != 0 {
					t.Fatalf("check mobile: %+v %v", id, err)
				}
				// Refused registrations released their name.
				if id, _ := s.CheckIdentity(ctx, "name", "phone_three"); id.Used {
					t.Fatal("rolled-back name still taken")
				}
				bad := reg("p4", "phone_four", "0086-13800000009")
				bad.VerificationCode = "000000"
				if _, err := s.Create(ctx, "ta", bad, tenants.Meta{}); !errors.Is(err, errWrongCode) {
					t.Fatalf("wrong code: %v", err)
				}
				assertNoOrphans(t, b.store)
			})
		})
	}
}

// TestCrashBetweenSteps stops a registration after each durable step (as a
// crash would), then retries: the retry returns one account, created once,
// and the store holds no orphan.
func TestCrashBetweenSteps(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			ctx := context.Background()
			for i, step := range []string{"reserved", "admitted", "name", "phone", "provisioned", "indexed"} {
				t.Run(step, func(t *testing.T) {
					prov := &countingProvisioner{}
					crashed := false
					s := newService(b, prov, func(s string) error {
						if s == step && !crashed {
							crashed = true
							return errors.New("injected crash")
						}
						return nil
					})
					r := reg(fmt.Sprintf("crash-%d", i), fmt.Sprintf("crash_%s", step), fmt.Sprintf("0086-139000000%02d", i))
					if _, err := s.Create(ctx, "ta", r, tenants.Meta{}); !errors.Is(err, tenants.ErrUnavailable) {
						t.Fatalf("first attempt: %v", err)
					}
					if step == "reserved" {
						// Died while admitting: the reservation holds no claims
						// and is released once stale.
						tenants.SetNow(s, func() time.Time { return time.Now().Add(tenants.AdmissionStale + time.Second) })
					}
					c, err := s.Create(ctx, "ta", r, tenants.Meta{})
					if err != nil || c.State != tenants.StateActive || c.DomainName != r.DomainName {
						t.Fatalf("retry: %+v %v", c, err)
					}
					again, err := s.Create(ctx, "ta", r, tenants.Meta{})
					if err != nil || again.DomainID != c.DomainID {
						t.Fatalf("second retry: %+v %v", again, err)
					}
					if prov.distinct() > 1 {
						t.Fatalf("provisioner saw %d idempotency keys: duplicate account", prov.distinct())
					}
					assertNoOrphans(t, b.store)
				})
			}
			t.Run("transient provisioning failure keeps the reservation", func(t *testing.T) {
				prov := &countingProvisioner{fail: errors.New("cloud timeout")}
				s := newService(b, prov, nil)
				r := reg("flaky", "flaky_name", "")
				if _, err := s.Create(ctx, "ta", r, tenants.Meta{}); !errors.Is(err, tenants.ErrUnavailable) {
					t.Fatalf("got %v", err)
				}
				if _, err := s.Create(ctx, "ta", reg("thief", "flaky_name", ""), tenants.Meta{}); !errors.Is(err, tenants.ErrNameTaken) {
					t.Fatalf("reserved name given away: %v", err)
				}
				prov.fail = nil
				if c, err := s.Create(ctx, "ta", r, tenants.Meta{}); err != nil || c.State != tenants.StateActive {
					t.Fatalf("resume: %+v %v", c, err)
				}
				assertNoOrphans(t, b.store)
			})
			t.Run("definitive refusal rolls back", func(t *testing.T) {
				s := newService(b, &countingProvisioner{fail: fmt.Errorf("cloud: %w", tenants.ErrRejected)}, nil)
				if _, err := s.Create(ctx, "ta", reg("refused", "refused_name", "0086-13700000000"), tenants.Meta{}); !errors.Is(err, tenants.ErrRejected) {
					t.Fatalf("got %v", err)
				}
				if _, err := b.store.Stat(ctx, tenants.CustomerKey("ta", "plat_1", "refused")); !errors.Is(err, objstore.ErrNotFound) {
					t.Fatalf("reservation left behind: %v", err)
				}
				assertNoOrphans(t, b.store)
			})
		})
	}
}

// TestConcurrentCreates races many registrations for one xaccount and for
// one name: exactly one account results.
func TestConcurrentCreates(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			ctx := context.Background()
			prov := &countingProvisioner{}
			s := newService(b, prov, nil)
			const n = 16
			var wg sync.WaitGroup
			sameX := make([]*tenants.Customer, n)
			sameXErr := make([]error, n)
			sameName := make([]error, n)
			for i := 0; i < n; i++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					sameX[i], sameXErr[i] = s.Create(ctx, "ta", reg("race", "race_name", ""), tenants.Meta{})
				}()
				go func() {
					defer wg.Done()
					_, sameName[i] = s.Create(ctx, "ta", reg(fmt.Sprintf("racer-%d", i), "shared_name", ""), tenants.Meta{})
				}()
			}
			wg.Wait()
			for i := 0; i < n; i++ {
				if sameXErr[i] != nil && !errors.Is(sameXErr[i], tenants.ErrUnavailable) {
					t.Errorf("same xaccount: %v", sameXErr[i])
				}
				if sameXErr[i] == nil && sameX[i].DomainID != sameX[0].DomainID && sameX[0] != nil {
					t.Errorf("two accounts for one xaccount: %s %s", sameX[i].DomainID, sameX[0].DomainID)
				}
			}
			winners := 0
			for _, err := range sameName {
				switch {
				case err == nil:
					winners++
				case !errors.Is(err, tenants.ErrNameTaken) && !errors.Is(err, tenants.ErrUnavailable):
					t.Errorf("same name: %v", err)
				}
			}
			if winners != 1 {
				t.Fatalf("%d registrations won the same name", winners)
			}
			if prov.distinct() != 2 {
				t.Fatalf("provisioned %d accounts, want 2", prov.distinct())
			}
			assertNoOrphans(t, b.store)
		})
	}
}

// assertNoOrphans checks that every claim points at an existing customer
// and every customer is active or holds its claims.
func assertNoOrphans(t *testing.T, st objstore.Store) {
	t.Helper()
	ctx := context.Background()
	objs, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, "names/") && !strings.HasPrefix(o.Key, "phones/") && !strings.Contains(o.Key, "/phones/") {
			continue
		}
		c, _, err := objstore.GetJSON[tenants.Claim](ctx, st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		cust, _, err := objstore.GetJSON[tenants.Customer](ctx, st, c.CustomerKey)
		if err != nil {
			t.Errorf("orphan claim %s → %s: %v", o.Key, c.CustomerKey, err)
			continue
		}
		if cust.State != tenants.StateActive {
			t.Errorf("claim %s held by unfinished customer %s", o.Key, c.CustomerKey)
		}
	}
}

// failingCAS fails the first compare-and-swap write of a customer record
// (the admission's write), as a crash or an outage there would.
type failingCAS struct {
	objstore.Store
	failed atomic.Bool
}

func (f *failingCAS) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	if o.IfMatch != "" && strings.Contains(key, "/customers/") && f.failed.CompareAndSwap(false, true) {
		return objstore.Object{}, fmt.Errorf("injected: %w", objstore.ErrUnavailable)
	}
	return f.Store.Put(ctx, key, r, size, o)
}

// TestStaleAdmissionReleasesClaims: the claims are written beside the
// admission's write; when that write fails, the reservation stays
// admitting with claims, and its release once stale releases them too (a
// generated name is not kept by the next attempt, which draws another).
func TestStaleAdmissionReleasesClaims(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			ctx := context.Background()
			fs := &failingCAS{Store: b.store}
			s := newService(backend{fs, b.rdb}, tenants.Builtin{}, nil)
			r := reg("stale-1", "", "0086-13600000001")
			if _, err := s.Create(ctx, "ta", r, tenants.Meta{}); !errors.Is(err, tenants.ErrUnavailable) {
				t.Fatalf("first attempt: %v", err)
			}
			if _, err := s.Create(ctx, "ta", r, tenants.Meta{}); !errors.Is(err, tenants.ErrInProgress) {
				t.Fatalf("retry while the admission is fresh: %v", err)
			}
			tenants.SetNow(s, func() time.Time { return time.Now().Add(tenants.AdmissionStale + time.Second) })
			c, err := s.Create(ctx, "ta", r, tenants.Meta{})
			if err != nil || c.State != tenants.StateActive {
				t.Fatalf("retry once stale: %+v %v", c, err)
			}
			objs, err := b.store.List(ctx, "names/")
			if err != nil || len(objs) != 1 {
				t.Fatalf("name claims: %d %v, want 1 (the first attempt's released)", len(objs), err)
			}
			assertNoOrphans(t, b.store)
		})
	}
}
