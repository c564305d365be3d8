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

Example:
  crmsoap call --key erp.key.pem --cert erp.cert.pem AddCustomer name="Zhang Wei" country=CN
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
	client := wsdl.NewCrmPortType(gowsdlsoap.NewClient(url, gowsdlsoap.WithHTTPClient(doer), gowsdlsoap.WithTimeout(timeout)))
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
		id, err1 := f.int("id")
		ev, err2 := f.int("expectedVersion")
		d, err3 := f.customerData()
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		return c.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: id, ExpectedVersion: ev, Customer: d})
	case "DeleteCustomer":
		id, err1 := f.int("id")
		ev, err2 := f.int("expectedVersion")
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: id, ExpectedVersion: ev})
	}
	return nil, fmt.Errorf("unknown operation %q (want AddCustomer, GetCustomer, UpdateCustomer or DeleteCustomer)", op)
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
