package records

import (
	"errors"
	"fmt"
	"strings"

	"github.com/livery/livery/internal/fieldcheck"
)

// Errors of the store. Test them with errors.Is; ErrInvalid,
// ErrHostConflict and ErrConflict have detail types (errors.As).
var (
	// ErrInvalid: the input breaks a rule; *ValidationError names every
	// field.
	ErrInvalid = errors.New("records: invalid tenant")
	// ErrHostConflict: a console host belongs to another tenant;
	// *HostConflictError names it.
	ErrHostConflict = errors.New("records: host used by another tenant")
	// ErrConflict: the record changed since the version the caller read;
	// *VersionConflictError carries the current version.
	ErrConflict = errors.New("records: tenant changed since it was read")
	// ErrNotFound: no tenant with that id.
	ErrNotFound = errors.New("records: no such tenant")
	// ErrExists: Create of an id that is taken.
	ErrExists = errors.New("records: tenant id already exists")
)

// FieldError is one broken rule: Field is the input's field path
// ("hosts[1]", "sign_in.issuer"); Msg completes "<field> …" in English,
// MsgZH in Chinese.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
	MsgZH string `json:"message_zh"`
}

// ValidationError lists every broken rule of an input. It matches
// ErrInvalid.
type ValidationError struct {
	Tenant string
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Msg
	}
	return fmt.Sprintf("tenant %q: %s", e.Tenant, strings.Join(parts, "; "))
}

// Is makes a *ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// HostConflictError says which tenant already serves Host. It matches
// ErrHostConflict.
type HostConflictError struct {
	Host   string
	Tenant string // the tenant being written
	Other  string // the tenant that has the host
}

func (e *HostConflictError) Error() string {
	return fmt.Sprintf("tenant %q: host %q is already used by tenant %q (主机名已被租户 %q 使用)", e.Tenant, e.Host, e.Other, e.Other)
}

// Is makes a *HostConflictError match ErrHostConflict.
func (e *HostConflictError) Is(target error) bool { return target == ErrHostConflict }

// VersionConflictError: Update expected Want but the record is at Current.
// It matches ErrConflict.
type VersionConflictError struct {
	Tenant        string
	Want, Current int64
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("tenant %q changed: version %d expected, now %d (租户已被修改)", e.Tenant, e.Want, e.Current)
}

// Is makes a *VersionConflictError match ErrConflict.
func (e *VersionConflictError) Is(target error) bool { return target == ErrConflict }

type fieldErrs []FieldError

func (f *fieldErrs) add(field, zh string, err error) {
	*f = append(*f, FieldError{Field: field, Msg: err.Error(), MsgZH: zh})
}

// Validate checks in and returns it normalized (hosts lower case, without
// trailing dot; defaults filled: provisioner kind builtin). Errors: a
// *ValidationError naming every broken rule. Host conflicts with other
// tenants are the store's check (ErrHostConflict).
func Validate(in Input) (Input, error) {
	var f fieldErrs
	if err := fieldcheck.TenantID(in.ID); err != nil {
		f.add("id", "租户标识格式不正确", err)
	}
	if err := fieldcheck.Name(in.Name.ZH); err != nil {
		f.add("name.zh", "中文名称不正确", err)
	}
	if err := fieldcheck.Name(in.Name.EN); err != nil {
		f.add("name.en", "英文名称不正确", err)
	}
	if len(in.Hosts) == 0 {
		f.add("hosts", "至少需要一个控制台主机名", errors.New("at least one console host is required"))
	}
	if len(in.Hosts) > 32 {
		f.add("hosts", "控制台主机名过多", errors.New("must list at most 32 hosts"))
	}
	seen := map[string]int{}
	hosts := make([]string, 0, len(in.Hosts))
	for i, h := range in.Hosts {
		at := fmt.Sprintf("hosts[%d]", i)
		n, err := fieldcheck.NormalizeHost(h)
		if err != nil {
			f.add(at, "主机名不正确", err)
			continue
		}
		if j, dup := seen[n]; dup {
			f.add(at, "主机名重复", fmt.Errorf("duplicates hosts[%d] %q", j, n))
			continue
		}
		seen[n] = i
		hosts = append(hosts, n)
	}
	in.Hosts = hosts
	if in.Upstream == "" {
		f.add("upstream", "上游控制台地址为必填项", errors.New("is required: the absolute http(s) URL of the upstream console"))
	} else if err := fieldcheck.Upstream(in.Upstream); err != nil {
		f.add("upstream", "上游控制台地址必须是完整的 http(s) 地址", err)
	}
	if in.XAccountType != "" {
		if err := fieldcheck.Plain(in.XAccountType, 64); err != nil {
			f.add("xaccount_type", "平台标识不正确", err)
		}
	}
	switch in.Provisioner.Kind {
	case "", ProvisionerBuiltin:
		in.Provisioner.Kind = ProvisionerBuiltin
	case ProvisionerHTTP:
		if err := fieldcheck.HTTPURL(in.Provisioner.URL); err != nil {
			f.add("provisioner.url", "开户接口地址必须是完整的 http(s) 地址", err)
		}
	default:
		f.add("provisioner.kind", "未知的开户方式", fmt.Errorf("must be builtin or http, got %q", in.Provisioner.Kind))
	}
	for _, r := range []struct{ name, v string }{{"per_device", in.Risk.PerDevice},
		{"per_address", in.Risk.PerAddress}, {"per_partner", in.Risk.PerPartner}} {
		if _, _, _, _, err := fieldcheck.ParseRate(r.v); err != nil {
			f.add("risk."+r.name, "注册限制格式不正确(如 3/1h 或 off)", err)
		}
	}
	if in.Risk.PerDevice == "off" && in.Risk.RequireDevice {
		f.add("risk.require_device", "关闭单设备限制时不能要求设备标识", errors.New("requires the per-device limit: per_device is off"))
	}
	switch in.Association.Type {
	case "", "1", "2":
	default:
		f.add("association.type", "关联类型必须是 1(顾问销售)或 2(代售)", fmt.Errorf("must be 1 (referral) or 2 (resale), got %q", in.Association.Type))
	}
	if s := in.SignIn; s != nil {
		if err := fieldcheck.HTTPURL(s.Issuer); err != nil {
			f.add("sign_in.issuer", "登录服务地址必须是完整的 http(s) 地址", err)
		}
		if s.ClientID == "" {
			f.add("sign_in.client_id", "客户端标识为必填项", errors.New("is required"))
		} else if err := fieldcheck.Plain(s.ClientID, 256); err != nil {
			f.add("sign_in.client_id", "客户端标识不正确", err)
		}
		if s.ClientSecret != nil && len(*s.ClientSecret) > 1024 {
			f.add("sign_in.client_secret", "客户端密钥过长", errors.New("must be at most 1024 bytes"))
		}
		for i, sc := range s.Scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\r\n") || fieldcheck.Plain(sc, 64) != nil {
				f.add(fmt.Sprintf("sign_in.scopes[%d]", i), "授权范围不正确", fmt.Errorf("must be one scope token, got %q", sc))
			}
		}
		if err := fieldcheck.Plain(s.AccountClaim, 64); err != nil {
			f.add("sign_in.account_claim", "账号声明名称不正确", err)
		}
	}
	switch in.Managed {
	case "", ManagedFile, ManagedStore:
	default:
		f.add("managed", "管理方式必须是 file 或 store", fmt.Errorf("must be file or store, got %q", in.Managed))
	}
	if len(f) > 0 {
		return in, &ValidationError{Tenant: in.ID, Fields: f}
	}
	return in, nil
}
