package staffui

// StaffuiText exposes the catalog to the external tests.
func StaffuiText(key string) (en, zh string, ok bool) {
	m, ok := catalog[key]
	return m.en, m.zh, ok
}
