package staffui

import (
	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// confirmData is the confirmation step of a destructive action (reject,
// rollback, withdraw, revoke a key): the same form again, with every field
// the user filled in, and confirm=yes.
type confirmData struct {
	Action string // the form's action (the same path)
	Text   string // catalog key of the question
	Arg    string
	Back   string // where "cancel" goes
	Button string // catalog key of the confirm button
	Fields []field
}

type field struct{ Name, Value string }

// confirmed reports whether the form is the confirmation step's.
func confirmed(c *fiber.Ctx) bool { return c.FormValue("confirm") == "yes" }

// confirm renders the confirmation step, carrying the form's fields.
func (u *UI) confirm(c *fiber.Ctx, d confirmData) error {
	for _, name := range []string{"reason", "note", "submission_id", "version", "key"} {
		if v := c.FormValue(name); v != "" {
			d.Fields = append(d.Fields, field{name, v})
		}
	}
	page := u.base(c, "confirm.title", web.Param(c, "tenant"))
	page.Data = d
	return u.page(c, "confirm", page)
}

// actorOf is the signed-in staff member as the tenants services record
// them (with the request id and client address).
func actorOf(c *fiber.Ctx) tenants.Actor {
	return tenants.Actor{Subject: actor(c), RequestID: web.RequestIDOf(c), Source: c.Context().RemoteIP().String()}
}

// actor is the signed-in staff member the services record as acting.
func actor(c *fiber.Ctx) authz.Subject {
	p, _ := web.PrincipalOf(c)
	return p
}
