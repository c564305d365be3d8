package wssec

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"math/big"
	"time"

	"github.com/beevik/etree"
)

// VerifyResponse is the client side: it checks that doc is signed by serverCert (with the same rules as
// Verifier: Body and Timestamp signed, fresh Timestamp with the default skew and TTL, SHA-2 algorithms) and
// returns the verified Body element. There is no replay cache on this side. Errors are *Error values.
func VerifyResponse(doc *etree.Document, serverCert *x509.Certificate, now time.Time) (*etree.Element, error) {
	v := &Verifier{
		cfg: Config{
			Trust:         pinnedTrust{serverCert},
			ClockSkew:     DefaultClockSkew,
			TTL:           DefaultTTL,
			MaxReferences: DefaultMaxReferences,
		},
	}
	res, err := v.verify(nil, doc, now)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// pinnedTrust accepts exactly one certificate.
type pinnedTrust struct{ cert *x509.Certificate }

const serverName = "server"

var errNotServerCert = newError(FaultFailedAuthentication, "response is not signed by the server certificate")

// ClientForToken compares the bytes: nothing presented is ever parsed.
func (p pinnedTrust) ClientForToken(der []byte) (*x509.Certificate, string, error) {
	if !bytes.Equal(der, p.cert.Raw) {
		return nil, "", errNotServerCert
	}
	return p.cert, serverName, nil
}

func (p pinnedTrust) FindByIssuerSerial(issuer string, serial *big.Int) (*x509.Certificate, string, error) {
	return p.match(dnKey(issuer) == nameKey(p.cert.Issuer) && serial.Cmp(p.cert.SerialNumber) == 0)
}

func (p pinnedTrust) FindBySKI(ski []byte) (*x509.Certificate, string, error) {
	return p.match(len(p.cert.SubjectKeyId) > 0 && bytes.Equal(ski, p.cert.SubjectKeyId))
}

func (p pinnedTrust) FindByThumbprintSHA1(tp []byte) (*x509.Certificate, string, error) {
	sum := sha1.Sum(p.cert.Raw)
	return p.match(bytes.Equal(tp, sum[:]))
}

func (p pinnedTrust) match(ok bool) (*x509.Certificate, string, error) {
	if !ok {
		return nil, "", errNoMatchingCert
	}
	return p.cert, serverName, nil
}
