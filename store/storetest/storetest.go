// Package storetest is the behaviour suite every store backend passes: what package store promises
// (records round-trip, versions, duplicates, clients, the feed, ...), checked through the interfaces
// only. A backend's own test calls Run with a function that opens a fresh, empty store.
package storetest

import (
	"testing"

	"github.com/crmsoap/crmsoap/store"
)

// Opener opens a fresh, empty store for one test and arranges, with t.Cleanup, for it to be closed.
type Opener func(t *testing.T) store.Store

// Run runs every behaviour test against the stores open returns, each as a subtest with its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Customer/RoundTrip", testCustomerRoundTrip},
		{"Customer/Empty", testCustomerEmpty},
		{"Customer/GetNotFound", testGetCustomerNotFound},
		{"Customer/CreateDuplicate", testCreateCustomerDuplicate},
		{"Customer/Update", testUpdateCustomer},
		{"Customer/UpdateSameVersionRace", testUpdateCustomerSameVersionRace},
		{"Customer/Delete", testDeleteCustomer},
		{"Customer/ConcurrentCreatesAndUpdates", testCustomerConcurrentCreatesAndUpdates},
		{"Customer/Upsert", testUpsert},
		{"Customer/WriteCustomers", testWriteCustomers},
		{"Customer/BulkBesideSingleWrites", testBulkBesideSingleWrites},
		{"Search/Filters", testSearchFilters},
		{"Search/PagingWhileWriting", testSearchPagingWhileWriting},
		{"Feed/Compacted", testFeedCompacted},
		{"Feed/Purge", testFeedPurge},
		{"Feed/FollowWhileWriting", testFeedFollowWhileWriting},
		{"Idempotency", testIdempotency},
		{"Secret", testSecret},
		{"Clients", testClients},
		{"Clients/RemoveRevokes", testRemoveClientRevokes},
		{"Revocations", testRevoke},
		{"Replay/Remember", testRememberReplay},
		{"Replay/ConcurrentCopies", testRememberReplayConcurrentCopies},
		{"Replay/Purge", testPurgeReplays},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// RunCommerce runs the behaviour tests of products, orders and reviews against the stores open returns.
// Every backend runs it.
func RunCommerce(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Product/RoundTrip", testProductRoundTrip},
		{"Product/WriteProductsAllOrNone", testWriteProductsAllOrNone},
		{"Product/AdjustStock", testAdjustStock},
		{"Product/AdjustStockConcurrent", testAdjustStockConcurrent},
		{"Product/Search", testSearchProducts},
		{"Order/Place", testPlaceOrder},
		{"Order/RaceForLastUnits", testOrderRaceForLastUnits},
		{"Review/RatingKeptExact", testReviews},
		{"Review/RatingInFeed", testRatingInFeed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}
