package storetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func testCertDER(tb testing.TB, cn string, serial int64) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// testRemoveClientRevokes: removing a client leaves a revocation of its certificate naming the client.
func testRemoveClientRevokes(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	der := testCertDER(t, "warehouse", 77)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := db.AddClient(ctx, store.Client{Name: "warehouse", CertDER: der, Enabled: true, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveClient(ctx, "warehouse", "contract ended", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListRevocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Revocation{{CertSHA256: sha256.Sum256(der), Subject: "CN=warehouse", Issuer: "CN=warehouse", Serial: "77",
		Client: "warehouse", Reason: "contract ended", RevokedAt: at.Add(time.Hour)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListRevocations:\n got %+v\nwant %+v", got, want)
	}
	if cs, _ := db.ListClients(ctx); len(cs) != 0 {
		t.Errorf("clients after remove: %+v", cs)
	}
}

func testRevoke(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	der := testCertDER(t, "never-registered", 9)
	r := store.NewRevocation(der, "key leaked", at)
	if err := db.Revoke(ctx, r); err != nil {
		t.Fatal(err)
	}
	var dup *store.DuplicateError
	if err := db.Revoke(ctx, r); !errors.As(err, &dup) || dup.Entity != store.EntityRevocation || dup.Field != "cert" {
		t.Fatalf("revoking twice: %v, want *DuplicateError{revocation cert}", err)
	}
	if err := db.AddClient(ctx, store.Client{Name: "late", CertDER: der, Enabled: true, CreatedAt: at}); !errors.Is(err, store.ErrRevoked) {
		t.Fatalf("registering a revoked certificate: %v, want ErrRevoked", err)
	}
	// A certificate that does not parse is still revoked by its digest.
	junk := store.NewRevocation([]byte{1, 2, 3}, "", at.Add(time.Second))
	if junk.Subject != "(unparseable)" {
		t.Errorf("subject of an unparseable certificate: %q", junk.Subject)
	}
	if err := db.Revoke(ctx, junk); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListRevocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Revocation{r, junk}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListRevocations:\n got %+v\nwant %+v", got, want)
	}
}
