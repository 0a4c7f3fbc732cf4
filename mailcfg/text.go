package mailcfg

import "strings"

// Text is a user-facing sentence in both languages the app speaks. Polish comes
// first because most users are Polish lawyers; English is always complete.
type Text struct {
	PL string `json:"pl"`
	EN string `json:"en"`
}

// In returns the text in the given language ("pl", "en", or a locale such as
// "pl-PL"); anything that is not Polish gets English.
func (t Text) In(lang string) string {
	if IsPolish(lang) && t.PL != "" {
		return t.PL
	}
	if t.EN != "" {
		return t.EN
	}
	return t.PL
}

// IsZero reports whether the text is empty in both languages.
func (t Text) IsZero() bool { return t.PL == "" && t.EN == "" }

// IsPolish reports whether a language tag or locale name denotes Polish
// ("pl", "pl-PL", "pl_PL.UTF-8").
func IsPolish(lang string) bool {
	l := strings.ToLower(strings.TrimSpace(lang))
	return l == "pl" || strings.HasPrefix(l, "pl-") || strings.HasPrefix(l, "pl_") || strings.HasPrefix(l, "pl.")
}
