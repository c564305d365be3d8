package reportsink_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/cmd/internal/reportsink"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)

// target is a fresh target database: its URL and a connection for reading it back.
func target(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	url := pgtest.Database(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return url, conn
}

func newSink(t *testing.T, url, schema, sub string) *reportsink.Sink {
	t.Helper()
	s, err := reportsink.New(url, schema, sub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func deliver(t *testing.T, s *reportsink.Sink, entries ...store.FeedEntry) {
	t.Helper()
	if err := s.Deliver(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
}

// dump is every row of table as text, ordered by its first columns.
func dump(t *testing.T, conn *pgx.Conn, schema, table string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), fmt.Sprintf(`SELECT t::text FROM %s t ORDER BY 1`,
		pgx.Identifier{schema, table}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func customer(seq, id, version int64, name string) store.FeedEntry {
	c := &store.Customer{ID: id, Version: version, CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(version) * time.Second),
		CreatedBy: "erp", UpdatedBy: "shop", ExternalID: fmt.Sprint("ext-", id), Name: name, Email: "a@example.org",
		Phone: "+49 30 1", Gender: "F", Company: "ACME", BirthDate: time.Date(1980, 2, 29, 0, 0, 0, 0, time.UTC),
		Address: store.Address{Street: "Main St 1", City: "Berlin", Region: "BE", PostalCode: "10115", Country: "DE"}}
	return store.FeedEntry{Seq: seq, Entity: store.EntityCustomer, Kind: store.FeedUpserted, ID: id, Version: version, At: t0, Customer: c}
}

func deleted(seq int64, entity string, id int64) store.FeedEntry {
	return store.FeedEntry{Seq: seq, Entity: entity, Kind: store.FeedDeleted, ID: id, At: t0}
}

func product(seq, id int64, minor int64, cur string) store.FeedEntry {
	p := &store.Product{ID: id, Version: 1, CreatedAt: t0, UpdatedAt: t0, SKU: fmt.Sprint("SKU-", id), Name: "Widget",
		Description: "d", Category: "tools", PriceMinor: minor, Currency: cur, StockQuantity: 7, LowStockThreshold: 2,
		Active: true, RatingSum: 9, RatingCount: 2}
	return store.FeedEntry{Seq: seq, Entity: store.EntityProduct, Kind: store.FeedUpserted, ID: id, Version: 1, At: t0, Product: p}
}

func order(seq, id, version int64, lines int) store.FeedEntry {
	o := &store.Order{ID: id, Version: version, OrderNumber: fmt.Sprint("ORD-", id), ExternalID: "x", CustomerID: 1,
		Status: store.OrderPaid, PlacedAt: t0, UpdatedAt: t0, CreatedBy: "shop", UpdatedBy: "shop", Currency: "EUR", Note: "n"}
	for i := 1; i <= lines; i++ {
		o.Lines = append(o.Lines, store.OrderLine{LineNo: i, ProductID: int64(i), SKU: fmt.Sprint("SKU-", i),
			ProductName: "Widget", Quantity: int64(i), UnitPriceMinor: 1234, AmountMinor: 1234 * int64(i)})
		o.TotalMinor += 1234 * int64(i)
	}
	return store.FeedEntry{Seq: seq, Entity: store.EntityOrder, Kind: store.FeedUpserted, ID: id, Version: version, At: t0, Order: o}
}

func review(seq, id int64) store.FeedEntry {
	r := &store.Review{ID: id, Version: 1, CreatedAt: t0, UpdatedAt: t0, CreatedBy: "c", UpdatedBy: "c",
		CustomerID: 1, ProductID: 2, Stars: 4, Title: "Good", Text: "it's \"fine\"; DROP TABLE x"}
	return store.FeedEntry{Seq: seq, Entity: store.EntityReview, Kind: store.FeedUpserted, ID: id, Version: 1, At: t0, Review: r}
}

func TestSink_Deliver(t *testing.T) {
	url, conn := target(t)
	s := newSink(t, url, "reporting", "rep")
	deliver(t, s,
		customer(1, 1, 1, "Ada"), customer(2, 2, 1, "Bob"),
		product(3, 1, 1234, "EUR"), product(4, 2, 500, "JPY"), product(5, 3, 1500, "KWD"), product(6, 4, 0, ""),
		order(7, 1, 1, 3), order(8, 2, 1, 2),
		review(9, 1), review(10, 2))
	deliver(t, s,
		customer(11, 1, 2, "Ada Lovelace"), deleted(12, store.EntityCustomer, 2),
		deleted(13, store.EntityProduct, 4), order(14, 1, 2, 1), deleted(15, store.EntityOrder, 2),
		deleted(16, store.EntityReview, 2))

	want := map[string][]string{
		reportsink.TableCustomers: {
			`(1,2,ext-1,"Ada Lovelace",a@example.org,"+49 30 1",F,ACME,1980-02-29,"Main St 1",Berlin,BE,10115,DE,"2026-03-04 05:06:07.890123+00","2026-03-04 05:06:09.890123+00",erp,shop,11)`,
		},
		reportsink.TableProducts: {
			`(1,1,SKU-1,Widget,d,tools,12.34,EUR,7,2,t,9,2,"2026-03-04 05:06:07.890123+00","2026-03-04 05:06:07.890123+00","","",3)`,
			`(2,1,SKU-2,Widget,d,tools,500,JPY,7,2,t,9,2,"2026-03-04 05:06:07.890123+00","2026-03-04 05:06:07.890123+00","","",4)`,
			`(3,1,SKU-3,Widget,d,tools,1.500,KWD,7,2,t,9,2,"2026-03-04 05:06:07.890123+00","2026-03-04 05:06:07.890123+00","","",5)`,
		},
		reportsink.TableOrders: {
			`(1,2,ORD-1,x,1,PAID,EUR,12.34,n,"2026-03-04 05:06:07.890123+00","2026-03-04 05:06:07.890123+00",shop,shop,14)`,
		},
		reportsink.TableOrderLines: {
			`(1,1,1,SKU-1,Widget,1,12.34,12.34,EUR)`,
		},
		reportsink.TableReviews: {
			`(1,1,1,2,4,Good,"it's ""fine""; DROP TABLE x","2026-03-04 05:06:07.890123+00","2026-03-04 05:06:07.890123+00",c,c,9)`,
		},
	}
	if _, err := conn.Exec(context.Background(), `SET TIME ZONE 'UTC'`); err != nil {
		t.Fatal(err)
	}
	for table, rows := range want {
		if got := dump(t, conn, "reporting", table); strings.Join(got, "\n") != strings.Join(rows, "\n") {
			t.Errorf("%s:\ngot  %s\nwant %s", table, strings.Join(got, "\n     "), strings.Join(rows, "\n     "))
		}
	}
	// Money columns are NUMERIC, the exact decimal, with the currency's digits.
	var typ string
	var price string
	err := conn.QueryRow(context.Background(), `SELECT pg_typeof(price)::text, price::text FROM reporting.products WHERE id = 3`).Scan(&typ, &price)
	if err != nil || typ != "numeric" || price != "1.500" {
		t.Fatalf("KWD price: %s %s %v, want numeric 1.500", typ, price, err)
	}
	if got, _ := s.Cursor(context.Background()); got != 16 {
		t.Fatalf("cursor %d, want 16", got)
	}
}

// TestSink_Redelivery delivers a batch again (crmsoap lost the acknowledgement) and a batch that
// overlaps the stored cursor: only entries past the cursor are applied.
func TestSink_Redelivery(t *testing.T) {
	url, conn := target(t)
	s := newSink(t, url, "r", "rep")
	batch := []store.FeedEntry{customer(1, 1, 1, "Ada"), customer(2, 2, 1, "Bob"), deleted(3, store.EntityCustomer, 1)}
	deliver(t, s, batch...)
	before := dump(t, conn, "r", reportsink.TableCustomers)
	// A redelivered batch, whose entries would change the rows if applied again, changes nothing.
	stale := []store.FeedEntry{customer(1, 1, 1, "Ada"), customer(2, 2, 1, "CHANGED"), customer(3, 3, 1, "new")}
	deliver(t, s, stale...)
	if got := dump(t, conn, "r", reportsink.TableCustomers); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Fatalf("redelivery changed the table:\n%v\nwas\n%v", got, before)
	}
	// Entries 2 and 3 are at or below the cursor (3): only 4 and 5 apply.
	deliver(t, s, customer(2, 2, 1, "CHANGED"), customer(3, 1, 1, "resurrected"), customer(4, 4, 1, "Dan"), customer(5, 2, 2, "Bob2"))
	var names []string
	rows, _ := conn.Query(context.Background(), `SELECT id || ':' || name || ':' || feed_seq FROM r.customers ORDER BY id`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := "2:Bob2:5 4:Dan:4"; strings.Join(names, " ") != want {
		t.Fatalf("customers %v, want %s", names, want)
	}
	if got, _ := s.Cursor(context.Background()); got != 5 {
		t.Fatalf("cursor %d, want 5", got)
	}
}

// TestSink_ConcurrentSameSubscription runs two sinks of one subscription delivering the same seqs
// with different records at once: the cursor row lock lets exactly one batch apply, so the table
// holds one batch's 50 rows, never both batches' 100.
func TestSink_ConcurrentSameSubscription(t *testing.T) {
	url, conn := target(t)
	a, b := newSink(t, url, "c", "twin"), newSink(t, url, "c", "twin")
	for round := range 20 {
		base := int64(round) * 100
		batchA, batchB := make([]store.FeedEntry, 50), make([]store.FeedEntry, 50)
		for i := range 50 {
			seq := base + int64(i+1)
			batchA[i] = customer(seq, seq, 1, "A")
			batchB[i] = customer(seq, seq+50, 1, "B")
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, job := range []struct {
			s     *reportsink.Sink
			batch []store.FeedEntry
		}{{a, batchA}, {b, batchB}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = job.s.Deliver(context.Background(), job.batch)
			}()
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v, %v", round, errs[0], errs[1])
		}
		var distinct, n int
		err := conn.QueryRow(context.Background(), `SELECT count(DISTINCT name), count(*) FROM c.customers WHERE id > $1`, base).Scan(&distinct, &n)
		if err != nil {
			t.Fatal(err)
		}
		if distinct != 1 || n != 50 {
			t.Fatalf("round %d: %d rows of %d distinct batches, want 50 rows of one batch", round, n, distinct)
		}
		if got, _ := a.Cursor(context.Background()); got != base+50 {
			t.Fatalf("round %d: cursor %d, want %d", round, got, base+50)
		}
	}
}

// TestSink_Subscriptions keeps one cursor per subscription in a shared schema.
func TestSink_Subscriptions(t *testing.T) {
	url, _ := target(t)
	a, b := newSink(t, url, "shared", "one"), newSink(t, url, "shared", "two")
	deliver(t, a, customer(7, 1, 1, "x"))
	deliver(t, b, customer(3, 1, 1, "x"))
	ca, _ := a.Cursor(context.Background())
	cb, _ := b.Cursor(context.Background())
	if ca != 7 || cb != 3 {
		t.Fatalf("cursors %d and %d, want 7 and 3", ca, cb)
	}
}

// TestNew_Refuses checks that hostile or broken configuration is refused before any connection,
// and that the error does not repeat the password.
func TestNew_Refuses(t *testing.T) {
	for _, tc := range []struct{ name, url, schema, want string }{
		{"InjectedSchema", "postgres://u:secret@127.0.0.1/db", `x"; DROP SCHEMA public; --`, `reportsink: schema "x\"; DROP SCHEMA public; --": use 1 to 63`},
		{"UpperCaseSchema", "postgres://u:secret@127.0.0.1/db", "Reporting", `reportsink: schema "Reporting": use 1 to 63`},
		{"LongSchema", "postgres://u:secret@127.0.0.1/db", strings.Repeat("a", 64), `use 1 to 63`},
		{"EmptySchema", "postgres://u:secret@127.0.0.1/db", "", `reportsink: schema "": use 1 to 63`},
		{"BadURL", "postgres://u:secret@127.0.0.1:notaport/db", "reporting", "reportsink: the target URL is not a PostgreSQL connection URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := reportsink.New(tc.url, tc.schema, "sub")
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q, want %q without the password", err, tc.want)
			}
		})
	}
}

// TestSink_FailedBatchAppliesNothing: a batch with an entry the sink cannot write (unknown currency)
// fails whole; neither rows nor cursor move.
func TestSink_FailedBatchAppliesNothing(t *testing.T) {
	url, conn := target(t)
	s := newSink(t, url, "f", "rep")
	deliver(t, s, customer(1, 1, 1, "Ada"))
	err := s.Deliver(context.Background(), []store.FeedEntry{customer(2, 2, 1, "Bob"), product(3, 1, 1, "XXX")})
	if err == nil || !strings.Contains(err.Error(), `reportsink: change 3: unknown currency "XXX"`) {
		t.Fatalf("error %v", err)
	}
	if got := dump(t, conn, "f", reportsink.TableCustomers); len(got) != 1 {
		t.Fatalf("customers %v, want only the first batch", got)
	}
	if got, _ := s.Cursor(context.Background()); got != 1 {
		t.Fatalf("cursor %d, want 1", got)
	}
}
