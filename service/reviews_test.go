package service

import "testing"

func TestRatingOfRoundsHalfEven(t *testing.T) {
	for _, tc := range []struct {
		sum, count int64
		want       string
	}{
		{0, 0, "0.00"}, {5, 1, "5.00"}, {7, 2, "3.50"}, {10, 3, "3.33"}, {11, 3, "3.67"},
		// 1/8 = 0.125 -> 0.12 (even), 3/8 = 0.375 -> 0.38 (even): ties go to the even digit.
		{1, 8, "0.12"}, {3, 8, "0.38"}, {5, 8, "0.62"},
		{4, 3, "1.33"}, {14, 3, "4.67"},
	} {
		if got := ratingOf(tc.sum, tc.count); got.Average != tc.want || got.Count != tc.count {
			t.Errorf("ratingOf(%d, %d) = %+v, want %s", tc.sum, tc.count, got, tc.want)
		}
	}
}
