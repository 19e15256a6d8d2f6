package partnerapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
)

func ptr[T any](v T) *T { return &v }

func sdkErr(t *testing.T, err error) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("want a ServiceResponseError, got %T %v", err, err)
	}
	return se
}

// TestPartnerAPIWithOfficialSDK drives all four endpoints with the official
// Huawei Cloud Go SDK against real MinIO and Redis, then against the
// embedded defaults.
func TestPartnerAPIWithOfficialSDK(t *testing.T) {
	for _, real := range []bool{true, false} {
		t.Run(map[bool]string{true: "minio+redis", false: "dir+embedded"}[real], func(t *testing.T) {
			e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: real})
			client := e.SDK(t, "pa")

			// Send a verification code; the end user receives it by SMS.
			if _, err := client.SendVerificationMessageCode(&model.SendVerificationMessageCodeRequest{Body: &model.SendVerificationCodeV2Req{
				ReceiverType: 1, MobilePhone: "0086-13812345678", Timeout: ptr(int32(5)), Lang: ptr("en-us")}}); err != nil {
				t.Fatalf("send code: %v", err)
			}
			msg := e.Outbox.Last(t)
			if msg.Tenant != "pa" || msg.Phone != "0086-13812345678" || len(msg.Code) != 6 || msg.TTL != 5*time.Minute {
				t.Fatalf("message %+v", msg)
			}

			// A wrong code first: decoded by the SDK as the reference error.
			_, err := client.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
				XaccountId: "user-1", XaccountType: "pa_platform", DomainName: ptr("acme_corp"),
				MobilePhone: ptr("0086-13812345678"), VerificationCode: ptr(wrong(msg.Code))}})
			if se := sdkErr(t, err); se.StatusCode != 400 || se.ErrorCode != "CBC.99004010" {
				t.Fatalf("wrong code: %+v", se)
			}
			created, err := client.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
				XaccountId: "user-1", XaccountType: "pa_platform", DomainName: ptr("acme_corp"), Password: ptr("Secr3t!pass"),
				MobilePhone: ptr("0086-13812345678"), VerificationCode: ptr(msg.Code), CooperationType: ptr("1")}})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if *created.DomainName != "acme_corp" || len(*created.DomainId) != 32 {
				t.Fatalf("created %+v", created)
			}
			// Idempotent retry: the same account, even without the (used) code.
			again, err := client.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
				XaccountId: "user-1", XaccountType: "pa_platform"}})
			if err != nil || *again.DomainId != *created.DomainId {
				t.Fatalf("retry: %+v %v", again, err)
			}
			// Another xaccount may not take the name.
			_, err = client.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
				XaccountId: "user-2", XaccountType: "pa_platform", DomainName: ptr("ACME_corp")}})
			if se := sdkErr(t, err); se.ErrorCode != "CBC.99000038" {
				t.Fatalf("name taken: %+v", se)
			}
			// Without a name: a random 32-character one.
			anon, err := client.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
				XaccountId: "user-3", XaccountType: "pa_platform"}})
			if err != nil || len(*anon.DomainName) != 32 {
				t.Fatalf("random name: %+v %v", anon, err)
			}

			list, err := client.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{
				AccountName: ptr("acme"), Limit: ptr(int32(10))}})
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if *list.Count != 1 || len(*list.CustomerInfos) != 1 {
				t.Fatalf("query result %+v", list)
			}
			info := (*list.CustomerInfos)[0]
			if info.CustomerId != *created.DomainId || info.AccountName != "acme_corp" || *info.AssociationType != "1" ||
				*info.XaccountId != "user-1" || *info.Telephone != "0086-138****5678" {
				t.Fatalf("customer info %+v", info)
			}
			all, err := client.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}})
			if err != nil || *all.Count != 2 {
				t.Fatalf("list all: %+v %v", all, err)
			}

			for _, tc := range []struct {
				typ, value, want string
				remain           int32
			}{
				{"name", "acme_corp", "used_by_user", -1},
				{"name", "free_name", "available", -1},
				{"mobile", "0086-13812345678", "used_by_user", 1},
				{"mobile", "0086-13900000000", "available", 2},
			} {
				r, err := client.CheckUserIdentity(&model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{
					SearchType: tc.typ, SearchValue: tc.value}})
				if err != nil || *r.CheckResult != tc.want {
					t.Fatalf("check %s %s: %+v %v", tc.typ, tc.value, r, err)
				}
				if tc.remain >= 0 && (r.MobileRemainAvailableNum == nil || *r.MobileRemainAvailableNum != tc.remain) {
					t.Fatalf("check %s remaining %v", tc.value, r.MobileRemainAvailableNum)
				}
			}
			_, err = client.CheckUserIdentity(&model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{
				SearchType: "mobile", SearchValue: "12345"}})
			if se := sdkErr(t, err); se.ErrorCode != "CBC.5017" {
				t.Fatalf("bad mobile: %+v", se)
			}

			// Wrong secret: 401 CBC.0154, decoded by the SDK, counted in the
			// metrics and not written to the audit store (unauthenticated).
			_, err = e.SDKWith(t, e.Keys["pa"][0], "not-the-secret").ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}})
			if se := sdkErr(t, err); se.StatusCode != 401 || se.ErrorCode != "CBC.0154" {
				t.Fatalf("bad secret: %+v", se)
			}
			audits, err := e.Store.List(context.Background(), "audit/pa/")
			if err != nil || containsKey(audits, "signature.failed") || !containsKey(audits, "customer.create") {
				t.Fatalf("audit records: %v %v", keysOf(audits), err)
			}
			if n := metricValue(t, e.OpsURL, `livery_partner_auth_failures_total{reason="signature"}`); n != 1 {
				t.Fatalf("signature failures counted: %v", n)
			}
		})
	}
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func containsKey(objs []objstore.Object, sub string) bool {
	for _, o := range objs {
		if strings.Contains(o.Key, sub) {
			return true
		}
	}
	return false
}

func keysOf(objs []objstore.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

// TestPartnerTenantIsolation: a partner's key never reads or writes
// another partner's customers.
func TestPartnerTenantIsolation(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	a, b := e.SDK(t, "pa"), e.SDK(t, "pb")
	if _, err := a.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
		XaccountId: "same-id", XaccountType: "pa_platform", DomainName: ptr("tenant_a_cust")}}); err != nil {
		t.Fatal(err)
	}
	// The other partner's platform id with this partner's key: 403.
	_, err := b.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
		XaccountId: "same-id", XaccountType: "pa_platform"}})
	if se := sdkErr(t, err); se.StatusCode != 403 || se.ErrorCode != "CBC.0151" {
		t.Fatalf("foreign xaccount_type: %+v", se)
	}
	res, err := b.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}})
	if err != nil || *res.Count != 0 {
		t.Fatalf("partner b sees %+v %v", res, err)
	}
	res, err = b.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{AccountName: ptr("tenant_a")}})
	if err != nil || *res.Count != 0 {
		t.Fatalf("partner b finds a's customer: %+v %v", res, err)
	}
	// The same xaccount id under b's own platform id is b's own customer.
	if _, err := b.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
		XaccountId: "same-id", XaccountType: "pb_platform", DomainName: ptr("tenant_b_cust")}}); err != nil {
		t.Fatal(err)
	}
	if res, _ := a.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}}); *res.Count != 1 ||
		(*res.CustomerInfos)[0].AccountName != "tenant_a_cust" {
		t.Fatalf("partner a sees %+v", res)
	}
}

// TestPartnerReindexAfterRedisFlush: the index is rebuilt from the object
// store, with the same answers.
func TestPartnerReindexAfterRedisFlush(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true})
	a := e.SDK(t, "pa")
	for i := 0; i < 5; i++ {
		if _, err := a.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{
			XaccountId: fmt.Sprintf("u%d", i), XaccountType: "pa_platform", DomainName: ptr(fmt.Sprintf("cust_%d_x", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	query := func() string {
		res, err := a.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{Offset: ptr(int32(1)), Limit: ptr(int32(3))}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range *res.CustomerInfos {
			names = append(names, c.AccountName)
		}
		return fmt.Sprint(*res.Count, names)
	}
	before := query()
	if err := e.RDB.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if after := query(); after != before || !strings.HasPrefix(after, "5 ") {
		t.Fatalf("after flush %q, before %q", after, before)
	}
	if err := e.RDB.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Customers.Reindex(context.Background(), "pa"); err != nil || n != 5 {
		t.Fatalf("reindex: %d %v", n, err)
	}
	if after := query(); after != before {
		t.Fatalf("after reindex %q, before %q", after, before)
	}
}

// TestPartnerRateLimitsAndRisk checks APIGW.0308 with its headers and the
// registration risk control.
func TestPartnerRateLimitsAndRisk(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Rates: 3})
	var last *http.Response
	var body string
	for i := 0; i < 4; i++ {
		last, body = e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers/users/check-identity",
			Body: `{"search_type":"name","search_value":"someone_x"}`})
	}
	if last.StatusCode != 429 || !strings.Contains(body, `"error_code":"APIGW.0308"`) || last.Header.Get("Retry-After") == "" ||
		last.Header.Get("RateLimit-Policy") != "3;w=1" || !strings.Contains(last.Header.Get("RateLimit"), "remaining=0") {
		t.Fatalf("rate limit: %d %v %s", last.StatusCode, last.Header, body)
	}
	// Other partners have their own budget.
	if r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pb", Path: "/v2/partners/sub-customers/users/check-identity",
		Body: `{"search_type":"name","search_value":"someone_x"}`}); r.StatusCode != 200 {
		t.Fatalf("partner b limited by a's traffic: %d %s", r.StatusCode, b)
	}

	e = gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Risk: tenants.RiskPolicy{PerDevice: tenants.PerHour(1)}})
	create := func(xid, lang string) (*http.Response, string) {
		h := map[string]string{partnerapi.HeaderClientDevice: "device-42", partnerapi.HeaderClientAddress: "203.0.113.7"}
		if lang != "" {
			h["Accept-Language"] = lang
		}
		return e.Do(t, gatewaytest.RawCall{Tenant: "pb", Path: "/v2/partners/sub-customers", Headers: h,
			Body: fmt.Sprintf(`{"xaccount_id":%q,"xaccount_type":"pb_platform"}`, xid)})
	}
	if r, b := create("dev-1", ""); r.StatusCode != 200 {
		t.Fatalf("first registration from device: %d %s", r.StatusCode, b)
	}
	// The retry of a finished registration is not counted against the device.
	if r, b := create("dev-1", ""); r.StatusCode != 200 {
		t.Fatalf("retry: %d %s", r.StatusCode, b)
	}
	before := e.CustomerObjects(t)
	r, b := create("dev-2", "")
	if r.StatusCode != 429 || !strings.Contains(b, `"error_code":"`+partnerapi.RiskRefusedCode+`"`) ||
		!strings.Contains(b, "系统侦测到您当前的客户端注册数量超限,请稍晚再注册或更换客户端注册。") {
		t.Fatalf("risk refusal: %d %s", r.StatusCode, b)
	}
	if r, b := create("dev-3", "en-US,en;q=0.9"); r.StatusCode != 429 || !strings.Contains(b, "too many registrations") {
		t.Fatalf("english risk refusal: %d %s", r.StatusCode, b)
	}
	if e.CustomerObjects(t) != before {
		t.Fatal("a refused registration wrote a customer")
	}
	// Device headers must be covered by the signature.
	r, b = e.Do(t, gatewaytest.RawCall{Tenant: "pb", Path: "/v2/partners/sub-customers",
		Unsigned: map[string]string{partnerapi.HeaderClientDevice: "spoofed"}, Body: `{"xaccount_id":"dev-9","xaccount_type":"pb_platform"}`})
	if r.StatusCode != 400 || !strings.Contains(b, "X-Client-Device-Id: must be included in SignedHeaders") {
		t.Fatalf("unsigned device header: %d %s", r.StatusCode, b)
	}
}

// TestPartnerFailsClosedWithoutRedis: registration with Redis down is
// refused with 503 CBC.0999 and Retry-After, and nothing is written.
func TestPartnerFailsClosedWithoutRedis(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	before := e.CustomerObjects(t)
	e.RDB.Embedded.Close()
	r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers",
		Body: `{"xaccount_id":"no-redis","xaccount_type":"pa_platform"}`})
	if r.StatusCode != 503 || !strings.Contains(b, `"error_code":"CBC.0999"`) || r.Header.Get("Retry-After") == "" {
		t.Fatalf("redis down: %d %v %s", r.StatusCode, r.Header, b)
	}
	if e.CustomerObjects(t) != before {
		t.Fatal("customer written while Redis was down")
	}
}
