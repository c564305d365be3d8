package main

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
)

// SOAP 1.1 requests as the generated .NET and Java clients send them: quoted
// SOAPAction, text/xml, a prefixed envelope.
var (
	actionGet    = soapHeader("urn:crmsoap:v1#GetCustomer")
	actionAdd    = soapHeader("urn:crmsoap:v1#AddCustomer")
	actionUpdate = soapHeader("urn:crmsoap:v1#UpdateCustomer")
)

func envelope(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:crm="urn:crmsoap:v1">` +
		`<soapenv:Header/><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`)
}

func getCustomer(id int64) request {
	return request{actionGet, envelope(`<crm:GetCustomer><crm:id>` + strconv.FormatInt(id, 10) + `</crm:id></crm:GetCustomer>`)}
}

// addCustomer adds a customer without externalId, so that repeated bodies never collide.
func addCustomer(i int) request {
	return request{actionAdd, envelope(`<crm:AddCustomer>` + customerXML(i) + `</crm:AddCustomer>`)}
}

// updateCustomer replaces customer id unconditionally (no expectedVersion), so
// that concurrent updates of one row never conflict.
func updateCustomer(id int64, i int) request {
	return request{actionUpdate, envelope(`<crm:UpdateCustomer><crm:id>` + strconv.FormatInt(id, 10) +
		`</crm:id>` + customerXML(i) + `</crm:UpdateCustomer>`)}
}

func customerXML(i int) string {
	n := strconv.Itoa(i)
	return `<crm:customer><crm:name>Customer ` + n + `</crm:name><crm:email>customer` + n + `@example.com</crm:email>` +
		`<crm:phone>+44 20 7946 ` + fmt.Sprintf("%04d", i%10000) + `</crm:phone><crm:gender>FEMALE</crm:gender>` +
		`<crm:birthDate>1980-01-15</crm:birthDate><crm:company>Example Trading Ltd</crm:company>` +
		`<crm:address><crm:street>` + n + ` High Street</crm:street><crm:city>London</crm:city>` +
		`<crm:postalCode>EC1A 1BB</crm:postalCode><crm:country>GB</crm:country></crm:address></crm:customer>`
}

// storedCustomer is the stored form of customerXML(i).
func storedCustomer(i int, now time.Time) store.Customer {
	n := strconv.Itoa(i)
	return store.Customer{
		CreatedAt: now, UpdatedAt: now,
		Name: "Customer " + n, Email: "customer" + n + "@example.com", Phone: fmt.Sprintf("+44 20 7946 %04d", i%10000),
		Gender: "FEMALE", Company: "Example Trading Ltd", BirthDate: time.Date(1980, 1, 15, 0, 0, 0, 0, time.UTC),
		Address: store.Address{Street: n + " High Street", City: "London", PostalCode: "EC1A 1BB", Country: "GB"},
	}
}

// seed creates n customers and registers the client certificate in the
// database file path, before any server opens it. It returns the customer ids.
func seed(ctx context.Context, path string, n int, certDER []byte) ([]int64, error) {
	db, err := openStore(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	now := time.Now().UTC()
	if certDER != nil {
		if err := db.AddClient(ctx, store.Client{Name: "bench", CertDER: certDER, Enabled: true, CreatedAt: now}); err != nil {
			return nil, fmt.Errorf("register bench client: %w", err)
		}
	}
	ids := make([]int64, n)
	errs := make(chan error, 1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 { // concurrent creates share group commits: one fsync per batch, not per customer
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				c, err := db.CreateCustomer(ctx, storedCustomer(i, now))
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				ids[i] = c.ID
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return ids, db.Close()
}

// signAll signs n requests made by gen, in parallel on every core; each
// carries its own Timestamp and signature value, so the replay cache sees n
// distinct messages.
func signAll(ctx context.Context, s *wssec.Signer, n int, gen func(i int) request) ([]request, error) {
	out := make([]request, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				r, err := signOne(s, gen(i))
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				out[i] = r
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, ctx.Err()
}

func signOne(s *wssec.Signer, r request) (request, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(r.body); err != nil {
		return r, err
	}
	if err := s.Sign(doc); err != nil {
		return r, err
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		return r, err
	}
	return request{r.header, b}, nil
}
