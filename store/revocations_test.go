package store

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

// TestRemoveClient_Revokes: removing a client leaves a revocation of its certificate, written in the
// same transaction, which survives reopening the file.
func TestRemoveClient_Revokes(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	der := testCertDER(t, "warehouse", 77)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := db.AddClient(ctx, Client{Name: "warehouse", CertDER: der, Enabled: true, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveClient(ctx, "warehouse", "contract ended", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.ListRevocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Revocation{{CertSHA256: sha256.Sum256(der), Subject: "CN=warehouse", Issuer: "CN=warehouse", Serial: "77",
		Client: "warehouse", Reason: "contract ended", RevokedAt: at.Add(time.Hour)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListRevocations:\n got %+v\nwant %+v", got, want)
	}
	if cs, _ := db.ListClients(ctx); len(cs) != 0 {
		t.Errorf("clients after remove: %+v", cs)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	der := testCertDER(t, "never-registered", 9)
	r := NewRevocation(der, "key leaked", at)
	if err := db.Revoke(ctx, r); err != nil {
		t.Fatal(err)
	}
	var dup *DuplicateError
	if err := db.Revoke(ctx, r); !errors.As(err, &dup) || dup.Column != "cert" {
		t.Fatalf("revoking twice: %v, want *DuplicateError{cert}", err)
	}
	if err := db.AddClient(ctx, Client{Name: "late", CertDER: der, Enabled: true, CreatedAt: at}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("registering a revoked certificate: %v, want ErrRevoked", err)
	}
	// A certificate that does not parse is still revoked by its digest.
	junk := NewRevocation([]byte{1, 2, 3}, "", at.Add(time.Second))
	if err := db.Revoke(ctx, junk); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListRevocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Revocation{r, junk}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListRevocations:\n got %+v\nwant %+v", got, want)
	}
	if junk.Subject != "(unparseable)" {
		t.Errorf("subject of an unparseable certificate: %q", junk.Subject)
	}
}
