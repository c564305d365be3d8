package store

import (
	"strings"
	"unicode"
)

// Fold maps s to a case-insensitive form: every rune to the lower case of its upper case, which is
// Unicode simple case folding for practical purposes (Σ, σ and final ς all become σ; K and the Kelvin
// sign become k), the same equivalence strings.EqualFold uses. Full folding (ß to ss) is not done.
// Every backend stores Fold(name) beside a customer's name and searches it with Fold(needle), so a
// name search matches the same customers whichever database holds them.
func Fold(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}
