package service

import "github.com/crmsoap/crmsoap/store"

// ChangeOf is a change-feed entry as the CRM reports it: the record's state in the domain types
// (exact money with its currency's digits, the product's rating, the order's lines), nil for a
// deletion. The push sinks render it, so a listener and a GetChanges reader see the same values.
func ChangeOf(e store.FeedEntry) Change { return changeFromStore(e) }
