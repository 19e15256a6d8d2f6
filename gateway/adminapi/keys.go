package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Keys is what the admin API needs of a tenant's access keys
// (tenants.AccessKeys).
type Keys interface {
	List(ctx context.Context, tenant string) ([]tenants.AccessKey, error)
	Create(ctx context.Context, actor tenants.Actor, tenant string) (tenants.AccessKey, string, error)
	Revoke(ctx context.Context, actor tenants.Actor, tenant, ak string) (tenants.AccessKey, error)
}

type adminKeys struct{ k Keys }

type adminKey struct {
	AccessKey  string  `json:"access_key"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
	// SecretKey is only in the answer to the creation.
	SecretKey string `json:"secret_key,omitempty"`
}

func toAdminKey(k tenants.AccessKey) adminKey {
	ts := func(t *time.Time) *string {
		if t == nil {
			return nil
		}
		s := t.UTC().Format(time.RFC3339)
		return &s
	}
	return adminKey{AccessKey: k.AccessKey, CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339),
		LastUsedAt: ts(k.LastUsedAt), RevokedAt: ts(k.RevokedAt)}
}

func (a *adminKeys) list(c *fiber.Ctx) error {
	list, err := a.k.List(c.UserContext(), web.Param(c, "tenant"))
	if err != nil {
		return keyError(err)
	}
	out := make([]adminKey, 0, len(list))
	for _, k := range list {
		out = append(out, toAdminKey(k))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"keys": out, "max_active": tenants.MaxActiveKeys})
}

// create makes a key: 201 with the secret, shown only in this answer
// (Cache-Control: no-store). 409 too_many_keys at MaxActiveKeys.
func (a *adminKeys) create(c *fiber.Ctx) error {
	k, sk, err := a.k.Create(c.UserContext(), actorOf(c), web.Param(c, "tenant"))
	if err != nil {
		return keyError(err)
	}
	out := toAdminKey(k)
	out.SecretKey = sk
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
	return c.Status(http.StatusCreated).JSON(out)
}

// revoke revokes a key; revoking a revoked key answers it unchanged (200),
// an unknown key is 404 not_found.
func (a *adminKeys) revoke(c *fiber.Ctx) error {
	k, err := a.k.Revoke(c.UserContext(), actorOf(c), web.Param(c, "tenant"), web.Param(c, "key"))
	if err != nil {
		return keyError(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(toAdminKey(k))
}

// mountStaffAndKeys registers the staff directory and access key routes
// that o wires.
func mountStaffAndKeys(t fiber.Router, o Options) {
	if o.Staff != nil {
		t.Get("/staff", (&adminStaff{s: o.Staff}).list)
	}
	if o.Keys != nil {
		k := &adminKeys{k: o.Keys}
		t.Get("/keys", k.list)
		t.Post("/keys", k.create)
		t.Post("/keys/:key/revoke", k.revoke)
	}
}
