package mypartners

import "github.com/livery/livery/association"

// assocCatalog holds the association pages' texts (merged into catalog).
var assocCatalog = map[string][2]string{
	"assoc.title":                                 {"Association with your partner", "与合作伙伴的关联"},
	"assoc.type":                                  {"Association type", "关联类型"},
	"assoc.since":                                 {"Associated since", "关联时间"},
	"assoc.unbound":                               {"Not associated (unbound)", "未关联（已解除）"},
	"assoc.next_change":                           {"Next change possible from", "下次可变更日期"},
	"type." + association.TypeReferral:            {"Referral (type 1)", "顾问销售（类型 1）"},
	"type." + association.TypeResale:              {"Resale (type 2)", "代售（类型 2）"},
	"type." + association.TypeReferral + ".help":  {"The partner advises you; you buy and pay for services yourself.", "合作伙伴为您提供咨询，您自行购买并支付云服务。"},
	"type." + association.TypeResale + ".help":    {"The partner resells services to you and may, with your separate approval, operate your account.", "合作伙伴向您代售云服务，经您另行批准后可代您操作账户。"},
	"change.pending":                              {"Change awaiting your confirmation", "待您确认的变更"},
	"change.what":                                 {"Change", "变更内容"},
	"change.reason":                               {"Partner's reason", "合作伙伴说明的原因"},
	"change.type":                                 {"Association type %s → %s", "关联类型 %s → %s"},
	"change.unbind":                               {"End the association (now %s)", "解除关联（当前为%s）"},
	"change.unbind.effect":                        {"Confirming ends the association at once; any authorization of this partner to operate your console ends with it.", "确认后立即解除关联；该合作伙伴的代客运维授权随之终止。"},
	"change.confirm":                              {"Confirm", "确认变更"},
	"change.refuse":                               {"Refuse", "拒绝变更"},
	"change.decided":                              {"Answered", "处理时间"},
	"change.state." + association.ChangeRequested: {"Awaiting your answer", "待确认"},
	"change.state." + association.ChangeConfirmed: {"Confirmed", "已确认"},
	"change.state." + association.ChangeRefused:   {"Refused", "已拒绝"},
	"notice.title":                                {"Customer association notice", "客户关联合作伙伴须知"},
	"notice.version":                              {"version %s", "版本 %s"},
	"notice.other":                                {"中文版本", "English version"},
	"inv.title":                                   {"Invitation to associate with a partner", "合作伙伴关联邀请"},
	"inv.intro":                                   {"%s invites your cloud account to be associated with it. Read the notice, sign it, then accept or decline.", "%s 邀请您的云账号与其关联。请阅读并签署须知，然后接受或拒绝邀请。"},
	"inv.expires":                                 {"This link is valid until %s.", "此链接有效期至 %s。"},
	"inv.agree":                                   {"I have read the customer association notice and agree to it.", "我已阅读并同意《客户关联合作伙伴须知》。"},
	"inv.agree.required":                          {"Tick the box to confirm you have read the notice, then sign it.", "请勾选确认已阅读须知后再签署。"},
	"inv.sign":                                    {"Sign the notice", "签署须知"},
	"inv.signed":                                  {"You signed the notice on %s.", "您已于 %s 签署须知。"},
	"inv.decide":                                  {"Your answer", "您的决定"},
	"inv.accept":                                  {"Accept the invitation", "接受邀请"},
	"inv.decline":                                 {"Decline…", "拒绝邀请…"},
	"inv.decline.title":                           {"Decline this invitation?", "确定拒绝此邀请？"},
	"inv.decline.text":                            {"The invitation of %s is then used up: to associate later, you need a new invitation.", "拒绝后 %s 的这份邀请即失效；如以后要关联，需要新的邀请。"},
	"inv.decline.confirm":                         {"Decline now", "确认拒绝"},
	"inv.accepted":                                {"Your account is associated with %s.", "您的账号已与 %s 关联。"},
	"inv.signin.title":                            {"Sign in to answer the invitation", "登录以回复邀请"},
	"inv.signin.intro":                            {"%s invites your cloud account. Sign in with that cloud account to read the notice and answer.", "%s 邀请您的云账号。请用该云账号登录，阅读须知并回复。"},
	"inv.signin.cloud":                            {"Sign in with your cloud account", "使用云账号登录"},
	"inv.signin.partner.help":                     {"Already a customer of %s?", "已经是 %s 的客户？"},
	"inv.signin.partner":                          {"Sign in at %s", "在 %s 登录"},
	"inv.open_console":                            {"Open the console", "进入控制台"},
	"inv.problem.title":                           {"This invitation cannot be used", "无法使用此邀请"},
	"agreements.title":                            {"Agreements", "协议"},
	"agreements.link":                             {"Agreements you signed", "已签署的协议"},
	"agreements.intro":                            {"Every notice you signed, which version, for which partner and when, newest first.", "您签署过的每份须知：版本、合作伙伴及签署时间，最新的在前。"},
	"agreements.notice":                           {"Notice", "须知"},
	"agreements.version":                          {"Version", "版本"},
	"agreements.signed_at":                        {"Signed", "签署时间"},
	"agreements.invitation":                       {"Invitation", "邀请编号"},
	"agreements.none":                             {"You have not signed any notice yet.", "您尚未签署任何须知。"},
	"agreements.current":                          {"The current notice (version %s)", "当前须知（版本 %s）"},
	"done.associated":                             {"Your account is now associated with the partner.", "您的账号已与合作伙伴关联。"},
	"done.declined":                               {"You declined the invitation.", "您已拒绝该邀请。"},
	"done.change_confirmed":                       {"The change is confirmed and in effect.", "变更已确认并生效。"},
	"done.change_refused":                         {"You refused the change; nothing changed.", "您已拒绝该变更，关联保持不变。"},
}

func init() {
	for k, v := range assocCatalog {
		if _, dup := catalog[k]; dup {
			panic("mypartners: duplicate text " + k)
		}
		catalog[k] = v
	}
}
