package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/images"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/internal/objstore"
)

// Draft returns the tenant's working draft with its ETag. Without a stored
// draft it returns the live document (or DefaultDocument when nothing is
// live) with ETag "". Errors: ErrInvalidArgument, store errors.
func (s *Service) Draft(ctx context.Context, tenant string) (Draft, error) {
	if err := checkTenant(tenant); err != nil {
		return Draft{}, err
	}
	d, etag, found, err := getJSON[Draft](ctx, s.store, draftKey(tenant))
	if err != nil {
		return Draft{}, err
	}
	if found {
		d.ETag = etag
		return d, nil
	}
	live, err := s.Live(ctx, tenant)
	if err != nil {
		return Draft{}, err
	}
	if live != nil {
		return Draft{Doc: live.Doc}, nil
	}
	return Draft{Doc: DefaultDocument()}, nil
}

// PutDraft validates doc and stores it as the tenant's draft. ifMatch ""
// means create-only (ErrConflict if a draft exists); otherwise it must be
// the current draft's ETag (ErrConflict if not, or if no draft exists).
// An invalid document — including logos whose image was never uploaded
// ("brand.logo_zh": "image not uploaded") — returns a
// *branding.ValidationError listing every problem, and nothing is stored.
// The returned Draft carries the new ETag.
func (s *Service) PutDraft(ctx context.Context, tenant string, doc branding.Document, ifMatch string, actor authz.Subject) (Draft, error) {
	if err := checkActor(tenant, actor); err != nil {
		return Draft{}, err
	}
	if err := s.checkDoc(ctx, &doc); err != nil {
		return Draft{}, err
	}
	prev, prevETag, found, err := getJSON[Draft](ctx, s.store, draftKey(tenant))
	if err != nil {
		return Draft{}, err
	}
	switch {
	case ifMatch == "" && found:
		return Draft{}, fmt.Errorf("%w: a draft already exists (send its ETag)", ErrConflict)
	case ifMatch != "" && (!found || prevETag != ifMatch):
		return Draft{}, fmt.Errorf("%w: ETag %q is not current", ErrConflict, ifMatch)
	}
	lp, _, err := s.livePointer(ctx, tenant)
	if err != nil {
		return Draft{}, err
	}
	d := Draft{Doc: doc, UpdatedBy: actor.User, UpdatedAt: s.clock()}
	// The save's number follows the previous draft's, and is above every
	// number an approval has covered even when no draft is stored.
	d.Seq = max(prev.Seq, lp.ApprovedDraftSeq) + 1
	d.Editors = append(prev.unapprovedEditors(lp.ApprovedDraftSeq, actor.User), Editor{User: actor.User, Seq: d.Seq})
	// Conditional on the draft just read (create-only when there was
	// none), so the editor list cannot miss a concurrent save.
	etag, err := s.putJSON(ctx, draftKey(tenant), d, condition(ifMatch))
	switch {
	case isPrecondition(err):
		if ifMatch == "" {
			return Draft{}, fmt.Errorf("%w: a draft already exists (send its ETag)", ErrConflict)
		}
		return Draft{}, fmt.Errorf("%w: ETag %q is not current", ErrConflict, ifMatch)
	case err != nil:
		return Draft{}, fmt.Errorf("workflow: save draft: %w", err)
	}
	d.ETag = etag
	return d, s.record(ctx, audit.Record{Event: EventDraftSave, Tenant: tenant, Actor: actor, Detail: "etag " + etag})
}

// checkDoc runs branding validation plus the store-dependent rule that
// every referenced image exists. Store errors are returned as such.
func (s *Service) checkDoc(ctx context.Context, doc *branding.Document) error {
	var problems []branding.Problem
	var ve *branding.ValidationError
	if err := doc.Validate(s.validate); errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	} else if err != nil {
		return err
	}
	for _, f := range []struct {
		field string
		a     branding.Asset
	}{{"brand.logo_zh", doc.Brand.LogoZH}, {"brand.logo_en", doc.Brand.LogoEN}, {"brand.favicon", doc.Brand.Favicon}} {
		if f.a.IsZero() || !validAssetName(f.a.SHA256, f.a.Ext) {
			continue // absent, or already reported by Validate
		}
		_, err := s.store.Stat(ctx, assetKey(f.a.SHA256, f.a.Ext))
		switch {
		case isNotFound(err):
			problems = append(problems, branding.Problem{Field: f.field, Message: "image not uploaded"})
		case err != nil:
			return fmt.Errorf("workflow: check image %s: %w", f.field, err)
		}
	}
	if len(problems) > 0 {
		return &branding.ValidationError{Problems: problems}
	}
	return nil
}

var (
	shaRe = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// contentTypes are the only types images are served with.
	contentTypes = map[string]string{"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "svg": "image/svg+xml"}
)

func validAssetName(sha, ext string) bool {
	_, ok := contentTypes[ext]
	return ok && shaRe.MatchString(sha)
}

// PutImage checks an uploaded logo with images.Check (errors wrap the
// images sentinels: ErrTooLarge, ErrUnsupportedType, ErrDimensions,
// ErrCorrupt, ErrUnsafeSVG) and stores it content-addressed under
// assets/<sha256>.<ext> with its sniffed content type. Storing an image
// that already exists is success (idempotent). tenant is the uploader, for
// the audit record; assets themselves are shared.
func (s *Service) PutImage(ctx context.Context, tenant string, data []byte, actor authz.Subject) (branding.Asset, error) {
	if err := checkActor(tenant, actor); err != nil {
		return branding.Asset{}, err
	}
	img, err := images.Check(data, s.limits)
	if err != nil {
		return branding.Asset{}, err
	}
	key := assetKey(img.SHA256, img.Ext)
	_, err = s.store.Put(ctx, key, bytes.NewReader(img.Data), int64(len(img.Data)),
		objstore.PutOptions{IfNoneMatch: true, ContentType: img.ContentType})
	if err != nil && !isPrecondition(err) {
		return branding.Asset{}, fmt.Errorf("workflow: store image: %w", err)
	}
	a := branding.Asset{SHA256: img.SHA256, Ext: img.Ext, Width: img.Width, Height: img.Height}
	return a, s.record(ctx, audit.Record{Event: EventImageUpload, Tenant: tenant, Actor: actor,
		Detail: fmt.Sprintf("%s.%s %dx%d %d bytes", a.SHA256, a.Ext, a.Width, a.Height, len(data))})
}

// OpenImage opens a stored image for serving. sha must be 64 lower-case
// hex digits and ext one of png, jpg, webp, svg; anything else is
// ErrNotFound without touching the store. contentType is derived from ext
// (never from stored metadata). The caller closes the reader.
func (s *Service) OpenImage(ctx context.Context, sha, ext string) (rc io.ReadCloser, contentType string, size int64, err error) {
	if !validAssetName(sha, ext) {
		return nil, "", 0, fmt.Errorf("%w: invalid image name", ErrNotFound)
	}
	rc, obj, err := s.store.Get(ctx, assetKey(sha, ext))
	switch {
	case isNotFound(err):
		return nil, "", 0, fmt.Errorf("%w: image %s.%s", ErrNotFound, sha, ext)
	case err != nil:
		return nil, "", 0, fmt.Errorf("workflow: open image: %w", err)
	}
	return rc, contentTypes[ext], obj.Size, nil
}

// unapprovedEditors returns the draft's editors whose last save is above
// approved (not yet covered by an approval), without except. A draft
// stored before editors were recorded names only UpdatedBy, which counts
// as unapproved.
func (d Draft) unapprovedEditors(approved int, except string) []Editor {
	var out []Editor
	if len(d.Editors) == 0 && d.UpdatedBy != "" && d.UpdatedBy != except {
		return append(out, Editor{User: d.UpdatedBy, Seq: max(d.Seq, approved+1)})
	}
	for _, e := range d.Editors {
		if e.Seq > approved && e.User != except {
			out = append(out, e)
		}
	}
	return out
}

// authors are the submitter and the unapproved editors, sorted.
func (d Draft) authors(approved int, submitter string) []string {
	users := []string{submitter}
	for _, e := range d.unapprovedEditors(approved, submitter) {
		users = append(users, e.User)
	}
	slices.Sort(users)
	return slices.Compact(users)
}
