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
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// SOAP 1.1 requests as the generated .NET and Java clients send them: quoted
// SOAPAction, text/xml, a prefixed envelope.
var (
	benchActionGet    = benchHeader("urn:crmsoap:v1#GetCustomer")
	benchActionAdd    = benchHeader("urn:crmsoap:v1#AddCustomer")
	benchActionUpdate = benchHeader("urn:crmsoap:v1#UpdateCustomer")
)

func benchEnvelope(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:crm="urn:crmsoap:v1">` +
		`<soapenv:Header/><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`)
}

func benchGet(id int64) benchReq {
	return benchReq{benchActionGet, benchEnvelope(`<crm:GetCustomer><crm:id>` + strconv.FormatInt(id, 10) + `</crm:id></crm:GetCustomer>`)}
}

// benchAdd adds a customer without externalId, so that repeated bodies never collide.
func benchAdd(i int) benchReq {
	return benchReq{benchActionAdd, benchEnvelope(`<crm:AddCustomer>` + benchCustomerXML(i) + `</crm:AddCustomer>`)}
}

// benchUpdate replaces customer id unconditionally (no expectedVersion), so
// that concurrent updates of one row never conflict.
func benchUpdate(id int64, i int) benchReq {
	return benchReq{benchActionUpdate, benchEnvelope(`<crm:UpdateCustomer><crm:id>` + strconv.FormatInt(id, 10) +
		`</crm:id>` + benchCustomerXML(i) + `</crm:UpdateCustomer>`)}
}

func benchCustomerXML(i int) string {
	n := strconv.Itoa(i)
	return `<crm:customer><crm:name>Customer ` + n + `</crm:name><crm:email>customer` + n + `@example.com</crm:email>` +
		`<crm:phone>+44 20 7946 ` + fmt.Sprintf("%04d", i%10000) + `</crm:phone><crm:gender>FEMALE</crm:gender>` +
		`<crm:birthDate>1980-01-15</crm:birthDate><crm:company>Example Trading Ltd</crm:company>` +
		`<crm:address><crm:street>` + n + ` High Street</crm:street><crm:city>London</crm:city>` +
		`<crm:postalCode>EC1A 1BB</crm:postalCode><crm:country>GB</crm:country></crm:address></crm:customer>`
}

// benchCustomer is the stored form of benchCustomerXML(i).
func benchCustomer(i int, now time.Time) store.Customer {
	n := strconv.Itoa(i)
	return store.Customer{
		CreatedAt: now, UpdatedAt: now,
		Name: "Customer " + n, Email: "customer" + n + "@example.com", Phone: fmt.Sprintf("+44 20 7946 %04d", i%10000),
		Gender: "FEMALE", Company: "Example Trading Ltd", BirthDate: time.Date(1980, 1, 15, 0, 0, 0, 0, time.UTC),
		Address: store.Address{Street: n + " High Street", City: "London", PostalCode: "EC1A 1BB", Country: "GB"},
	}
}

// benchSeed creates n customers and registers the client certificate in the
// database file path, before any server opens it. It returns the customer ids.
func benchSeed(ctx context.Context, path string, n int, certDER []byte) ([]int64, error) {
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
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
				c, err := db.CreateCustomer(ctx, benchCustomer(i, now))
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

// benchSign signs n requests made by gen, in parallel on every core; each
// carries its own Timestamp and signature value, so the replay cache sees n
// distinct messages.
func benchSign(ctx context.Context, s *wssec.Signer, n int, gen func(i int) benchReq) ([]benchReq, error) {
	out := make([]benchReq, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				r, err := benchSignOne(s, gen(i))
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

func benchSignOne(s *wssec.Signer, r benchReq) (benchReq, error) {
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
	return benchReq{r.header, b}, nil
}
