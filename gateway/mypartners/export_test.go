package mypartners

// ReasonText exposes reasonText to the external tests.
func ReasonText(lang, reason string) string { return reasonText(lang, reason) }
