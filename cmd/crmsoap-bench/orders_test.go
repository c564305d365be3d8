package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRun_Orders runs the order scenarios at small sizes against a real child server: both rows
// are there with requests and no errors, and the contended run's note says that the stock removed
// equals the quantities ordered. It asserts nothing about speed.
func TestRun_Orders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for several seconds")
	}
	if !serveHas(serverBin, "insecure-no-auth")["insecure-no-auth"] {
		t.Skip("this crmsoap serve does not check signatures")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, benchBin, "--scenarios", "order-signed,order-contended-signed",
		"--customers", "20", "--conns", "6", "--duration", "500ms", "--warmup", "200ms")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("crmsoap-bench: %v\n%s", err, errOut.String())
	}
	report := out.String()
	rows := tableRows(t, report)
	for _, title := range []string{"PlaceOrder signed, 5 lines over 1000 products (durable)",
		"PlaceOrder signed, 5 lines from the same 10 products"} {
		cells, ok := rows[title]
		if !ok {
			t.Errorf("no row %q in\n%s", title, report)
			continue
		}
		rate, _ := strconv.ParseFloat(cells[2], 64)
		if rate <= 0 || cells[7] != "0" {
			t.Errorf("%s: %s req/s, %s errors; want requests, no errors\n%s\n%s", title, cells[2], cells[7], report, errOut.String())
		}
	}
	m := regexp.MustCompile(`no lost update: (\w+) \(stock removed .*: (\d+); quantities of the (\d+) orders placed, warm-up included: (\d+)\)`).
		FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no lost-update note in\n%s", report)
	}
	removed, _ := strconv.Atoi(m[2])
	orders, _ := strconv.Atoi(m[3])
	ordered, _ := strconv.Atoi(m[4])
	if m[1] != "yes" || removed != ordered || ordered != 5*orders || orders == 0 {
		t.Errorf("lost-update note %q: want yes, removed == ordered == 5 × orders > 0", m[0])
	}
}

// TestPlaceOrder: every order has 5 lines of distinct products of the list, quantity 1 each.
func TestPlaceOrder(t *testing.T) {
	products := []int64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	for i := range 7 {
		body := string(placeOrder(3, products, i).body)
		if !strings.Contains(body, "<crm:customerId>3</crm:customerId>") {
			t.Fatalf("order %d: no customerId 3: %s", i, body)
		}
		ids := regexp.MustCompile(`<crm:productId>(\d+)</crm:productId><crm:quantity>1</crm:quantity>`).FindAllStringSubmatch(body, -1)
		seen := map[string]bool{}
		for _, id := range ids {
			n, _ := strconv.Atoi(id[1])
			if seen[id[1]] || n < 11 || n > 20 {
				t.Errorf("order %d: product %s repeated or not in the list", i, id[1])
			}
			seen[id[1]] = true
		}
		if len(ids) != 5 {
			t.Errorf("order %d: %d lines of quantity 1, want 5: %s", i, len(ids), body)
		}
	}
}
