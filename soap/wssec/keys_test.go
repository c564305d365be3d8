package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var genKeys = flag.Bool("genkeys", false, "regenerate the keys and certificates in testdata/wssec/keys")

const keyDir = "../../testdata/wssec/keys"

// testNow is the frozen clock of every test; the test certificates are valid 2020-2120 except "expired".
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type keySpec struct {
	name      string
	ec        bool
	issuer    string // "" for self-signed
	isCA      bool
	notBefore time.Time
	notAfter  time.Time
	serial    int64
}

var (
	longBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	longAfter  = time.Date(2120, 1, 1, 0, 0, 0, 0, time.UTC)
)

// keySpecs are generated in order (issuers first).
var keySpecs = []keySpec{
	{name: "ca", ec: true, isCA: true, notBefore: longBefore, notAfter: longAfter, serial: 1},
	{name: "client-rsa", notBefore: longBefore, notAfter: longAfter, serial: 1001},
	{name: "client-ec", ec: true, notBefore: longBefore, notAfter: longAfter, serial: 1002},
	{name: "client-ca", issuer: "ca", notBefore: longBefore, notAfter: longAfter, serial: 1003},
	{name: "expired", notBefore: longBefore, notAfter: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), serial: 1004},
	{name: "disabled", notBefore: longBefore, notAfter: longAfter, serial: 1005},
	{name: "unregistered", notBefore: longBefore, notAfter: longAfter, serial: 1006},
	{name: "server", notBefore: longBefore, notAfter: longAfter, serial: 1007},
}

// TestGenerateKeys writes the test keys when run with -genkeys; otherwise it checks they are all present.
func TestGenerateKeys(t *testing.T) {
	if !*genKeys {
		for _, s := range keySpecs {
			for _, ext := range []string{".key.pem", ".crt.pem"} {
				if _, err := os.Stat(filepath.Join(keyDir, s.name+ext)); err != nil {
					t.Fatalf("missing test key (run go test -run TestGenerateKeys -genkeys): %v", err)
				}
			}
		}
		return
	}
	if err := os.MkdirAll(keyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	made := map[string]testKey{}
	for _, s := range keySpecs {
		var key crypto.Signer
		var err error
		if s.ec {
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		} else {
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			t.Fatal(err)
		}
		pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		ski := sha1.Sum(pubDER)
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(s.serial),
			Subject:               pkix.Name{CommonName: "crmsoap test " + s.name, Organization: []string{"crmsoap tests"}, Country: []string{"DE"}},
			NotBefore:             s.notBefore,
			NotAfter:              s.notAfter,
			KeyUsage:              x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
			SubjectKeyId:          ski[:],
			BasicConstraintsValid: true,
		}
		parent, signer := tmpl, key
		if s.isCA {
			tmpl.IsCA = true
			tmpl.KeyUsage |= x509.KeyUsageCertSign
			tmpl.ExtKeyUsage = nil
		}
		if s.issuer != "" {
			parent, signer = made[s.issuer].cert, made[s.issuer].key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		made[s.name] = testKey{key: key, cert: cert}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, s.name+".key.pem", "PRIVATE KEY", keyDER)
		writePEM(t, s.name+".crt.pem", "CERTIFICATE", der)
	}
}

func writePEM(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(keyDir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

type testKey struct {
	key      crypto.Signer
	cert     *x509.Certificate
	keyPath  string
	certPath string
}

var (
	keysOnce sync.Once
	keys     map[string]testKey
	keysErr  error
)

// loadKey returns a test key and certificate by name.
func loadKey(tb testing.TB, name string) testKey {
	tb.Helper()
	keysOnce.Do(func() {
		keys = map[string]testKey{}
		for _, s := range keySpecs {
			k := testKey{keyPath: filepath.Join(keyDir, s.name+".key.pem"), certPath: filepath.Join(keyDir, s.name+".crt.pem")}
			kb, err := os.ReadFile(k.keyPath)
			if err != nil {
				keysErr = err
				return
			}
			cb, err := os.ReadFile(k.certPath)
			if err != nil {
				keysErr = err
				return
			}
			kblk, _ := pem.Decode(kb)
			cblk, _ := pem.Decode(cb)
			if kblk == nil || cblk == nil {
				keysErr = os.ErrInvalid
				return
			}
			pk, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
			if err != nil {
				keysErr = err
				return
			}
			k.key = pk.(crypto.Signer)
			if k.cert, err = x509.ParseCertificate(cblk.Bytes); err != nil {
				keysErr = err
				return
			}
			keys[s.name] = k
		}
	})
	if keysErr != nil {
		tb.Fatalf("loading test keys: %v", keysErr)
	}
	k, ok := keys[name]
	if !ok {
		tb.Fatalf("no test key %q", name)
	}
	return k
}
