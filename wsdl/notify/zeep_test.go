package notify_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// zeepListener is a notification listener written with zeep from the served WSDL alone: zeep parses
// each request by the contract and serializes the NotificationsResponse. GET returns what it kept.
const zeepListener = `
import json, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
from lxml import etree
import zeep

client = zeep.Client(sys.argv[1])
op = client.wsdl.bindings['{urn:crmsoap:notifications:v1}NotificationBinding'].get('Notifications')
kept, seen = [], set()

class Listener(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        for n in op.input.deserialize(etree.fromstring(body)):
            if n['notificationId'] in seen:
                continue
            seen.add(n['notificationId'])
            k = {'id': n['notificationId'], 'entity': n['entity'], 'kind': n['kind'], 'version': n['version']}
            if n['customer'] is not None:
                k['state'] = n['customer']['name']
            if n['product'] is not None:
                p = n['product']
                k['state'] = '%s %s %s %d %s' % (p['sku'], p['price']['amount'], p['price']['currency'],
                                                 p['stockQuantity'], p['rating']['average'])
            if n['order'] is not None:
                o = n['order']
                k['state'] = ' '.join(['%s %s' % (o['status'], o['totalAmount']['amount'])] +
                                      ['%d:%s:%d:%s' % (l['lineNo'], l['sku'], l['quantity'], l['lineAmount']['amount'])
                                       for l in o['line']])
            if n['review'] is not None:
                k['state'] = '%d %s' % (n['review']['stars'], n['review']['title'])
            kept.append(k)
        out = etree.tostring(op.output.serialize(ack=True).content)
        self.send_response(200)
        self.send_header('Content-Type', 'text/xml; charset=utf-8')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        out = json.dumps(kept).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)

srv = HTTPServer(('127.0.0.1', 0), Listener)
print(srv.server_port, flush=True)
srv.serve_forever()
`

func TestZeepImplementsAListenerFromTheWSDL(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, with python3-zeep (make test-deps)
	if err := exec.Command(python, "-c", "import zeep").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-zeep is required in CI")
		}
		t.Skip("python3-zeep not installed")
	}
	wsdlSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write(notify.WSDL)
	}))
	defer wsdlSrv.Close()
	cmd := exec.Command(python, "-c", zeepListener, wsdlSrv.URL+"/soap/notifications?wsdl")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("zeep listener did not start: %v", err)
	}
	url := "http://127.0.0.1:" + strings.TrimSpace(line) + "/"

	db := openDB(t)
	feed := writeChanges(t, db, 250)
	more, _ := entityChanges(t, db, feed[len(feed)-1].Seq)
	feed = append(feed, more...)
	addSubscription(t, db, url)
	stop := run(t, db, notify.New(url, nil, nil, 30*time.Second))
	waitCursor(t, db, feed[len(feed)-1].Seq)
	stop()

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var kept []struct {
		ID, Version  int64
		Entity, Kind string
		State        *string
	}
	if err := json.NewDecoder(resp.Body).Decode(&kept); err != nil {
		t.Fatal(err)
	}
	if len(kept) != len(feed) {
		t.Fatalf("zeep listener kept %d notifications, the feed has %d", len(kept), len(feed))
	}
	entities := map[string]int{}
	for i, e := range feed {
		k := kept[i]
		want := zeepState(notify.Of(e))
		if k.ID != e.Seq || k.Version != e.Version || k.Entity != e.Entity || k.Kind != e.Kind ||
			(k.State == nil) != (want == nil) || (k.State != nil && *k.State != *want) {
			t.Fatalf("notification %d: zeep read %+v (state %v), want %+v (state %v)", i, k, deref(k.State), e, deref(want))
		}
		if k.State != nil {
			entities[k.Entity]++
		}
	}
	if entities["product"] != 2 || entities["order"] != 1 || entities["review"] != 1 || entities["customer"] == 0 {
		t.Fatalf("records zeep read by entity: %v", entities)
	}
}

// zeepState is what the zeep listener keeps of a notification's record, or nil for a deletion.
func zeepState(n notify.Notification) *string {
	var s string
	switch {
	case n.Customer != nil:
		s = n.Customer.Name
	case n.Product != nil:
		p := n.Product
		s = fmt.Sprintf("%s %s %s %d %s", p.SKU, p.Price.Amount, p.Price.Currency, p.StockQuantity, p.Rating.Average)
	case n.Order != nil:
		o := n.Order
		s = o.Status + " " + o.TotalAmount.Amount
		for _, l := range o.Line {
			s += fmt.Sprintf(" %d:%s:%d:%s", l.LineNo, l.SKU, l.Quantity, l.LineAmount.Amount)
		}
	case n.Review != nil:
		s = fmt.Sprintf("%d %s", n.Review.Stars, n.Review.Title)
	default:
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
