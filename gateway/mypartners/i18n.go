package mypartners

import (
	"fmt"
	"strconv"
	"time"

	"github.com/livery/livery/delegation"
)

// catalog holds every text of the door: key → {en, zh}.
var catalog = map[string][2]string{
	"title":        {"My partners", "我的合作伙伴"},
	"events":       {"Authorization history", "授权记录"},
	"events.time":  {"Time", "时间"},
	"events.event": {"Event", "事件"},
	"events.by":    {"By", "操作人"},
	"events.grant": {"Authorization", "授权编号"},
	"event." + delegation.EventAgreementAccepted: {"agreement accepted by the partner", "合作伙伴接受了协议"},
	"event." + delegation.EventRequested:         {"requested", "提出申请"},
	"event." + delegation.EventApproved:          {"approved", "已批准"},
	"event." + delegation.EventRejected:          {"rejected", "已拒绝"},
	"event." + delegation.EventWithdrawn:         {"withdrawn by the partner", "合作伙伴撤回"},
	"event." + delegation.EventRequestExpired:    {"request expired unanswered", "申请超时未处理"},
	"event." + delegation.EventRevoked:           {"revoked", "已终止"},
	"event." + delegation.EventExpired:           {"ended (time up)", "已到期"},
	"event." + delegation.EventSwitchedIn:        {"partner staff switched into your console", "合作伙伴员工切换进入您的控制台"},
	"event." + delegation.EventSwitchedOut:       {"partner staff switched back", "合作伙伴员工已切换回去"},
	"intro":                                      {"Your partner can operate this console on your behalf only with an authorization you approve: named permissions, for a limited time. You can end it at any time, and every action is logged.", "合作伙伴只有在您批准授权后才能代您操作此控制台：限定权限、限定时长。您可以随时终止授权，每一次操作都有记录。"},
	"partner":                                    {"Partner", "合作伙伴"},
	"pending":                                    {"Pending requests", "待处理的授权申请"},
	"pending.none":                               {"No request is waiting for your answer.", "没有等待您处理的申请。"},
	"active":                                     {"Active authorizations", "生效中的授权"},
	"active.none":                                {"No authorization is active.", "没有生效中的授权。"},
	"past":                                       {"Past authorizations", "历史授权"},
	"past.none":                                  {"None yet.", "暂无。"},
	"requested_by":                               {"Requested by", "申请人"},
	"requested_at":                               {"Requested", "申请时间"},
	"request_expires":                            {"Answer before", "请在此时间前处理"},
	"scopes":                                     {"Permissions", "授权范围"},
	"duration":                                   {"Duration", "授权时长"},
	"reason":                                     {"Reason", "申请原因"},
	"replaces":                                   {"Approving it ends the active authorization %s.", "批准后将终止生效中的授权 %s。"},
	"approve":                                    {"Approve", "批准"},
	"reject":                                     {"Reject", "拒绝"},
	"reject.note":                                {"Note to the partner (optional)", "给合作伙伴的说明（可选）"},
	"since":                                      {"Active since", "生效时间"},
	"ends":                                       {"Ends", "结束时间"},
	"left":                                       {"Time left", "剩余时间"},
	"revoke":                                     {"Revoke…", "撤销授权…"},
	"revoke.title":                               {"Revoke this authorization?", "确定撤销此授权？"},
	"revoke.text":                                {"Your partner loses access at once: a staff member operating your console now is signed out of it on their next action.", "合作伙伴将立即失去访问权限：正在代您操作控制台的人员在下一次操作时即被退出。"},
	"revoke.reason":                              {"Reason (optional)", "原因（可选）"},
	"revoke.confirm":                             {"Revoke now", "立即撤销"},
	"cancel":                                     {"Cancel", "取消"},
	"state":                                      {"State", "状态"},
	"ended":                                      {"Ended", "结束时间"},
	"note":                                       {"Note", "备注"},
	"grant":                                      {"Authorization", "授权"},
	"activity":                                   {"Activity log", "操作记录"},
	"activity.intro":                             {"Every request your partner made in your console under an authorization, newest first.", "合作伙伴在授权下对您控制台发出的每一个请求，最新的在前。"},
	"activity.link":                              {"See the activity log", "查看操作记录"},
	"activity.none":                              {"No delegated action matches.", "没有符合条件的代客操作。"},
	"back":                                       {"Back to My partners", "返回我的合作伙伴"},
	"filter.actor":                               {"Staff member", "操作人"},
	"filter.result":                              {"Result", "结果"},
	"filter.any":                                 {"Any", "全部"},
	"filter.since":                               {"From (UTC date)", "起始日期（UTC）"},
	"filter.until":                               {"To (UTC date, inclusive)", "截止日期（UTC，含当天）"},
	"filter.apply":                               {"Filter", "筛选"},
	"export":                                     {"Export CSV", "导出 CSV"},
	"next":                                       {"Older entries", "更早的记录"},
	"col.time":                                   {"Time (UTC)", "时间（UTC）"},
	"col.actor":                                  {"Who", "操作人"},
	"col.method":                                 {"Method", "方法"},
	"col.path":                                   {"Path", "路径"},
	"col.result":                                 {"Result", "结果"},
	"col.reason":                                 {"Why", "原因"},
	"allowed":                                    {"Allowed", "已允许"},
	"denied":                                     {"Denied", "已拒绝"},
	"done.approved":                              {"The authorization is active.", "授权已生效。"},
	"done.rejected":                              {"The request was rejected.", "已拒绝该申请。"},
	"done.revoked":                               {"The authorization was revoked.", "授权已撤销。"},
	"state.requested":                            {"Pending", "待处理"},
	"state.approved":                             {"Active", "生效中"},
	"state.rejected":                             {"Rejected", "已拒绝"},
	"state.withdrawn":                            {"Withdrawn by the partner", "合作伙伴已撤回"},
	"state.request_expired":                      {"Request expired", "申请已过期"},
	"state.revoked":                              {"Revoked", "已撤销"},
	"state.expired":                              {"Expired", "已到期"},
}

// tr translates key into lang ("zh" or "en"); printf args fill it.
func tr(lang, key string, args ...any) string {
	e, ok := catalog[key]
	if !ok {
		return key
	}
	s := e[0]
	if lang == "zh" {
		s = e[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// scopeLabel is a scope's description in lang.
func scopeLabel(lang string, s delegation.Scope) string {
	for _, i := range delegation.Scopes() {
		if i.Scope == s {
			if lang == "zh" {
				return i.ZH
			}
			return i.EN
		}
	}
	return string(s)
}

// humanDuration writes d in whole years, days, hours or minutes (the
// largest unit that fits it at least once).
func humanDuration(lang string, d time.Duration) string {
	type unit struct {
		d      time.Duration
		en, zh string
	}
	for _, u := range []unit{{365 * 24 * time.Hour, "year", "年"}, {24 * time.Hour, "day", "天"}, {time.Hour, "hour", "小时"}, {time.Minute, "minute", "分钟"}} {
		if d >= u.d {
			n := int(d / u.d)
			if lang == "zh" {
				return strconv.Itoa(n) + " " + u.zh
			}
			if n == 1 {
				return "1 " + u.en
			}
			return strconv.Itoa(n) + " " + u.en + "s"
		}
	}
	if lang == "zh" {
		return "不到 1 分钟"
	}
	return "less than a minute"
}

// timeFormat shows times in UTC, to the minute.
const timeFormat = "2006-01-02 15:04 UTC"

func showTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeFormat)
}
