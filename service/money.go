package service

import (
	"strconv"
	"strings"
)

// Money is an exact amount in a currency: Amount is a decimal numeral (such as
// "12.30"), never a float; Currency an ISO 4217 code.
type Money struct {
	Amount   string
	Currency string
}

// currencyDigits maps the ISO 4217 codes the CRM accepts to their number of
// minor-unit (fraction) digits.
var currencyDigits = map[string]int{
	"AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
	"COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
	"INR": 2, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "MAD": 2, "MXN": 2,
	"MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2,
	"RON": 2, "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2,
	"USD": 2, "VND": 0, "XAF": 0, "XOF": 0, "ZAR": 2,
}

// maxAmountDigits bounds the integer digits of an amount, so that its minor
// units always fit an int64.
const maxAmountDigits = 15

// minorUnits validates m (field names it, e.g. "product/price") and returns its
// amount in the currency's minor unit: "12.3" EUR is 1230. Errors name the
// sub-field: field/currency for an unknown code, field/amount for an amount that
// is not a plain decimal, negative, too large or finer than the currency.
func minorUnits(field string, m *Money) (int64, string, error) {
	if m == nil {
		return 0, "", invalid(field, "is required")
	}
	cur := strings.TrimSpace(m.Currency)
	digits, ok := currencyDigits[cur]
	if !ok {
		return 0, "", invalid(field+"/currency", "%q is not an ISO 4217 currency code this server knows (such as EUR, USD, JPY)", clip(cur))
	}
	f := field + "/amount"
	s := strings.TrimSpace(m.Amount)
	if s == "" {
		return 0, "", invalid(f, "is required")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, "", invalid(f, "%q is not a decimal number (digits with an optional '.' and fraction)", clip(m.Amount))
	}
	frac = strings.TrimRight(frac, "0")
	whole = strings.TrimLeft(whole, "0")
	if neg && (whole != "" || frac != "") {
		return 0, "", invalid(f, "must not be negative")
	}
	if len(frac) > digits {
		return 0, "", invalid(f, "%s has %d fraction digits; %s has %d", clip(m.Amount), len(frac), cur, digits)
	}
	if len(whole) > maxAmountDigits {
		return 0, "", invalid(f, "has more than %d integer digits", maxAmountDigits)
	}
	n, err := strconv.ParseInt("0"+whole+frac+strings.Repeat("0", digits-len(frac)), 10, 64)
	if err != nil {
		return 0, "", invalid(f, "is out of range")
	}
	return n, cur, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// moneyOf renders minor units of cur as Money with exactly the currency's
// fraction digits: 1230 EUR is "12.30", 500 JPY "500", 1500 KWD "1.500".
func moneyOf(minor int64, cur string) Money {
	return Money{Amount: formatMinor(minor, currencyDigits[cur]), Currency: cur}
}

// AmountOf renders minor units of the currency cur as an exact decimal numeral with the currency's
// fraction digits ("12.30" for 1230 EUR, "500" for 500 JPY, "1.500" for 1500 KWD); ok is false for a
// currency code the CRM does not know.
func AmountOf(minor int64, cur string) (amount string, ok bool) {
	digits, ok := currencyDigits[cur]
	if !ok {
		return "", false
	}
	return formatMinor(minor, digits), true
}

func formatMinor(minor int64, digits int) string {
	s := strconv.FormatInt(minor, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
