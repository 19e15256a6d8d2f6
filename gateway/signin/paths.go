package signin

import "github.com/livery/livery/gateway/web"

// The sign-in door's paths: customers' on the console listener, staff's on
// the API listener. The route table registers them; the handlers build
// redirect URLs from them.
const (
	LoginPath             = web.LiveryPrefix + "login"
	CallbackPath          = web.LiveryPrefix + "callback"
	LogoutPath            = web.LiveryPrefix + "logout"
	LoggedOutPath         = web.LiveryPrefix + "logged-out"
	BackchannelLogoutPath = web.LiveryPrefix + "backchannel-logout"
	// Cloud-account sign-in (identity.cloud_sign_in), for invited customers.
	CloudLoginPath             = web.LiveryPrefix + "cloud/login"
	CloudCallbackPath          = web.LiveryPrefix + "cloud/callback"
	CloudBackchannelLogoutPath = web.LiveryPrefix + "cloud/backchannel-logout"

	StaffLoginPath    = "/admin/login"
	StaffCallbackPath = "/admin/callback"
	StaffLogoutPath   = "/admin/logout"
	StaffWhoamiPath   = "/admin/whoami"
)
