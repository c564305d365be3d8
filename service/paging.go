package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Paging limits of SearchCustomers and GetChanges.
const (
	DefaultPageSize           = 100
	MaxPageSize               = 1000
	DefaultMaxChanges         = 500
	MaxMaxChanges             = 5000
	DefaultTombstoneRetention = 90 * 24 * time.Hour
)

// tokenSource loads the database's token key on first use.
type tokenSource struct {
	mu    sync.Mutex
	codec *tokenCodec
}

func (s *Service) tokenCodec(ctx context.Context) (tokenCodec, error) {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if s.tokens.codec == nil {
		key, err := s.db.Secret(ctx, tokenSecretID)
		if err != nil {
			return tokenCodec{}, s.fail(fromStore(err, "token key"))
		}
		s.tokens.codec = &tokenCodec{key: key}
	}
	return *s.tokens.codec, nil
}

// pageLimit checks an optional page size: nil is def, else 1..max.
func pageLimit(field string, n *int, def, max int) (int, error) {
	switch {
	case n == nil:
		return def, nil
	case *n < 1 || *n > max:
		return 0, invalid(field, "%d is out of range: give 1 to %d, or leave it out for %d", *n, max, def)
	}
	return *n, nil
}

// CustomerFilter selects customers in SearchCustomers: every field given must
// match. NameContains is a case-insensitive substring of the name.
type CustomerFilter struct {
	ExternalID, Email, NameContains, Company, Country string
	UpdatedSince                                      time.Time
}

// SearchRequest is one SearchCustomers call: PageSize nil means the default;
// PageToken continues a previous page of the same filter.
type SearchRequest struct {
	Filter    CustomerFilter
	PageSize  *int
	PageToken string
}

// CustomerPage is one page of a search; NextPageToken is "" on the last page.
type CustomerPage struct {
	Customers     []Customer
	NextPageToken string
}

func (f CustomerFilter) check() (store.CustomerFilter, error) {
	var out store.CustomerFilter
	var err error
	if out.ExternalID, err = text("filter/externalId", f.ExternalID, maxExternalID); err != nil {
		return out, err
	}
	if out.Email, err = text("filter/email", f.Email, maxEmail); err != nil {
		return out, err
	}
	if out.NameContains, err = text("filter/nameContains", f.NameContains, maxName); err != nil {
		return out, err
	}
	if out.Company, err = text("filter/company", f.Company, maxCompany); err != nil {
		return out, err
	}
	if out.Country, err = text("filter/country", f.Country, 2); err != nil {
		return out, err
	}
	out.UpdatedSince = f.UpdatedSince.UTC()
	return out, nil
}

// bind is what a page token of f is bound to: a token continues only the
// search it came from.
func bindFilter(f store.CustomerFilter) [tokenBindLen]byte {
	since := ""
	if !f.UpdatedSince.IsZero() {
		since = strconv.FormatInt(f.UpdatedSince.UnixNano(), 10)
	}
	return binding("customers", f.ExternalID, f.Email, f.NameContains, f.Company, f.Country, since)
}

// SearchCustomers returns a page of the customers matching the filter, in id
// order (keyset paging: a customer that exists for the whole walk appears
// exactly once, whatever others write meanwhile). Errors: VALIDATION_FAILED
// (filter, pageSize, pageToken), INTERNAL.
func (s *Service) SearchCustomers(ctx context.Context, req SearchRequest) (CustomerPage, error) {
	limit, err := pageLimit("pageSize", req.PageSize, DefaultPageSize, MaxPageSize)
	if err != nil {
		return CustomerPage{}, err
	}
	f, err := req.Filter.check()
	if err != nil {
		return CustomerPage{}, err
	}
	codec, err := s.tokenCodec(ctx)
	if err != nil {
		return CustomerPage{}, err
	}
	bind := bindFilter(f)
	var after int64
	if req.PageToken != "" {
		if after, err = codec.open(tokenSearchCustomers, req.PageToken, bind); err != nil {
			return CustomerPage{}, invalid("pageToken", "is not a token this server issued for this filter: "+
				"pass nextPageToken unchanged, with the same filter, or leave it out to start from the first page")
		}
	}
	rows, err := s.db.SearchCustomers(ctx, f, store.CustomerKey{ID: after}, limit+1)
	if err != nil {
		return CustomerPage{}, s.fail(fromStore(err, "customer search"))
	}
	var page CustomerPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextPageToken = codec.seal(tokenSearchCustomers, rows[limit-1].ID, bind)
	}
	page.Customers = make([]Customer, len(rows))
	for i, c := range rows {
		page.Customers[i] = customerFromStore(c)
	}
	return page, nil
}

// Change is one entry of the change feed: the latest change of one record.
// Customer, Product, Order or Review (by Entity) is its current state, nil for
// a deletion.
type Change struct {
	Seq        int64
	Entity     string // "CUSTOMER", "PRODUCT", "ORDER" or "REVIEW"
	Kind       string // "UPSERTED" or "DELETED"
	ID         int64
	ExternalID string
	Version    int64
	At         time.Time
	Actor      string
	Customer   *Customer
	Product    *Product
	Order      *Order
	Review     *Review
}

// ChangePage is one GetChanges answer: continue with NextCursor while HasMore.
type ChangePage struct {
	Changes    []Change
	NextCursor string
	HasMore    bool
}

var feedBinding = binding("feed")

// GetChanges returns the changes after cursor ("" = from the beginning: every
// live record) in commit order, compacted to one per record. Errors:
// VALIDATION_FAILED (cursor, maxChanges), CURSOR_EXPIRED, INTERNAL.
func (s *Service) GetChanges(ctx context.Context, cursor string, maxChanges *int) (ChangePage, error) {
	limit, err := pageLimit("maxChanges", maxChanges, DefaultMaxChanges, MaxMaxChanges)
	if err != nil {
		return ChangePage{}, err
	}
	codec, err := s.tokenCodec(ctx)
	if err != nil {
		return ChangePage{}, err
	}
	var after int64
	if cursor != "" {
		if after, err = codec.open(tokenFeed, cursor, feedBinding); err != nil {
			return ChangePage{}, invalid("cursor", "is not a cursor this server issued: pass nextCursor unchanged, "+
				"or leave it out to read the feed from the beginning")
		}
	}
	entries, more, err := s.db.Feed(ctx, after, limit)
	if errors.Is(err, store.ErrCursorExpired) {
		return ChangePage{}, &Error{Code: CodeCursorExpired, Field: "cursor", Err: err,
			Message: fmt.Sprintf("cursor is older than the oldest kept deletion (deletions are kept %s): "+
				"restart without a cursor to load every record again", days(s.tombstoneRetention()))}
	}
	if err != nil {
		return ChangePage{}, s.fail(fromStore(err, "change feed"))
	}
	page := ChangePage{Changes: make([]Change, len(entries)), HasMore: more}
	for i, e := range entries {
		page.Changes[i] = changeFromStore(e)
		after = e.Seq
	}
	page.NextCursor = codec.seal(tokenFeed, after, feedBinding)
	return page, nil
}

func changeFromStore(e store.FeedEntry) Change {
	ch := Change{Seq: e.Seq, Entity: strings.ToUpper(e.Entity), Kind: e.Kind, ID: e.ID, ExternalID: e.ExternalID,
		Version: e.Version, At: e.At.UTC(), Actor: e.Actor}
	if e.Customer != nil {
		c := customerFromStore(*e.Customer)
		ch.Customer = &c
	}
	if e.Product != nil {
		p := productFromStore(*e.Product)
		ch.Product = &p
	}
	if e.Order != nil {
		o := orderFromStore(*e.Order)
		ch.Order = &o
	}
	if e.Review != nil {
		r := reviewFromStore(*e.Review)
		ch.Review = &r
	}
	return ch
}

func (s *Service) tombstoneRetention() time.Duration {
	if s.TombstoneRetention > 0 {
		return s.TombstoneRetention
	}
	return DefaultTombstoneRetention
}

// PurgeTombstones removes the deletions older than the tombstone retention
// from the change feed and returns how many; serve runs it periodically.
func (s *Service) PurgeTombstones(ctx context.Context) (int, error) {
	n, err := s.db.PurgeTombstones(ctx, s.now().Add(-s.tombstoneRetention()))
	if err != nil {
		return 0, s.fail(fromStore(err, "tombstones"))
	}
	return n, nil
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	return d.String()
}
