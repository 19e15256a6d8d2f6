package staffui

import "github.com/livery/livery/association"

// The texts of the customer association pages (invitations.go), merged
// into the catalog.
var associationTexts = map[string]msg{
	"nav.invitations":                       {"Invitations", "客户邀请"},
	"inv.title":                             {"Customer invitations", "客户邀请"},
	"inv.intro":                             {"Invite a customer who already has a cloud account: they sign in on your console, sign the customer association notice and accept. Every invitation is used once.", "邀请已有云账号的客户：客户在您的控制台登录，签署《客户关联合作伙伴须知》后接受邀请。每份邀请只能使用一次。"},
	"inv.new":                               {"New invitation", "新建邀请"},
	"inv.kind":                              {"Kind", "方式"},
	"inv.kind.online":                       {"Online link", "在线链接"},
	"inv.kind.online_hint":                  {"sent to the customer; valid 7 days, can be resent", "发送给客户；7 天内有效，可重新发送"},
	"inv.kind.offline":                      {"Offline (printable, QR code)", "线下（可打印，二维码）"},
	"inv.kind.offline_hint":                 {"never expires; can be revoked", "长期有效；可撤销"},
	"inv.for_customer":                      {"Only for this cloud account (optional)", "仅限此云账号（可选）"},
	"inv.for_customer_hint":                 {"The account id; blank: whoever opens the link first.", "填写账号编号；留空则由首先打开链接的账号使用。"},
	"inv.none":                              {"No invitation yet.", "尚无邀请。"},
	"inv.created":                           {"Created", "创建时间"},
	"inv.expires":                           {"Valid until", "有效期至"},
	"inv.for":                               {"For", "邀请对象"},
	"inv.anyone":                            {"any account", "任意账号"},
	"inv.by":                                {"used by", "使用账号"},
	"inv.failure":                           {"Last failed attempt", "最近一次失败原因"},
	"inv.link":                              {"Link", "链接"},
	"inv.qr_alt":                            {"QR code of the invitation link", "邀请链接二维码"},
	"inv.link.title":                        {"Invitation link", "邀请链接"},
	"inv.link.created":                      {"The invitation is ready", "邀请已创建"},
	"inv.link.resent":                       {"A new link was made; the old one no longer works", "已生成新链接，旧链接已失效"},
	"inv.link.once":                         {"Copy or print the link now: it is shown only once and cannot be shown again.", "请立即复制或打印链接：它只显示这一次，之后无法再次查看。"},
	"inv.link.print":                        {"Print this page or show the QR code to the customer.", "请打印本页或向客户出示二维码。"},
	"inv.link.send":                         {"Send the link to the customer.", "请将链接发送给客户。"},
	"inv.state." + association.StatePending: {"Pending", "待接受"},
	"inv.state." + association.StateAccepting: {"Being accepted", "接受处理中"},
	"inv.state." + association.StateAccepted:  {"Accepted", "已接受"},
	"inv.state." + association.StateDeclined:  {"Declined", "已拒绝"},
	"inv.state." + association.StateRevoked:   {"Revoked", "已撤销"},
	"inv.state." + association.StateExpired:   {"Expired", "已过期"},
	"action.create_invitation":                {"Create the invitation", "创建邀请"},
	"action.resend":                           {"Resend", "重新发送"},
	"action.revoke_invitation":                {"Revoke", "撤销"},
	"action.request_change":                   {"Ask the customer to confirm", "提交并等待客户确认"},
	"confirm.revoke_invitation":               {"Revoke invitation %s? Its link stops working at once.", "确定撤销邀请 %s？其链接将立即失效。"},
	"done.invitation_revoked":                 {"The invitation was revoked.", "邀请已撤销。"},
	"done.change_requested":                   {"The change was requested: it takes effect when the customer confirms it.", "变更申请已提交，客户确认后生效。"},

	"achg.title":          {"Association", "关联关系"},
	"achg.none":           {"This customer was not associated through an invitation.", "该客户不是通过邀请关联的。"},
	"achg.bound":          {"Associated", "已关联"},
	"achg.unbound":        {"Unbound", "已解除关联"},
	"achg.since":          {"Associated since", "关联时间"},
	"achg.next":           {"Next change allowed", "下次可变更日期"},
	"achg.next_now":       {"now", "现在即可"},
	"achg.too_soon":       {"At most one change every three months: the next change can be requested from %s.", "每三个月最多变更一次：%s 起可再次申请变更。"},
	"achg.pending_type":   {"Awaiting the customer's confirmation: association type change to %s.", "等待客户确认：关联类型变更为 %s。"},
	"achg.pending_unbind": {"Awaiting the customer's confirmation: unbinding.", "等待客户确认：解除关联。"},
	"achg.request":        {"Request a change", "申请变更"},
	"achg.to_type":        {"Change the association type to", "将关联类型变更为"},
	"achg.unbind":         {"Unbind the customer", "解除关联"},
	"achg.reason":         {"Reason shown to the customer (optional)", "向客户说明的原因（可选）"},
	"achg.hint":           {"Nothing changes until the customer confirms in their console.", "客户在其控制台确认之前不会有任何变化。"},
	"achg.changes":        {"Change requests", "变更申请记录"},
	"achg.change":         {"Change", "变更内容"},
	"achg.state." + association.ChangeRequested: {"Awaiting confirmation", "待确认"},
	"achg.state." + association.ChangeConfirmed: {"Confirmed", "已确认"},
	"achg.state." + association.ChangeRefused:   {"Refused", "已拒绝"},
	"achg.history":      {"Manager history", "客户经理历史"},
	"achg.history_none": {"No manager has been assigned yet.", "尚未分配客户经理。"},
	"achg.from":         {"From", "开始"},
	"achg.to":           {"Until", "结束"},
	"achg.current":      {"current", "至今"},

	"err.assoc_invalid":            {"The invitation or change request is not valid.", "邀请或变更申请无效。"},
	"err.assoc_not_allowed":        {"Only a partner admin of this partner may do this.", "仅该合作伙伴的管理员可以执行此操作。"},
	"err.assoc_link_not_found":     {"No such invitation.", "邀请不存在。"},
	"err.assoc_state":              {"The invitation or change does not allow this in its current state.", "当前状态不允许此操作。"},
	"err.assoc_not_associated":     {"This customer is not associated with this partner.", "该客户未关联此合作伙伴。"},
	"err.assoc_change_pending":     {"A change is already awaiting the customer's confirmation.", "已有待客户确认的变更。"},
	"err.assoc_same_type":          {"The customer already has this association type.", "关联类型未变化。"},
	"err.assoc_too_soon":           {"At most one change per customer every three months.", "每个客户每三个月最多变更一次。"},
	"err.assoc_busy":               {"The system is busy; try again.", "系统繁忙，请稍后重试。"},
	"err.assoc_code_used":          {"The invitation has already been used.", "邀请已被使用。"},
	"err.assoc_already_associated": {"The account is already associated with a partner.", "该账号已关联其他合作伙伴。"},
	"err.assoc_is_partner":         {"The account is itself a partner.", "该账号本身是合作伙伴账号。"},
	"err.assoc_frozen":             {"The account is frozen.", "该账号已被冻结。"},
	"err.assoc_wrong_account":      {"The invitation was sent to another account.", "该邀请不是发给此账号的。"},
	"err.assoc_notice_not_signed":  {"The customer has not signed the current notice.", "客户尚未签署当前版本的须知。"},
}

func init() {
	for k, v := range associationTexts {
		if _, dup := catalog[k]; dup {
			panic("staffui: duplicate text " + k)
		}
		catalog[k] = v
	}
}
