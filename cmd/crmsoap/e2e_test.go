package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

func gender(g wsdl.Gender) *wsdl.Gender { return &g }

func TestServe_CRUDWithGeneratedClient(t *testing.T) { forEachBackend(t, testCRUDWithGeneratedClient) }

func testCRUDWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c := srv.client()
	ctx := waitCtx(t)
	in := &wsdl.CustomerData{
		ExternalId: "ERP-42",
		Name:       "张伟 🚀",
		Email:      "zhang@example.com",
		Phone:      "+86 10 1234 5678",
		Gender:     gender(wsdl.GenderMALE),
		BirthDate:  gowsdlsoap.CreateXsdDate(time.Date(1985, 2, 28, 0, 0, 0, 0, time.UTC), false),
		Company:    "Ünïcode & <Sons>",
		Address:    &wsdl.Address{Street: "1 长安街", City: "北京", Country: "CN"},
	}
	added, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: in})
	if err != nil {
		t.Fatalf("AddCustomer: %v", err)
	}
	id := added.Customer.Id
	if id <= 0 || added.Customer.Version != 1 {
		t.Fatalf("AddCustomer returned id %d version %d", id, added.Customer.Version)
	}
	got, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: id})
	if err != nil {
		t.Fatalf("GetCustomer: %v", err)
	}
	g := got.Customer
	if g.Name != in.Name || g.Company != in.Company || g.Address == nil || g.Address.City != "北京" ||
		g.Gender == nil || *g.Gender != wsdl.GenderMALE || g.ExternalId != "ERP-42" {
		t.Errorf("GetCustomer = %+v, want what was added", g)
	}
	if bd := g.BirthDate.ToGoTime(); bd.Year() != 1985 || bd.Month() != 2 || bd.Day() != 28 {
		t.Errorf("birthDate = %v, want 1985-02-28", bd)
	}
	if ca := g.CreatedAt.ToGoTime(); time.Since(ca) > time.Minute || ca.Location() != time.UTC {
		t.Errorf("createdAt = %v, want recent UTC", ca)
	}
	upd, err := c.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: id, ExpectedVersion: 1, Customer: &wsdl.CustomerData{Name: "Zhang Wei"}})
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	if upd.Customer.Version != 2 || upd.Customer.Name != "Zhang Wei" || upd.Customer.Email != "" {
		t.Errorf("UpdateCustomer = %+v, want version 2 with only the name", upd.Customer)
	}
	del, err := c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: id, ExpectedVersion: 2})
	if err != nil || del.Id != id {
		t.Fatalf("DeleteCustomer = %+v, %v", del, err)
	}
	_, err = c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: id})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeNOT_FOUND {
		t.Errorf("GetCustomer after delete: %s, want NOT_FOUND", *f.Code)
	}
}

func TestServe_FaultsWithGeneratedClient(t *testing.T) {
	forEachBackend(t, testFaultsWithGeneratedClient)
}

func testFaultsWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c := srv.client()
	ctx := waitCtx(t)
	first, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "A", ExternalId: "X1"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		call  func() error
		code  wsdl.FaultCode
		field string
	}{
		{"BadEmail", func() error {
			_, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "B", Email: "no-at-sign"}})
			return err
		}, wsdl.FaultCodeVALIDATION_FAILED, "customer/email"},
		{"EmptyName", func() error {
			_, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Email: "b@example.com"}})
			return err
		}, wsdl.FaultCodeVALIDATION_FAILED, "customer/name"},
		{"Duplicate", func() error {
			_, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "C", ExternalId: "X1"}})
			return err
		}, wsdl.FaultCodeDUPLICATE, "customer/externalId"},
		{"NotFound", func() error {
			_, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 999999})
			return err
		}, wsdl.FaultCodeNOT_FOUND, ""},
		{"StaleVersion", func() error {
			_, err := c.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: first.Customer.Id, ExpectedVersion: 7, Customer: &wsdl.CustomerData{Name: "D"}})
			return err
		}, wsdl.FaultCodeCONFLICT, "expectedVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := faultOf(t, tt.call())
			if *f.Code != tt.code || f.Field != tt.field || f.Message == "" {
				t.Errorf("fault %s field %q message %q, want %s field %q", *f.Code, f.Field, f.Message, tt.code, tt.field)
			}
		})
	}
	got, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: first.Customer.Id})
	if err != nil || got.Customer.Version != 1 || got.Customer.Name != "A" {
		t.Errorf("after the faults the customer is %+v (%v), want unchanged", got, err)
	}
}

// TestServe_GoldenEnvelopes posts the raw envelopes under testdata/soap11 and
// testdata/soap12 in name order (each case may depend on the ones before it) and
// compares the responses with the golden files.
func TestServe_GoldenEnvelopes(t *testing.T) {
	for _, version := range []struct{ dir, contentType string }{
		{"soap11", "text/xml; charset=utf-8"},
		{"soap12", "application/soap+xml; charset=utf-8"},
	} {
		t.Run(version.dir, func(t *testing.T) {
			srv := startDevServer(t, "")
			cases, err := filepath.Glob(filepath.Join("..", "..", "testdata", version.dir, "*", "request.xml"))
			if err != nil || len(cases) == 0 {
				t.Fatalf("no cases under testdata/%s: %v", version.dir, err)
			}
			for _, reqPath := range cases {
				dir := filepath.Dir(reqPath)
				t.Run(filepath.Base(dir), func(t *testing.T) {
					body, err := os.ReadFile(reqPath)
					if err != nil {
						t.Fatal(err)
					}
					status, ctype, resp := post(t, srv.URL, version.contentType, "", body)
					got := fmt.Appendf(nil, "HTTP %d\nContent-Type: %s\n\n%s", status, ctype, resp)
					checkGolden(t, filepath.Join(dir, "response.golden.xml"), got)
				})
			}
		})
	}
}

func TestServe_WSDLAddressFollowsTheClient(t *testing.T) {
	srv := startDevServer(t, "")
	status, _, body := getURL(t, srv.URL+"?wsdl")
	if status != 200 {
		t.Fatalf("GET ?wsdl: %d", status)
	}
	var defs struct {
		Ports []struct {
			Name    string `xml:"name,attr"`
			Address struct {
				Location string `xml:"location,attr"`
			} `xml:"address"`
		} `xml:"service>port"`
	}
	if err := xml.Unmarshal(body, &defs); err != nil {
		t.Fatalf("served WSDL does not parse: %v", err)
	}
	if len(defs.Ports) != 2 {
		t.Fatalf("served WSDL has %d ports, want CrmSoap11Port and CrmSoap12Port", len(defs.Ports))
	}
	for _, p := range defs.Ports {
		if p.Address.Location != srv.URL {
			t.Errorf("port %s address %q, want %q", p.Name, p.Address.Location, srv.URL)
		}
	}
}

// TestServe_SIGKILLKeepsAcknowledgedWrites kills the server in the middle of a
// burst of concurrent AddCustomer calls, restarts it on the same file and checks
// that every acknowledged customer is there.
func TestServe_SIGKILLKeepsAcknowledgedWrites(t *testing.T) {
	forEachBackend(t, testSIGKILLKeepsAcknowledgedWrites)
}

func testSIGKILLKeepsAcknowledgedWrites(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c := srv.client()
	var (
		mu    sync.Mutex
		acked = map[int64]string{}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("worker %d customer %d", w, i)
				resp, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: name}})
				if err != nil {
					return // the server is gone: this one was not acknowledged
				}
				mu.Lock()
				acked[resp.Customer.Id] = name
				mu.Unlock()
				count.Add(1)
			}
		})
	}
	for count.Load() < 300 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.kill(t)
	cancel()
	wg.Wait()

	srv2 := startDevServer(t, db)
	c2 := srv2.client()
	ctx2 := waitCtx(t)
	for id, name := range acked {
		got, err := c2.GetCustomerContext(ctx2, &wsdl.GetCustomer{Id: id})
		if err != nil {
			t.Fatalf("acknowledged customer %d lost after SIGKILL: %v", id, err)
		}
		if got.Customer.Name != name {
			t.Fatalf("customer %d is %q, want %q", id, got.Customer.Name, name)
		}
	}
	t.Logf("%d acknowledged customers survived SIGKILL", len(acked))
}

// TestServe_SIGTERMDrainsInFlight stops the server while requests are running:
// every request either completes (and is stored) or fails to connect; the
// process exits 0 and the database opens again.
func TestServe_SIGTERMDrainsInFlight(t *testing.T) { forEachBackend(t, testSIGTERMDrainsInFlight) }

func testSIGTERMDrainsInFlight(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c := srv.client()
	var (
		mu    sync.Mutex
		acked []int64
		wg    sync.WaitGroup
		count atomic.Int64
	)
	for range 8 {
		wg.Go(func() {
			for {
				resp, err := c.AddCustomerContext(context.Background(), &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "drain"}})
				if err != nil {
					if strings.Contains(err.Error(), "HTTP Status") {
						t.Errorf("request during shutdown got a fault instead of completing: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, resp.Customer.Id)
				mu.Unlock()
				count.Add(1)
			}
		})
	}
	for count.Load() < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.stop(t)
	wg.Wait()
	if !strings.Contains(srv.logs.String(), `"msg":"stopped"`) {
		t.Errorf("server did not log a clean stop:\n%s", srv.logs.String())
	}
	srv2 := startDevServer(t, db)
	c2 := srv2.client()
	for _, id := range acked {
		if _, err := c2.GetCustomerContext(waitCtx(t), &wsdl.GetCustomer{Id: id}); err != nil {
			t.Fatalf("customer %d acknowledged before SIGTERM is missing: %v", id, err)
		}
	}
}
