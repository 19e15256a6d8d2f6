package association

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/ids"
)

// Invitation kinds.
const (
	Online  = "online"  // a link sent to the customer; expires InvitationTTL after it was (re)sent
	Offline = "offline" // printable link / QR code; never expires, can be revoked
)

// Invitation states. Expired is never stored: it is an online pending
// invitation past ExpiresAt (see StateAt).
const (
	StatePending   = "pending"
	StateAccepting = "accepting" // claimed by an account; the binding is being written
	StateAccepted  = "accepted"
	StateDeclined  = "declined"
	StateRevoked   = "revoked"
	StateExpired   = "expired"
)

// Invitation is a partner's invitation of an existing cloud account,
// stored at association/tenants/<tenant>/invitations/<id>.json (CAS on
// its ETag). The link's token is never stored: only its SHA-256
// (TokenHash, and the token index association/tokens/<hash>.json). One
// invitation associates one account: it is used once.
type Invitation struct {
	ID              string        `json:"id"`
	Tenant          string        `json:"tenant"`
	Kind            string        `json:"kind"`
	AssociationType string        `json:"association_type"`
	ForCustomer     string        `json:"for_customer,omitempty"` // targeted: only this account may use it
	State           string        `json:"state"`
	TokenHash       string        `json:"token_hash"`
	CreatedBy       authz.Subject `json:"created_by"`
	CreatedAt       time.Time     `json:"created_at"`
	SentAt          time.Time     `json:"sent_at"`
	ExpiresAt       time.Time     `json:"expires_at,omitzero"` // zero for offline
	Sends           int           `json:"sends"`
	// Customer is the account that accepted, declined or is accepting.
	Customer   string         `json:"customer,omitempty"`
	AcceptedBy *authz.Subject `json:"accepted_by,omitempty"` // the account's subject, for the audit record
	DecidedAt  time.Time      `json:"decided_at,omitzero"`
	RevokedBy  *authz.Subject `json:"revoked_by,omitempty"`
	// Failure is the last failed attempt to accept (the partner's list
	// shows its reason); the invitation stays usable.
	Failure *Failure `json:"failure,omitempty"`
	// ExpiryAnnounced is the ExpiresAt whose passing was announced
	// (SweepExpired), so each expiry is announced once; a resend moves
	// ExpiresAt and so re-arms it.
	ExpiryAnnounced time.Time `json:"expiry_announced,omitzero"`
	Seq             int       `json:"seq"`
	ETag            string    `json:"-"`
}

// Failure is why an attempt to accept failed.
type Failure struct {
	Code     string    `json:"code"`
	ZH       string    `json:"zh"`
	EN       string    `json:"en"`
	Customer string    `json:"customer"`
	At       time.Time `json:"at"`
}

// StateAt is the effective state at t (pending online links expire).
func (i Invitation) StateAt(t time.Time) string {
	if i.State == StatePending && !i.ExpiresAt.IsZero() && !t.Before(i.ExpiresAt) {
		return StateExpired
	}
	return i.State
}

type tokenRef struct {
	Tenant     string `json:"tenant"`
	Invitation string `json:"invitation"`
}

// CreateInput is a new invitation.
type CreateInput struct {
	Kind            string // Online or Offline
	AssociationType string // TypeReferral or TypeResale
	ForCustomer     string // optional: only this cloud account may use it
}

// Create makes an invitation of tenant and returns it with its token (the
// secret of the link; shown once, never stored). Only a partner admin of
// tenant may. Errors: ErrInvalid, ErrNotAllowed, a store error.
func (s *Service) Create(ctx context.Context, tenant string, in CreateInput, actor authz.Subject) (Invitation, string, error) {
	if err := checkAdmin(tenant, actor); err != nil {
		return Invitation{}, "", err
	}
	if in.Kind != Online && in.Kind != Offline {
		return Invitation{}, "", wrap(ErrInvalid, "kind %q (want online or offline)", in.Kind)
	}
	if in.AssociationType != TypeReferral && in.AssociationType != TypeResale {
		return Invitation{}, "", wrap(ErrInvalid, "association type %q (want 1 or 2)", in.AssociationType)
	}
	if in.ForCustomer != "" && !ValidID(in.ForCustomer) {
		return Invitation{}, "", wrap(ErrInvalid, "customer id %q", in.ForCustomer)
	}
	now := s.clock()
	inv := Invitation{ID: newID(now), Tenant: tenant, Kind: in.Kind, AssociationType: in.AssociationType,
		ForCustomer: in.ForCustomer, State: StatePending, CreatedBy: actor, CreatedAt: now, SentAt: now, Sends: 1}
	if in.Kind == Online {
		inv.ExpiresAt = now.Add(InvitationTTL)
	}
	token, err := s.newToken(ctx, &inv)
	if err != nil {
		return Invitation{}, "", err
	}
	etag, err := s.put(ctx, invitationKey(tenant, inv.ID), inv, createOnly())
	if err != nil {
		return Invitation{}, "", fmt.Errorf("association: store invitation: %w", err)
	}
	inv.ETag = etag
	return inv, token, s.record(ctx, auditEvent{Event: EventInvitationCreated, ID: inv.ID, At: now, Tenant: tenant,
		Customer: inv.ForCustomer, Actor: actor, Detail: inv.Kind + "; type " + inv.AssociationType})
}

// newToken makes a token, writes its index entry (create-only; before the
// invitation names it, so a crash leaves only an entry nothing names) and
// sets inv.TokenHash.
func (s *Service) newToken(ctx context.Context, inv *Invitation) (string, error) {
	token := ids.Token()
	h := hashHex(token)
	if _, err := s.put(ctx, tokenKey(h), tokenRef{Tenant: inv.Tenant, Invitation: inv.ID}, createOnly()); err != nil {
		return "", fmt.Errorf("association: store token: %w", err)
	}
	inv.TokenHash = h
	return token, nil
}

func (s *Service) invitation(ctx context.Context, tenant, id string) (Invitation, bool, error) {
	if !invRe.MatchString(id) {
		return Invitation{}, false, nil
	}
	inv, etag, found, err := getJSON[Invitation](ctx, s.store, invitationKey(tenant, id))
	inv.ETag = etag
	return inv, found, err
}

// swap is the CAS loop on an invitation.
func (s *Service) swap(ctx context.Context, tenant, id string, change func(cur Invitation) (Invitation, bool, error)) (Invitation, error) {
	for range 16 {
		cur, found, err := s.invitation(ctx, tenant, id)
		if err != nil {
			return Invitation{}, err
		}
		if !found {
			return Invitation{}, wrap(ErrLinkNotFound, "invitation %s", id)
		}
		next, apply, err := change(cur)
		if err != nil || !apply {
			return cur, err
		}
		next.Seq = cur.Seq + 1
		etag, err := s.put(ctx, invitationKey(tenant, id), next, condition(cur.ETag))
		if isPrecondition(err) {
			continue
		}
		if err != nil {
			return Invitation{}, fmt.Errorf("association: store invitation: %w", err)
		}
		next.ETag = etag
		return next, nil
	}
	return Invitation{}, wrap(ErrBusy, "invitation %s", id)
}

// Resend gives a pending (or expired) online invitation a new token and a
// new InvitationTTL; the old token stops working at once. Errors:
// ErrNotAllowed, ErrLinkNotFound (no such invitation), ErrState (offline,
// or accepted, declined, revoked, being accepted), ErrBusy, a store error.
func (s *Service) Resend(ctx context.Context, tenant, id string, actor authz.Subject) (Invitation, string, error) {
	if err := checkAdmin(tenant, actor); err != nil {
		return Invitation{}, "", err
	}
	now := s.clock()
	var token string
	inv, err := s.swap(ctx, tenant, id, func(cur Invitation) (Invitation, bool, error) {
		if cur.Kind != Online || cur.State != StatePending {
			return cur, false, wrap(ErrState, "%s %s invitation cannot be resent / 该邀请不能重新发送", cur.StateAt(now), cur.Kind)
		}
		t, err := s.newToken(ctx, &cur)
		if err != nil {
			return cur, false, err
		}
		token = t
		cur.SentAt, cur.ExpiresAt, cur.Sends = now, now.Add(InvitationTTL), cur.Sends+1
		return cur, true, nil
	})
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, token, s.record(ctx, auditEvent{Event: EventInvitationResent, ID: fmt.Sprintf("%s-%d", inv.ID, inv.Sends),
		At: now, Tenant: tenant, Customer: inv.ForCustomer, Actor: actor})
}

// Revoke ends a pending invitation (online or offline; an expired one
// too). Revoking a revoked one returns it. Errors: ErrNotAllowed,
// ErrLinkNotFound, ErrState (accepted, declined or being accepted: a
// concurrent accept that claimed it first wins), ErrBusy, a store error.
func (s *Service) Revoke(ctx context.Context, tenant, id string, actor authz.Subject) (Invitation, error) {
	if err := checkAdmin(tenant, actor); err != nil {
		return Invitation{}, err
	}
	now := s.clock()
	inv, err := s.swap(ctx, tenant, id, func(cur Invitation) (Invitation, bool, error) {
		switch cur.State {
		case StateRevoked:
			return cur, false, nil
		case StatePending:
			cur.State, cur.RevokedBy, cur.DecidedAt = StateRevoked, &actor, now
			return cur, true, nil
		}
		return cur, false, wrap(ErrState, "invitation is %s / 邀请状态为 %s", cur.State, cur.State)
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, s.record(ctx, auditEvent{Event: EventInvitationRevoked, ID: inv.ID, At: inv.DecidedAt, Tenant: tenant,
		Customer: inv.ForCustomer, Actor: *inv.RevokedBy})
}

// Get returns invitation id of tenant, completing an interrupted
// acceptance first. Errors: ErrInvalid, ErrLinkNotFound, a store error,
// the errors of completing an acceptance.
func (s *Service) Get(ctx context.Context, tenant, id string) (Invitation, error) {
	if !ValidID(tenant) {
		return Invitation{}, wrap(ErrInvalid, "tenant id %q", tenant)
	}
	inv, found, err := s.invitation(ctx, tenant, id)
	switch {
	case err != nil:
		return Invitation{}, err
	case !found || inv.Tenant != tenant:
		return Invitation{}, wrap(ErrLinkNotFound, "invitation %s", id)
	case inv.State == StateAccepting:
		inv, _, err = s.completeAccept(ctx, inv)
	}
	return inv, err
}

// List returns the tenant's invitations, newest first, each with its
// stored state (StateAt gives the effective one); interrupted acceptances
// are completed (one that cannot be completed now is listed accepting).
// Cost: one List and one read per invitation. Errors: ErrInvalid, a store
// error.
func (s *Service) List(ctx context.Context, tenant string) ([]Invitation, error) {
	if !ValidID(tenant) {
		return nil, wrap(ErrInvalid, "tenant id %q", tenant)
	}
	objs, err := s.store.List(ctx, invitationPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("association: list invitations: %w", err)
	}
	out := []Invitation{}
	for _, o := range objs {
		id := strings.TrimSuffix(strings.TrimPrefix(o.Key, invitationPrefix(tenant)), ".json")
		inv, found, err := s.invitation(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if inv.State == StateAccepting {
			// Roll it forward; if that fails now, show it as stored (the
			// list must not fail for one customer's registry trouble).
			if done, _, err := s.completeAccept(ctx, inv); err != nil {
				s.log.Warn("association: completing an acceptance failed", "tenant", tenant, "invitation", id, "err", err)
			} else {
				inv = done
			}
		}
		out = append(out, inv)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// lookup finds the invitation a token names; a token replaced by a resend
// is not found.
func (s *Service) lookup(ctx context.Context, token string) (Invitation, error) {
	if token == "" || len(token) > 128 {
		return Invitation{}, ErrLinkNotFound
	}
	h := hashHex(token)
	ref, _, found, err := getJSON[tokenRef](ctx, s.store, tokenKey(h))
	if err != nil {
		return Invitation{}, err
	}
	if !found {
		return Invitation{}, ErrLinkNotFound
	}
	inv, found, err := s.invitation(ctx, ref.Tenant, ref.Invitation)
	if err != nil {
		return Invitation{}, err
	}
	if !found || inv.TokenHash != h {
		return Invitation{}, ErrLinkNotFound
	}
	return inv, nil
}

// usable checks that account may act on inv now: the failure reasons of
// the link itself.
func usable(inv Invitation, account authz.Subject, now time.Time) error {
	switch inv.StateAt(now) {
	case StateExpired, StateRevoked:
		return wrap(ErrLinkNotFound, "invitation %s is %s", inv.ID, inv.StateAt(now))
	case StateAccepted, StateDeclined, StateAccepting:
		if inv.Customer != account.Customer {
			return ErrCodeUsed
		}
		if inv.State == StateDeclined {
			return wrap(ErrCodeUsed, "declined")
		}
	}
	if inv.ForCustomer != "" && inv.ForCustomer != account.Customer {
		return ErrWrongAccount
	}
	return nil
}

// Redeem returns the invitation a link's token names, for account to read
// before signing and accepting. It changes nothing. Errors: ErrNotAllowed
// (not a customer account), ErrLinkNotFound (unknown, expired, revoked or
// resent), ErrCodeUsed (used by another account, or declined),
// ErrWrongAccount, a store error.
func (s *Service) Redeem(ctx context.Context, token string, account authz.Subject) (Invitation, error) {
	if err := checkAccount(account); err != nil {
		return Invitation{}, err
	}
	inv, err := s.lookup(ctx, token)
	if err != nil {
		return Invitation{}, err
	}
	return inv, usable(inv, account, s.clock())
}

// Decline records that account declines the invitation (it is then used).
// Declining again returns it. Errors: those of Redeem, ErrBusy, a store
// or audit error.
func (s *Service) Decline(ctx context.Context, token string, account authz.Subject) (Invitation, error) {
	inv, err := s.Redeem(ctx, token, account)
	if err != nil && !(inv.State == StateDeclined && inv.Customer == account.Customer) {
		return Invitation{}, err
	}
	if inv.State == StateAccepted || inv.State == StateAccepting {
		return Invitation{}, ErrCodeUsed
	}
	now, hash := s.clock(), inv.TokenHash
	applied := false
	inv, err = s.swap(ctx, inv.Tenant, inv.ID, func(cur Invitation) (Invitation, bool, error) {
		applied = false
		if cur.State == StateDeclined && cur.Customer == account.Customer {
			return cur, false, nil
		}
		if cur.TokenHash != hash { // resent meanwhile: this token is dead
			return cur, false, ErrLinkNotFound
		}
		if err := usable(cur, account, now); err != nil {
			return cur, false, err
		}
		if cur.State != StatePending {
			return cur, false, ErrCodeUsed
		}
		cur.State, cur.Customer, cur.DecidedAt = StateDeclined, account.Customer, now
		applied = true
		return cur, true, nil
	})
	if err != nil {
		return Invitation{}, err
	}
	if err := s.record(ctx, auditEvent{Event: EventInvitationDeclined, ID: inv.ID, At: inv.DecidedAt, Tenant: inv.Tenant,
		Customer: inv.Customer, Actor: account}); err != nil {
		return inv, err
	}
	if applied {
		s.announce(ctx, Announcement{Kind: KindDeclined, Audience: AudiencePartner, Tenant: inv.Tenant,
			Customer: inv.Customer, Invitation: inv.ID, Actor: account, At: inv.DecidedAt})
	}
	return inv, nil
}
