package service

import "testing"

func TestMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		amount, currency string
		want             int64
		field            string // "" = valid
	}{
		{"12.34", "EUR", 1234, ""},
		{"12.3", "EUR", 1230, ""},
		{"12.30", "EUR", 1230, ""},
		{"0", "EUR", 0, ""},
		{"-0.00", "EUR", 0, ""},
		{"+7", "USD", 700, ""},
		{".5", "EUR", 50, ""},
		{"500", "JPY", 500, ""},
		{"500.0", "JPY", 500, ""},
		{"1.5", "JPY", 0, "price/amount"},
		{"1.234", "KWD", 1234, ""},
		{"1.2345", "KWD", 0, "price/amount"},
		{"1.234", "EUR", 0, "price/amount"},
		{"-1", "EUR", 0, "price/amount"},
		{"1e3", "EUR", 0, "price/amount"},
		{"0x10", "EUR", 0, "price/amount"},
		{"", "EUR", 0, "price/amount"},
		{".", "EUR", 0, "price/amount"},
		{"1,5", "EUR", 0, "price/amount"},
		{"NaN", "EUR", 0, "price/amount"},
		{"999999999999999.99", "EUR", 99999999999999999, ""},
		{"1000000000000000", "EUR", 0, "price/amount"},
		{"1", "XXX", 0, "price/currency"},
		{"1", "eur", 0, "price/currency"},
		{"1", "", 0, "price/currency"},
	} {
		got, _, err := minorUnits("price", &Money{Amount: tc.amount, Currency: tc.currency})
		if tc.field == "" {
			if err != nil || got != tc.want {
				t.Errorf("%s %s = %d, %v; want %d", tc.amount, tc.currency, got, err, tc.want)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Code != CodeValidationFailed || e.Field != tc.field {
			t.Errorf("%s %s: %v, want VALIDATION_FAILED on %s", tc.amount, tc.currency, err, tc.field)
		}
	}
}

func TestMoneyOfRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
	}{{1234, "EUR", "12.34"}, {5, "EUR", "0.05"}, {0, "EUR", "0.00"}, {500, "JPY", "500"}, {1500, "KWD", "1.500"}} {
		m := moneyOf(tc.minor, tc.cur)
		if m.Amount != tc.want {
			t.Errorf("moneyOf(%d, %s) = %s, want %s", tc.minor, tc.cur, m.Amount, tc.want)
		}
		if back, _, err := minorUnits("p", &m); err != nil || back != tc.minor {
			t.Errorf("round trip of %s %s = %d, %v", m.Amount, m.Currency, back, err)
		}
	}
}

func TestAmountOf(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
		ok    bool
	}{{1234, "EUR", "12.34", true}, {0, "JPY", "0", true}, {500, "JPY", "500", true}, {1500, "KWD", "1.500", true},
		{7, "KWD", "0.007", true}, {1234, "XXX", "", false}, {1234, "", "", false}} {
		if got, ok := AmountOf(tc.minor, tc.cur); got != tc.want || ok != tc.ok {
			t.Errorf("AmountOf(%d, %q) = %q, %v; want %q, %v", tc.minor, tc.cur, got, ok, tc.want, tc.ok)
		}
	}
}
