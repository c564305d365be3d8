package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
)

func pageSize(n int32) *wsdl.PageSize { p := wsdl.PageSize(n); return &p }

// resultCodes renders SaveResults as "index:code" ("ok" for success) in order.
func resultCodes(tb testing.TB, rs []*wsdl.SaveResult) string {
	tb.Helper()
	var parts []string
	for i, r := range rs {
		if r.Index == nil || int(*r.Index) != i || r.Success == nil {
			tb.Fatalf("result %d: index %v success %v, want index %d and success", i, r.Index, r.Success, i)
		}
		switch {
		case bool(*r.Success) && r.Error == nil && r.Id > 0:
			parts = append(parts, fmt.Sprintf("%d:ok", i))
		case !bool(*r.Success) && r.Error != nil && r.Error.Code != nil && r.Error.Message != "":
			parts = append(parts, fmt.Sprintf("%d:%s", i, *r.Error.Code))
		default:
			tb.Fatalf("result %d is neither a success with an id nor a failure with an error: %+v", i, r)
		}
	}
	return strings.Join(parts, " ")
}

func TestServe_UpsertAndBulkWithGeneratedClient(t *testing.T) {
	forEachBackend(t, testUpsertAndBulkWithGeneratedClient)
}

func testUpsertAndBulkWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)

	up, err := c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{Customer: &wsdl.CustomerData{ExternalId: "ERP-1", Name: "Ann"}})
	if err != nil || up.Created == nil || !bool(*up.Created) || up.Customer.Version != 1 {
		t.Fatalf("first upsert: %+v, %v; want created, version 1", up, err)
	}
	again, err := c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{ExpectedVersion: 1,
		Customer: &wsdl.CustomerData{ExternalId: "ERP-1", Name: "Ann B", Email: "ann@example.com"}})
	if err != nil || again.Created == nil || bool(*again.Created) || again.Customer.Id != up.Customer.Id ||
		again.Customer.Version != 2 || again.Customer.Email != "ann@example.com" {
		t.Fatalf("second upsert: %+v, %v; want the same customer replaced, version 2", again, err)
	}
	_, err = c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{ExpectedVersion: 1, Customer: &wsdl.CustomerData{ExternalId: "ERP-1", Name: "x"}})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeCONFLICT {
		t.Errorf("stale upsert: %s, want CONFLICT", *f.Code)
	}
	_, err = c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{Customer: &wsdl.CustomerData{Name: "No Key"}})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeVALIDATION_FAILED || f.Field != "customer/externalId" {
		t.Errorf("upsert without externalId: %s %q, want VALIDATION_FAILED on customer/externalId", *f.Code, f.Field)
	}

	// A bulk upsert mixing good and bad items: each stands alone, in request order.
	res, err := c.UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: []*wsdl.CustomerData{
		{ExternalId: "ERP-2", Name: "Bob"},
		{ExternalId: "ERP-3", Name: "Cy", Email: "not-an-address"},
		{ExternalId: "ERP-4", Name: "Dee"},
		{ExternalId: "ERP-4", Name: "Dee again"},
		{ExternalId: "ERP-1", Name: "Ann C"},
		{Name: "no key"},
	}})
	if err != nil {
		t.Fatalf("UpsertCustomers: %v", err)
	}
	if got, want := resultCodes(t, res.Result), "0:ok 1:VALIDATION_FAILED 2:DUPLICATE 3:DUPLICATE 4:ok 5:VALIDATION_FAILED"; got != want {
		t.Errorf("UpsertCustomers results %s, want %s", got, want)
	}
	if r := res.Result[0]; r.Created == nil || !bool(*r.Created) || r.Version != 1 {
		t.Errorf("new item: created %v version %d, want created, version 1", r.Created, r.Version)
	}
	if r := res.Result[4]; r.Created == nil || bool(*r.Created) || r.Id != up.Customer.Id || r.Version != 3 {
		t.Errorf("existing item: %+v, want customer %d not created, version 3", r, up.Customer.Id)
	}
	if r := res.Result[1]; r.Error.Field != "customer/email" {
		t.Errorf("bad email item: field %q, want customer/email", r.Error.Field)
	}

	// allOrNone: one bad item and nothing is written.
	before := dbState(t, srv.DB)
	res2, err := c.AddCustomersContext(ctx, &wsdl.AddCustomers{AllOrNone: true, Customer: []*wsdl.CustomerData{
		{Name: "Eve"}, {Name: ""}, {Name: "Fay"},
	}})
	if err != nil {
		t.Fatalf("AddCustomers allOrNone: %v", err)
	}
	if got, want := resultCodes(t, res2.Result), "0:ROLLED_BACK 1:VALIDATION_FAILED 2:ROLLED_BACK"; got != want {
		t.Errorf("allOrNone with a bad item: %s, want %s", got, want)
	}
	// allOrNone failing in the store (a taken externalId): rolled back too.
	res2, err = c.AddCustomersContext(ctx, &wsdl.AddCustomers{AllOrNone: true, Customer: []*wsdl.CustomerData{
		{Name: "Eve"}, {Name: "Fay", ExternalId: "ERP-2"},
	}})
	if err != nil {
		t.Fatalf("AddCustomers allOrNone: %v", err)
	}
	if got, want := resultCodes(t, res2.Result), "0:ROLLED_BACK 1:DUPLICATE"; got != want {
		t.Errorf("allOrNone with a taken externalId: %s, want %s", got, want)
	}
	if after := dbState(t, srv.DB); after != before {
		t.Errorf("a failed allOrNone call wrote: %s -> %s", before, after)
	}
	res2, err = c.AddCustomersContext(ctx, &wsdl.AddCustomers{Customer: []*wsdl.CustomerData{{Name: "Eve"}, {Name: "Fay"}}})
	if err != nil || resultCodes(t, res2.Result) != "0:ok 1:ok" {
		t.Fatalf("AddCustomers: %+v, %v", res2, err)
	}
	eve, fay := res2.Result[0].Id, res2.Result[1].Id

	upd, err := c.UpdateCustomersContext(ctx, &wsdl.UpdateCustomers{Item: []*wsdl.CustomerUpdateItem{
		{Id: eve, ExpectedVersion: 1, Customer: &wsdl.CustomerData{Name: "Eve 2"}},
		{Id: fay, ExpectedVersion: 7, Customer: &wsdl.CustomerData{Name: "Fay 2"}},
		{Id: 999999, Customer: &wsdl.CustomerData{Name: "Nobody"}},
		{Id: -1, Customer: &wsdl.CustomerData{Name: "Negative"}},
	}})
	if err != nil {
		t.Fatalf("UpdateCustomers: %v", err)
	}
	if got, want := resultCodes(t, upd.Result), "0:ok 1:CONFLICT 2:NOT_FOUND 3:VALIDATION_FAILED"; got != want {
		t.Errorf("UpdateCustomers: %s, want %s", got, want)
	}
	if upd.Result[0].Version != 2 {
		t.Errorf("updated item version %d, want 2", upd.Result[0].Version)
	}
	del, err := c.DeleteCustomersContext(ctx, &wsdl.DeleteCustomers{Item: []*wsdl.CustomerDeleteItem{{Id: eve}, {Id: 999999}, {Id: fay, ExpectedVersion: 1}}})
	if err != nil {
		t.Fatalf("DeleteCustomers: %v", err)
	}
	if got, want := resultCodes(t, del.Result), "0:ok 1:NOT_FOUND 2:ok"; got != want {
		t.Errorf("DeleteCustomers: %s, want %s", got, want)
	}
	if _, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: eve}); faultOf(t, err).Code == nil {
		t.Error("deleted customer still readable")
	}
}

// TestServe_BulkLimits checks the call-level refusals: nothing is written.
func TestServe_BulkLimits(t *testing.T) {
	srv := startDevServer(t, "", "--max-batch", "5")
	c, ctx := srv.client(), waitCtx(t)
	before := dbState(t, srv.DB)
	six := make([]*wsdl.CustomerData, 6)
	for i := range six {
		six[i] = &wsdl.CustomerData{Name: fmt.Sprint("C", i)}
	}
	for name, call := range map[string]func() error{
		"AddCustomers over the limit": func() error {
			_, err := c.AddCustomersContext(ctx, &wsdl.AddCustomers{Customer: six})
			return err
		},
		"UpsertCustomers empty": func() error {
			_, err := c.UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{AllOrNone: true})
			return err
		},
		"UpdateCustomers empty": func() error {
			_, err := c.UpdateCustomersContext(ctx, &wsdl.UpdateCustomers{})
			return err
		},
		"DeleteCustomers empty": func() error {
			_, err := c.DeleteCustomersContext(ctx, &wsdl.DeleteCustomers{})
			return err
		},
	} {
		f := faultOf(t, call())
		if *f.Code != wsdl.FaultCodeVALIDATION_FAILED || f.Field == "" {
			t.Errorf("%s: %s field %q, want VALIDATION_FAILED naming the field", name, *f.Code, f.Field)
		}
		if strings.Contains(name, "limit") && !strings.Contains(f.Message, "5") {
			t.Errorf("%s: message %q does not state the limit 5", name, f.Message)
		}
	}
	if after := dbState(t, srv.DB); after != before {
		t.Errorf("refused bulk calls wrote: %s -> %s", before, after)
	}
	if res, err := c.AddCustomersContext(ctx, &wsdl.AddCustomers{Customer: six[:5]}); err != nil || len(res.Result) != 5 {
		t.Errorf("5 items with --max-batch 5: %v", err)
	}
}

func TestServe_SearchPagingWithGeneratedClient(t *testing.T) {
	forEachBackend(t, testSearchPagingWithGeneratedClient)
}

func testSearchPagingWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	items := make([]*wsdl.CustomerData, 25)
	for i := range items {
		name := fmt.Sprintf("Kunde %02d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("ÜBERMANN %02d", i) // upper-case non-ASCII
		}
		items[i] = &wsdl.CustomerData{Name: name, ExternalId: fmt.Sprint("S-", i), Address: &wsdl.Address{Country: "DE"}}
	}
	if _, err := c.AddCustomersContext(ctx, &wsdl.AddCustomers{Customer: items}); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	token, pages := "", 0
	for {
		page, err := c.SearchCustomersContext(ctx, &wsdl.SearchCustomers{PageSize: pageSize(10), PageToken: token,
			Filter: &wsdl.CustomerFilter{Country: "DE"}})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		for _, cu := range page.Customer {
			seen[cu.Id]++
		}
		if page.NextPageToken == "" {
			break
		}
		if len(page.Customer) != 10 || pages > 5 {
			t.Fatalf("page %d has %d customers and a next token", pages, len(page.Customer))
		}
		token = page.NextPageToken
	}
	if pages != 3 || len(seen) != 25 {
		t.Errorf("%d pages, %d customers, want 3 pages of 25", pages, len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("customer %d seen %d times", id, n)
		}
	}
	found, err := c.SearchCustomersContext(ctx, &wsdl.SearchCustomers{Filter: &wsdl.CustomerFilter{NameContains: "überm"}})
	if err != nil || len(found.Customer) != 5 || found.NextPageToken != "" {
		t.Errorf("nameContains überm: %d customers (%v), want the 5 ÜBERMANN", len(found.Customer), err)
	}
	one, err := c.SearchCustomersContext(ctx, &wsdl.SearchCustomers{Filter: &wsdl.CustomerFilter{ExternalId: "S-7"}})
	if err != nil || len(one.Customer) != 1 || one.Customer[0].Name != "Kunde 07" {
		t.Errorf("externalId S-7: %+v, %v", one, err)
	}

	// A token is bound to its filter: used with another one it is refused.
	first, err := c.SearchCustomersContext(ctx, &wsdl.SearchCustomers{PageSize: pageSize(2), Filter: &wsdl.CustomerFilter{Country: "DE"}})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page: %v", err)
	}
	_, err = c.SearchCustomersContext(ctx, &wsdl.SearchCustomers{PageToken: first.NextPageToken, Filter: &wsdl.CustomerFilter{Country: "FR"}})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeVALIDATION_FAILED || f.Field != "pageToken" {
		t.Errorf("token with another filter: %s %q, want VALIDATION_FAILED on pageToken", *f.Code, f.Field)
	}
}

func TestServe_ChangeFeedWithGeneratedClient(t *testing.T) {
	forEachBackend(t, testChangeFeedWithGeneratedClient)
}

func testChangeFeedWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	a, err := c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{Customer: &wsdl.CustomerData{ExternalId: "F-1", Name: "One"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Two"}})
	if err != nil {
		t.Fatal(err)
	}
	follow := func(cursor string, max int32) (map[int64]*wsdl.Change, string, int) {
		t.Helper()
		got, calls := map[int64]*wsdl.Change{}, 0
		var lastSeq int64
		for {
			mc := wsdl.MaxChanges(max)
			page, err := c.GetChangesContext(ctx, &wsdl.GetChanges{Cursor: cursor, MaxChanges: &mc})
			if err != nil {
				t.Fatalf("GetChanges: %v", err)
			}
			calls++
			for _, ch := range page.Change {
				if ch.Seq <= lastSeq {
					t.Fatalf("seq %d after %d: not in commit order", ch.Seq, lastSeq)
				}
				lastSeq = ch.Seq
				if _, dup := got[ch.Id]; dup {
					t.Errorf("customer %d appears twice in one walk", ch.Id)
				}
				got[ch.Id] = ch
			}
			if page.NextCursor == "" || page.HasMore == nil {
				t.Fatalf("GetChanges without nextCursor or hasMore")
			}
			cursor = page.NextCursor
			if !bool(*page.HasMore) {
				return got, cursor, calls
			}
		}
	}
	initial, cursor, calls := follow("", 1)
	if len(initial) != 2 || calls < 2 || initial[a.Customer.Id].Customer == nil || initial[a.Customer.Id].ExternalId != "F-1" {
		t.Fatalf("initial load: %d changes in %d calls, want both customers one per call", len(initial), calls)
	}
	// Five updates of one customer, one deletion: two changes, the latest state of each.
	for i := range 5 {
		if _, err := c.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: a.Customer.Id, Customer: &wsdl.CustomerData{ExternalId: "F-1", Name: fmt.Sprint("One v", i+2)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: b.Customer.Id}); err != nil {
		t.Fatal(err)
	}
	inc, _, _ := follow(cursor, 500)
	if len(inc) != 2 {
		t.Fatalf("increment: %d changes, want 2 (compacted)", len(inc))
	}
	if ch := inc[a.Customer.Id]; *ch.Kind != wsdl.ChangeKindUPSERTED || ch.Version != 6 || ch.Customer == nil ||
		ch.Customer.Name != "One v6" || *ch.Entity != wsdl.EntityCUSTOMER {
		t.Errorf("updated customer's change: %+v", ch)
	}
	if ch := inc[b.Customer.Id]; *ch.Kind != wsdl.ChangeKindDELETED || ch.Customer != nil {
		t.Errorf("deleted customer's change: %+v", ch)
	}
	// A new initial load: every live record with its state; a deletion shows
	// only as a tombstone (a reader drops ids it does not have).
	again, _, _ := follow("", 5000)
	if ch := again[a.Customer.Id]; len(again) != 2 || ch == nil || ch.Customer == nil || ch.Customer.Name != "One v6" ||
		again[b.Customer.Id] == nil || again[b.Customer.Id].Customer != nil {
		t.Errorf("a new initial load: %d entries, want the live customer with its state and the tombstone", len(again))
	}
}

// TestServe_SyncBadInput sends every malformed paging input the issue names,
// over SOAP 1.2 raw envelopes: each a precise fault, nothing written.
func TestServe_SyncBadInput(t *testing.T) { forEachBackend(t, testSyncBadInput) }

func testSyncBadInput(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	if _, err := c.AddCustomersContext(ctx, &wsdl.AddCustomers{Customer: []*wsdl.CustomerData{{Name: "A"}, {Name: "B"}, {Name: "C"}}}); err != nil {
		t.Fatal(err)
	}
	first, err := c.SearchCustomersContext(ctx, &wsdl.SearchCustomers{PageSize: pageSize(1)})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page: %v", err)
	}
	feed, err := c.GetChangesContext(ctx, &wsdl.GetChanges{})
	if err != nil {
		t.Fatal(err)
	}
	tok, cur := first.NextPageToken, feed.NextCursor
	tamper := func(s string) string {
		b := []byte(s)
		if b[10] == 'A' {
			b[10] = 'B'
		} else {
			b[10] = 'A'
		}
		return string(b)
	}
	before := dbState(t, srv.DB)
	for _, tc := range []struct{ name, body, code, field string }{
		{"pageSize negative", `<c:SearchCustomers><c:pageSize>-1</c:pageSize></c:SearchCustomers>`, "VALIDATION_FAILED", "pageSize"},
		{"pageSize zero", `<c:SearchCustomers><c:pageSize>0</c:pageSize></c:SearchCustomers>`, "VALIDATION_FAILED", "pageSize"},
		{"pageSize over 1000", `<c:SearchCustomers><c:pageSize>1001</c:pageSize></c:SearchCustomers>`, "VALIDATION_FAILED", "pageSize"},
		{"pageSize huge", `<c:SearchCustomers><c:pageSize>99999999999999999999</c:pageSize></c:SearchCustomers>`, "VALIDATION_FAILED", "pageSize"},
		{"unknown filter element", `<c:SearchCustomers><c:filter><c:city>Berlin</c:city></c:filter></c:SearchCustomers>`, "VALIDATION_FAILED", ""},
		{"pageToken garbage", `<c:SearchCustomers><c:pageToken>' OR 1=1 --</c:pageToken></c:SearchCustomers>`, "VALIDATION_FAILED", "pageToken"},
		{"pageToken truncated", `<c:SearchCustomers><c:pageToken>` + tok[:len(tok)-3] + `</c:pageToken></c:SearchCustomers>`, "VALIDATION_FAILED", "pageToken"},
		{"pageToken tampered", `<c:SearchCustomers><c:pageToken>` + tamper(tok) + `</c:pageToken></c:SearchCustomers>`, "VALIDATION_FAILED", "pageToken"},
		{"cursor as pageToken", `<c:SearchCustomers><c:pageToken>` + cur + `</c:pageToken></c:SearchCustomers>`, "VALIDATION_FAILED", "pageToken"},
		{"pageToken as cursor", `<c:GetChanges><c:cursor>` + tok + `</c:cursor></c:GetChanges>`, "VALIDATION_FAILED", "cursor"},
		{"cursor garbage", `<c:GetChanges><c:cursor>garbage</c:cursor></c:GetChanges>`, "VALIDATION_FAILED", "cursor"},
		{"cursor truncated", `<c:GetChanges><c:cursor>` + cur[:20] + `</c:cursor></c:GetChanges>`, "VALIDATION_FAILED", "cursor"},
		{"cursor tampered", `<c:GetChanges><c:cursor>` + tamper(cur) + `</c:cursor></c:GetChanges>`, "VALIDATION_FAILED", "cursor"},
		{"maxChanges negative", `<c:GetChanges><c:maxChanges>-5</c:maxChanges></c:GetChanges>`, "VALIDATION_FAILED", "maxChanges"},
		{"maxChanges over 5000", `<c:GetChanges><c:maxChanges>5001</c:maxChanges></c:GetChanges>`, "VALIDATION_FAILED", "maxChanges"},
		{"AddCustomers empty", `<c:AddCustomers><c:allOrNone>true</c:allOrNone></c:AddCustomers>`, "VALIDATION_FAILED", "customer"},
		{"DeleteCustomers empty", `<c:DeleteCustomers/>`, "VALIDATION_FAILED", "item"},
		{"item without id", `<c:DeleteCustomers><c:item><c:expectedVersion>1</c:expectedVersion></c:item></c:DeleteCustomers>`, "", ""},
	} {
		status, _, resp := post(t, srv.URL, ct12, "", envelope(ns12, "", tc.body))
		if tc.code == "" { // a per-item failure, not a fault
			if status != http.StatusOK || elementText(t, resp, "code") != "VALIDATION_FAILED" || elementText(t, resp, "field") != "id" {
				t.Errorf("%s: HTTP %d, want a SaveResult with VALIDATION_FAILED on id\n%s", tc.name, status, resp)
			}
			continue
		}
		if status != http.StatusBadRequest || elementText(t, resp, "code") != tc.code ||
			(tc.field != "" && elementText(t, resp, "field") != tc.field) {
			t.Errorf("%s: HTTP %d code %q field %q, want 400 %s on %q\n%s", tc.name, status,
				elementText(t, resp, "code"), elementText(t, resp, "field"), tc.code, tc.field, resp)
		}
		if strings.Contains(strings.ToLower(string(resp)), "sql") {
			t.Errorf("%s: fault mentions SQL\n%s", tc.name, resp)
		}
	}
	if after := dbState(t, srv.DB); after != before {
		t.Errorf("bad input wrote: %s -> %s", before, after)
	}
}

// TestServe_CursorExpired runs the server with a tombstone retention of a
// millisecond and a fast purge loop: a cursor from before a purged deletion is
// a CURSOR_EXPIRED Sender fault telling to restart without a cursor.
func TestServe_CursorExpired(t *testing.T) {
	srv := startDevServer(t, "", "--tombstone-retention", "1ms", "--purge-interval", "20ms")
	c, ctx := srv.client(), waitCtx(t)
	a, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Gone soon"}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.GetChangesContext(ctx, &wsdl.GetChanges{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: a.Customer.Id}); err != nil {
		t.Fatal(err)
	}
	if !srv.logs.waitFor(`"msg":"purged tombstones"`) {
		t.Fatalf("the purge loop did not remove the tombstone\n%s", srv.logs.String())
	}
	body := `<c:GetChanges><c:cursor>` + page.NextCursor + `</c:cursor></c:GetChanges>`
	status, _, resp := post(t, srv.URL, ct12, "", envelope(ns12, "", body))
	if status != http.StatusBadRequest || elementText(t, resp, "code") != "CURSOR_EXPIRED" ||
		elementText(t, resp, "field") != "cursor" || !strings.Contains(string(resp), "without a cursor") ||
		!strings.Contains(string(resp), "Sender") {
		t.Errorf("expired cursor: HTTP %d\n%s", status, resp)
	}
	if _, err := c.GetChangesContext(ctx, &wsdl.GetChanges{}); err != nil {
		t.Errorf("restart without a cursor: %v", err)
	}
}
