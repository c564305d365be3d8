package main

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

const callUsage = `Usage: crmsoap call [flags] OPERATION [field=value ...]

Calls the server with the generated Go SDK and prints the response as XML.
With --key and --cert every request is signed (WS-Security X.509, RSA-SHA256 or
ECDSA-SHA256, Timestamp and Body signed); with --server-cert every response must
carry a valid signature by that certificate. The server does not sign the faults
of requests it refuses before authenticating them: those are shown marked as
NOT signed by the server.

Operations and fields:
  AddCustomer     externalId= name= email= phone= gender= birthDate=YYYY-MM-DD company=
                  street= city= region= postalCode= country=
  GetCustomer     id=
  UpdateCustomer  id= expectedVersion= and every AddCustomer field (all are replaced)
  DeleteCustomer  id= expectedVersion=
  UpsertCustomer  externalId= (required) expectedVersion= and every AddCustomer field (all are replaced)
  DeleteCustomers ids=ID,ID,... allOrNone=true|false
  SearchCustomers externalId= email= nameContains= company= country= updatedSince=RFC3339
                  pageSize= pageToken=
  GetChanges      cursor= maxChanges=
  AddProduct      sku= name= description= category= price=DECIMAL currency=ISO4217 stock= lowStockThreshold=
                  active=true|false
  GetProduct      id=
  UpdateProduct   id= expectedVersion= and every AddProduct field (all are replaced)
  DeleteProduct   id= expectedVersion=
  UpsertProduct   sku= (required) expectedVersion= and every AddProduct field (all are replaced)
  SearchProducts  sku= nameContains= category= active=true|false lowStockOnly=true pageSize= pageToken=
  AdjustStock     productId= delta= reason= expectedVersion=
  PlaceOrder      customerId= lines=SKU:QTY,SKU:QTY,... externalId= currency= note=
  GetOrder        id=
  UpdateOrderStatus id= status=PAID|SHIPPED|DELIVERED|CANCELLED expectedVersion=
  SearchOrders    customerId= status= pageToken=
  AddReview       customerId= productId= stars=1..5 title= text=
  GetReview       id=
  UpdateReview    id= expectedVersion= stars= title= text= (all are replaced; customer and product stay)
  DeleteReview    id= expectedVersion=
  SearchReviews   productId= customerId= minStars= pageSize= pageToken=

With --message-id, the request carries that wsa:MessageID (signed along with the Body): sending the same
request again with the same id returns the first answer and writes nothing again.

Example:
  crmsoap call --key erp.key.pem --cert erp.cert.pem AddCustomer name="Zhang Wei" country=CN
  crmsoap call --message-id urn:uuid:6f1c... UpsertCustomer externalId=ERP-1 name="Zhang Wei"
  crmsoap call AddProduct sku=ANVIL-1 name=Anvil price=19.90 currency=EUR stock=5 lowStockThreshold=2
  crmsoap call AddReview customerId=1 productId=2 stars=5 title="Sturdy anvil"
`

// call is a command-line client on the generated SDK.
func (m *Main) call(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, callUsage); fs.PrintDefaults() }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	var url, keyFile, certFile, serverCertFile string
	var timeout time.Duration
	e.String(&url, "url", "CRMSOAP_URL", "http://127.0.0.1:8080/soap", "SOAP endpoint")
	e.String(&keyFile, "key", "CRMSOAP_CLIENT_KEY", "", "PEM private key to sign requests with")
	e.String(&certFile, "cert", "CRMSOAP_CLIENT_CERT", "", "PEM certificate of that key")
	e.String(&serverCertFile, "server-cert", "CRMSOAP_SERVER_CERT", "", "PEM certificate the server signs responses with")
	e.Duration(&timeout, "timeout", "CRMSOAP_TIMEOUT", 30*time.Second, "request timeout")
	var messageID string
	fs.StringVar(&messageID, "message-id", "", "send this wsa:MessageID (signed with --key): a retry with the same id and request runs once")
	if err := e.parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	doer, err := newClientTransport(keyFile, certFile, serverCertFile)
	if err != nil {
		return err
	}
	sc := gowsdlsoap.NewClient(url, gowsdlsoap.WithHTTPClient(doer), gowsdlsoap.WithTimeout(timeout))
	if messageID != "" {
		sc.AddHeader(wsaMessageID{ID: messageID})
	}
	client := wsdl.NewCrmPortType(sc)
	resp, err := invoke(ctx, client, fs.Arg(0), fs.Args()[1:])
	if err != nil {
		return describeCallError(err)
	}
	out, err := xml.MarshalIndent(resp, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s\n", out)
	return nil
}

// invoke builds the request of operation op from field=value pairs and calls it.
func invoke(ctx context.Context, c wsdl.CrmPortType, op string, pairs []string) (any, error) {
	f, err := parseFields(pairs)
	if err != nil {
		return nil, err
	}
	switch op {
	case "AddCustomer":
		d, err := f.customerData()
		if err != nil {
			return nil, err
		}
		return c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: d})
	case "GetCustomer":
		id, err := f.int("id")
		if err != nil {
			return nil, err
		}
		return c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: id})
	case "UpdateCustomer":
		id, ev, err1 := f.idVersion()
		d, err2 := f.customerData()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return c.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: id, ExpectedVersion: ev, Customer: d})
	case "DeleteCustomer":
		id, ev, err := f.idVersion()
		if err != nil {
			return nil, err
		}
		return c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: id, ExpectedVersion: ev})
	}
	return invokeSync(ctx, c, op, f)
}

// invokeSync calls the operations of ERP synchronisation.
func invokeSync(ctx context.Context, c wsdl.CrmPortType, op string, f fields) (any, error) {
	switch op {
	case "UpsertCustomer":
		ev, err1 := f.int("expectedVersion")
		d, err2 := f.customerData()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{Customer: d, ExpectedVersion: ev})
	case "DeleteCustomers":
		req := &wsdl.DeleteCustomers{AllOrNone: f["allOrNone"] == "true"}
		for _, s := range strings.Split(f["ids"], ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("ids=%q: want a comma-separated list of customer ids", f["ids"])
			}
			req.Item = append(req.Item, &wsdl.CustomerDeleteItem{Id: id})
		}
		return c.DeleteCustomersContext(ctx, req)
	case "SearchCustomers":
		req := &wsdl.SearchCustomers{PageToken: f["pageToken"], Filter: &wsdl.CustomerFilter{ExternalId: f["externalId"],
			Email: f["email"], NameContains: f["nameContains"], Company: f["company"], Country: f["country"]}}
		if v, ok := f["updatedSince"]; ok {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, fmt.Errorf("updatedSince=%q: want RFC 3339, e.g. 2026-01-02T03:04:05Z", v)
			}
			req.Filter.UpdatedSince = gowsdlsoap.CreateXsdDateTime(t.UTC(), true)
		}
		ps, err := f.pageSize()
		if err != nil {
			return nil, err
		}
		req.PageSize = ps
		return c.SearchCustomersContext(ctx, req)
	case "GetChanges":
		req := &wsdl.GetChanges{Cursor: f["cursor"]}
		if _, ok := f["maxChanges"]; ok {
			n, err := f.int("maxChanges")
			if err != nil {
				return nil, err
			}
			mc := wsdl.MaxChanges(n)
			req.MaxChanges = &mc
		}
		return c.GetChangesContext(ctx, req)
	}
	return invokeProducts(ctx, c, op, f)
}

// wsaMessageID is the WS-Addressing MessageID header of a request.
type wsaMessageID struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/08/addressing MessageID"`
	ID      string   `xml:",chardata"`
}

type fields map[string]string

func parseFields(pairs []string) (fields, error) {
	f := fields{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("argument %q: want field=value", p)
		}
		f[k] = v
	}
	return f, nil
}

func (f fields) int(name string) (int64, error) {
	v, ok := f[name]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not an integer", name, v)
	}
	return n, nil
}

// idVersion reads id= and expectedVersion= (0 when absent).
func (f fields) idVersion() (id, expectedVersion int64, err error) {
	id, err1 := f.int("id")
	expectedVersion, err2 := f.int("expectedVersion")
	return id, expectedVersion, errors.Join(err1, err2)
}

// pageSize is the pageSize field, nil when absent.
func (f fields) pageSize() (*wsdl.PageSize, error) {
	if _, ok := f["pageSize"]; !ok {
		return nil, nil
	}
	n, err := f.int("pageSize")
	if err != nil {
		return nil, err
	}
	ps := wsdl.PageSize(n)
	return &ps, nil
}

func (f fields) customerData() (*wsdl.CustomerData, error) {
	d := &wsdl.CustomerData{
		ExternalId: f["externalId"], Name: f["name"], Email: f["email"], Phone: f["phone"], Company: f["company"],
	}
	if g, ok := f["gender"]; ok {
		gender := wsdl.Gender(g)
		d.Gender = &gender
	}
	if b, ok := f["birthDate"]; ok {
		t, err := time.Parse(time.DateOnly, b)
		if err != nil {
			return nil, fmt.Errorf("birthDate=%q: want YYYY-MM-DD", b)
		}
		d.BirthDate = gowsdlsoap.CreateXsdDate(t, false)
	}
	a := wsdl.Address{Street: f["street"], City: f["city"], Region: f["region"], PostalCode: f["postalCode"], Country: f["country"]}
	if a != (wsdl.Address{}) {
		d.Address = &a
	}
	return d, nil
}

// describeCallError turns a SOAP fault returned by the SDK into a readable
// error; a fault the server did not sign (with --server-cert) says so.
func describeCallError(err error) error {
	var uf *wssec.UnsignedFaultError
	if errors.As(err, &uf) {
		msg := "fault " + uf.Code + ": " + uf.String
		if f, ok := crmFaultOf(uf.Body); ok {
			msg = describeFault(f)
		}
		return fmt.Errorf("%s (HTTP %d; this fault is NOT signed by the server: it refused the request before "+
			"authenticating it, and nothing vouches for this text)", msg, uf.StatusCode)
	}
	var he *gowsdlsoap.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	f, ok := crmFaultOf(he.ResponseBody)
	if !ok {
		return fmt.Errorf("HTTP %d from the server: %s", he.StatusCode, http.StatusText(he.StatusCode))
	}
	return errors.New(describeFault(f))
}

// crmFaultOf is the CrmFault detail of a SOAP 1.1 fault envelope.
func crmFaultOf(body []byte) (wsdl.CrmFault, bool) {
	var env struct {
		Body struct {
			Fault struct {
				Detail struct{ CrmFault wsdl.CrmFault } `xml:"detail"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if xml.Unmarshal(body, &env) != nil || env.Body.Fault.Detail.CrmFault.Code == nil {
		return wsdl.CrmFault{}, false
	}
	return env.Body.Fault.Detail.CrmFault, true
}

func describeFault(f wsdl.CrmFault) string {
	msg := fmt.Sprintf("fault %s: %s", *f.Code, f.Message)
	if f.Field != "" {
		msg += " (field " + f.Field + ")"
	}
	return msg
}
