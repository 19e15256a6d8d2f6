package staffui

import (
	"regexp"

	"github.com/livery/livery/branding/render"
)

// problemsZH translates branding.Validate's problem messages (English,
// stable texts) for the Chinese editor; an unknown message is shown as it
// is. The list follows branding/validate.go; TestProblemTranslations
// checks it against the validator's real output.
var problemsZH = []struct {
	re *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`^required$`), "必填"},
	{regexp.MustCompile(`^at most (\d+) characters \(got (\d+)\)$`), "最多 $1 个字符（当前 $2 个）"},
	{regexp.MustCompile(`^at most (\d+) characters$`), "最多 $1 个字符"},
	{regexp.MustCompile(`^at most (\d+) items \(got (\d+)\)$`), "最多 $1 项（当前 $2 项）"},
	{regexp.MustCompile(`^invalid dimensions (-?\d+)x(-?\d+)$`), "图片尺寸无效（$1×$2）"},
	{regexp.MustCompile(`^must be 64 lower-case hex digits$`), "必须是 64 位小写十六进制字符"},
	{regexp.MustCompile(`^must be a colour like #1A2B3C$`), "必须是 #1A2B3C 形式的颜色"},
	{regexp.MustCompile(`^must be after start$`), "必须晚于开始时间"},
	{regexp.MustCompile(`^must be one of (.+)$`), "必须是以下之一：$1"},
	{regexp.MustCompile(`^must be valid UTF-8$`), "必须是有效的 UTF-8 文本"},
	{regexp.MustCompile(`^must not contain '<' or '>'$`), "不能包含“<”或“>”"},
	{regexp.MustCompile(`^must not contain control or formatting characters$`), "不能包含控制字符或格式字符"},
	{regexp.MustCompile(`^must not contain spaces, control characters or backslashes$`), "不能包含空格、控制字符或反斜杠"},
	{regexp.MustCompile(`^scheme "([^"]+)" is not allowed$`), "不允许使用“$1”协议"},
	{regexp.MustCompile(`^not a valid URL$`), "不是有效的网址"},
	{regexp.MustCompile(`^must not contain credentials$`), "网址中不能包含用户名或密码"},
	{regexp.MustCompile(`^must be an absolute URL with a host$`), "必须是包含主机名的完整网址"},
	{regexp.MustCompile(`^must be https$`), "必须使用 https"},
	{regexp.MustCompile(`^enter a date and time$`), "请输入日期和时间"},
	{regexp.MustCompile(`^unreadable image reference$`), "图片引用无法识别，请重新上传"},
	{regexp.MustCompile(`^the file could not be read$`), "无法读取该文件"},
}

// problemText is a validation message in language l.
func problemText(l, msg string) string {
	if l != render.LocaleZH {
		return msg
	}
	for _, p := range problemsZH {
		if p.re.MatchString(msg) {
			return p.re.ReplaceAllString(msg, p.zh)
		}
	}
	return msg
}
