package workflow_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/workflow"
)

// defaultDocJSON is workflow.DefaultDocument() as stored.
const defaultDocJSON = `{"brand":{"logo_zh":{"sha256":"","ext":"","width":0,"height":0},"logo_en":{"sha256":"","ext":"","width":0,"height":0}},"promotions":[],"menus":{"show_info":true,"show_resources":true,"show_user":true,"show_custom":true,"custom":[]},"ops":{"show_announcements":true,"show_activities":true,"show_recommended":true,"announcements":[]}}`

// TestOldActorJSON: submissions and versions stored when their actors
// were workflow.Actor (user, roles, tenant) read back into authz.Subject
// with the same values and re-encode to the same bytes.
func TestOldActorJSON(t *testing.T) {
	at := func(day, hour int) time.Time { return time.Date(2026, 2, day, hour, 0, 0, 0, time.UTC) }
	alice := authz.Subject{User: "alice", Roles: []string{"partner_admin"}, Tenant: "acme"}
	oscar := authz.Subject{User: "oscar", Roles: []string{"operator"}}
	for _, tc := range []struct {
		name, json string // as written before authz.Subject
		want       any
	}{
		{"pending submission",
			`{"id":"s1","tenant":"acme","doc":` + defaultDocJSON + `,"submitted_by":{"user":"alice","roles":["partner_admin"],"tenant":"acme"},"authors":["alice"],"draft_seq":2,"submitted_at":"2026-02-13T09:00:00Z","due":"2026-02-18T09:00:00Z","base_version":0,"status":"pending"}`,
			&workflow.Submission{ID: "s1", Tenant: "acme", Doc: workflow.DefaultDocument(), SubmittedBy: alice,
				Authors: []string{"alice"}, DraftSeq: 2, SubmittedAt: at(13, 9), Due: at(18, 9), Status: workflow.StatusPending}},
		{"rejected submission",
			`{"id":"s2","tenant":"acme","doc":` + defaultDocJSON + `,"submitted_by":{"user":"bob"},"submitted_at":"2026-02-13T09:00:00Z","due":"2026-02-18T09:00:00Z","base_version":1,"status":"rejected","decided_by":{"user":"oscar","roles":["operator"]},"decided_at":"2026-02-14T10:00:00Z","reason":"logo too small"}`,
			&workflow.Submission{ID: "s2", Tenant: "acme", Doc: workflow.DefaultDocument(), SubmittedBy: authz.Subject{User: "bob"},
				SubmittedAt: at(13, 9), Due: at(18, 9), BaseVersion: 1, Status: workflow.StatusRejected,
				DecidedBy: &oscar, DecidedAt: at(14, 10), Reason: "logo too small"}},
		{"version",
			`{"tenant":"acme","number":2,"doc":` + defaultDocJSON + `,"approved_by":{"user":"oscar","roles":["operator"]},"approved_at":"2026-02-14T10:00:00Z","submission_id":"s3","submitted_by":{"user":"alice","roles":["partner_admin"],"tenant":"acme"},"note":"ok"}`,
			&workflow.Version{Tenant: "acme", Number: 2, Doc: workflow.DefaultDocument(), ApprovedBy: oscar,
				ApprovedAt: at(14, 10), SubmissionID: "s3", SubmittedBy: alice, Note: "ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reflect.New(reflect.TypeOf(tc.want).Elem()).Interface()
			if err := json.Unmarshal([]byte(tc.json), got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tc.want)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.json {
				t.Errorf("re-encodes to\n%s\nwant\n%s", b, tc.json)
			}
		})
	}
}
