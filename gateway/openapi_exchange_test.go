package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/openapi"
)

// exchange is one captured request and its answer.
type exchange struct {
	req      *http.Request
	reqBody  []byte
	status   int
	header   http.Header
	respBody []byte
}

// capture is an http.RoundTripper that records every exchange it carries.
type capture struct {
	mu  sync.Mutex
	got []exchange
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	c.mu.Lock()
	c.got = append(c.got, exchange{req: r.Clone(context.Background()), reqBody: body, status: resp.StatusCode, header: resp.Header.Clone(), respBody: rb})
	c.mu.Unlock()
	return resp, nil
}

// validate checks every captured exchange against doc: the response
// always (its status must be documented), the request when the server
// accepted it (2xx or 3xx; a refused request may be refused precisely for
// breaking the schema). It returns how many exchanges it checked.
func (c *capture) validate(t *testing.T, data []byte) int {
	t.Helper()
	doc := loadDoc(t, data)
	doc.Servers = nil // match any host: the listeners are on random ports
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.got {
		name := fmt.Sprintf("%s %s → %d", x.req.Method, x.req.URL.Path, x.status)
		r := x.req.Clone(context.Background())
		r.Body = io.NopCloser(bytes.NewReader(x.reqBody))
		route, params, err := router.FindRoute(r)
		if err != nil {
			t.Errorf("%s: not in the document: %v", name, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if x.status < 400 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("%s: request disagrees with the schema: %v\n%s", name, err, x.reqBody)
			}
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.status, Header: x.header, Options: opts}
		out.SetBodyBytes(x.respBody)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s: response disagrees with the schema: %v\n%s", name, err, x.respBody)
		}
	}
	return len(c.got)
}

// TestOpenAPIPartnerExchanges drives the partner API with the official
// SDK through a capturing transport and validates every request and
// response against partner.json: a schema that disagrees with the code
// (or with the SDK's models) fails here.
func TestOpenAPIPartnerExchanges(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{})
	cap := &capture{}
	sdk := func(ak, sk string) *bss.BssClient {
		cred := global.NewCredentialsBuilder().WithAk(ak).WithSk(sk).Build()
		hc, err := bss.BssClientBuilder().WithEndpoints([]string{e.APIURL}).WithCredential(cred).
			WithHttpConfig(config.DefaultHttpConfig().WithHttpRoundTripper(cap)).SafeBuild()
		if err != nil {
			t.Fatal(err)
		}
		return bss.NewBssClient(hc)
	}
	k := e.Keys["pa"]
	c := sdk(k[0], k[1])
	str := func(s string) *string { return &s }
	i32 := func(n int32) *int32 { return &n }

	if _, err := c.CheckUserIdentity(&model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{SearchType: "name", SearchValue: "openapi_one"}}); err != nil {
		t.Fatal(err)
	}
	phone := "0086-13800000001"
	if _, err := c.SendVerificationMessageCode(&model.SendVerificationMessageCodeRequest{Body: &model.SendVerificationCodeV2Req{
		ReceiverType: 1, MobilePhone: phone, Timeout: i32(5), Lang: str("en-us"), Scene: i32(29)}}); err != nil {
		t.Fatal(err)
	}
	code := e.Outbox.Last(t).Code
	if _, err := c.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: "oa-1", XaccountType: "pa_platform",
		DomainName: str("openapi_one"), MobilePhone: str(phone), VerificationCode: str(code), Password: str("Secret#2026x"),
		IsCloseMarketMs: str("false"), CooperationType: str("1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: "oa-2", XaccountType: "pa_platform"}}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{Offset: i32(0), Limit: i32(10), AssociationType: str("2")}})
	if err != nil || list.Count == nil || *list.Count != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	if _, err := c.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{AccountName: str("openapi")}}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.CheckUserIdentity(&model.CheckUserIdentityRequest{Body: &model.CheckSubcustomerUserReq{SearchType: "mobile", SearchValue: phone}}); err != nil || r.MobileRemainAvailableNum == nil {
		t.Fatalf("check mobile: %v %+v", err, r)
	}
	// Refusals: their bodies must match the error schema.
	if _, err := c.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: "oa-3", XaccountType: "pa_platform", DomainName: str("op_bad")}}); err == nil {
		t.Fatal("a bad name was accepted")
	}
	if _, err := c.CreateSubCustomer(&model.CreateSubCustomerRequest{Body: &model.CreateCustomerV2Req{XaccountId: "oa-4", XaccountType: "pb_platform"}}); err == nil {
		t.Fatal("another partner's xaccount_type was accepted")
	}
	if _, err := sdk(k[0], "wrong-secret").ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}}); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	if n := cap.validate(t, openapi.Partner()); n < 10 {
		t.Fatalf("only %d exchanges captured", n)
	}
}

// TestOpenAPIPartnerModels holds partner.json's schemas to the official
// SDK's models: the same JSON field names, each of the same JSON type.
func TestOpenAPIPartnerModels(t *testing.T) {
	doc := loadDoc(t, openapi.Partner())
	for name, m := range map[string]any{
		"CreateCustomerV2Req": model.CreateCustomerV2Req{}, "CreateSubCustomerResponse": model.CreateSubCustomerResponse{},
		"QuerySubCustomerListReq": model.QuerySubCustomerListReq{}, "ListSubCustomersResponse": model.ListSubCustomersResponse{},
		"CustomerInformation": model.CustomerInformation{}, "AccountManager": model.AccountManager{},
		"CheckSubcustomerUserReq": model.CheckSubcustomerUserReq{}, "SendVerificationCodeV2Req": model.SendVerificationCodeV2Req{},
	} {
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Errorf("no schema %s", name)
			continue
		}
		fields := map[string]string{}
		rt := reflect.TypeOf(m)
		for i := range rt.NumField() {
			tag := strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = jsonType(rt.Field(i).Type)
		}
		for f, typ := range fields {
			p := s.Value.Properties[f]
			if p == nil {
				t.Errorf("%s: the SDK's field %s is not in the schema", name, f)
				continue
			}
			if !p.Value.Type.Includes(typ) {
				t.Errorf("%s.%s: schema type %v, the SDK's is %s", name, f, p.Value.Type.Slice(), typ)
			}
		}
		for f := range s.Value.Properties {
			if _, ok := fields[f]; !ok {
				t.Errorf("%s: schema field %s is not in the SDK's model", name, f)
			}
		}
	}
}

func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return openapi3.TypeString
	case reflect.Bool:
		return openapi3.TypeBoolean
	case reflect.Int, reflect.Int32, reflect.Int64:
		return openapi3.TypeInteger
	case reflect.Float32, reflect.Float64:
		return openapi3.TypeNumber
	case reflect.Slice:
		return openapi3.TypeArray
	}
	return openapi3.TypeObject
}
