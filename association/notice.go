package association

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"time"

	"github.com/livery/livery/authz"
)

// NoticeVersion is the current version of the customer association notice
// (客户关联合作伙伴须知). A new text is a new version: customers sign it
// again before their next acceptance.
const NoticeVersion = "2026-12"

var (
	//go:embed notice/zh.txt
	noticeZH string
	//go:embed notice/en.txt
	noticeEN string
)

// NoticeText is the notice a customer signs, in both languages.
type NoticeText struct {
	Version string `json:"version"`
	ZH      string `json:"zh"`
	EN      string `json:"en"`
}

// Notice returns the current notice.
func Notice() NoticeText { return NoticeText{Version: NoticeVersion, ZH: noticeZH, EN: noticeEN} }

// Signature records that a customer signed a notice version for a partner
// (the one whose invitation they opened), and when. Stored create-only
// under association/signatures/<customer>/<version>-<tenant>.json: the
// first signature of a version for a partner stands.
type Signature struct {
	Customer   string        `json:"customer"`
	Tenant     string        `json:"tenant"`
	Notice     string        `json:"notice"` // "customer-association"
	Version    string        `json:"version"`
	Invitation string        `json:"invitation"`
	By         authz.Subject `json:"by"`
	At         time.Time     `json:"at"`
}

// Sign records that account signed notice version for the invitation
// token names. Signing again returns the earlier signature. Errors:
// ErrNoticeNotSigned (version is not NoticeVersion), ErrNotAllowed (not a
// customer account), the errors of Redeem, a store error.
func (s *Service) Sign(ctx context.Context, token, version string, account authz.Subject) (Signature, error) {
	if version != NoticeVersion {
		return Signature{}, wrap(ErrNoticeNotSigned, "version %q; the current version is %s / 当前版本为 %s", version, NoticeVersion, NoticeVersion)
	}
	inv, err := s.Redeem(ctx, token, account)
	if err != nil {
		return Signature{}, err
	}
	sig := Signature{Customer: account.Customer, Tenant: inv.Tenant, Notice: "customer-association", Version: version,
		Invitation: inv.ID, By: account, At: s.clock()}
	key := signatureKey(account.Customer, version, inv.Tenant)
	if _, err := s.put(ctx, key, sig, createOnly()); err != nil {
		if !isPrecondition(err) {
			return Signature{}, fmt.Errorf("association: store signature: %w", err)
		}
		had, _, found, err := getJSON[Signature](ctx, s.store, key)
		if err != nil || !found {
			return Signature{}, fmt.Errorf("association: read signature: %v", err)
		}
		sig = had
	}
	return sig, s.record(ctx, auditEvent{Event: EventNoticeSigned, ID: "notice-" + version + "-" + sig.Invitation, At: sig.At,
		Tenant: sig.Tenant, Customer: sig.Customer, Actor: sig.By, Detail: "version " + version})
}

// signed reports whether customer signed the current notice for tenant.
func (s *Service) signed(ctx context.Context, customer, tenant string) (bool, error) {
	_, _, found, err := getJSON[Signature](ctx, s.store, signatureKey(customer, NoticeVersion, tenant))
	return found, err
}

// Signatures lists every notice the customer signed, newest first ("My
// partners → Agreements"). Errors: ErrInvalid, a store error.
func (s *Service) Signatures(ctx context.Context, customer string) ([]Signature, error) {
	if !ValidID(customer) {
		return nil, wrap(ErrInvalid, "customer id %q", customer)
	}
	objs, err := s.store.List(ctx, signaturePrefix(customer))
	if err != nil {
		return nil, fmt.Errorf("association: list signatures: %w", err)
	}
	out := []Signature{}
	for _, o := range objs {
		sig, _, found, err := getJSON[Signature](ctx, s.store, o.Key)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, sig)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}
