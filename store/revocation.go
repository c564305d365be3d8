package store

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"time"
)

// ErrRevoked means the certificate is revoked: it cannot be registered again.
var ErrRevoked = errors.New("store: certificate is revoked")

// EntityRevocation is the entity of a *DuplicateError for a certificate revoked already (Field "cert").
const EntityRevocation = "revocation"

// Revocation is a revoked client certificate. CertSHA256 identifies it; Subject, Issuer and Serial are
// read from the certificate for display ("(unparseable)" when it does not parse). Client is the name it
// was registered under when RemoveClient revoked it, empty otherwise.
type Revocation struct {
	CertSHA256 [32]byte
	Subject    string
	Issuer     string
	Serial     string
	Client     string
	Reason     string
	RevokedAt  time.Time
}

// NewRevocation describes the certificate der revoked at at for reason.
func NewRevocation(der []byte, reason string, at time.Time) Revocation {
	r := Revocation{CertSHA256: sha256.Sum256(der), Subject: "(unparseable)", Issuer: "(unparseable)",
		Reason: reason, RevokedAt: at}
	if cert, err := x509.ParseCertificate(der); err == nil {
		r.Subject, r.Issuer, r.Serial = cert.Subject.String(), cert.Issuer.String(), cert.SerialNumber.String()
	}
	return r
}

// RevocationStore keeps revoked client certificates. A revocation is never deleted. Removing a client
// (ClientStore.RemoveClient) revokes its certificate in the same transaction, and AddClient refuses a
// revoked certificate with ErrRevoked.
type RevocationStore interface {
	// Revoke records r. Errors: *DuplicateError{Entity: EntityRevocation, Field: "cert"} when the
	// certificate is revoked already.
	Revoke(ctx context.Context, r Revocation) error
	// ListRevocations returns every revoked certificate, oldest revocation first.
	ListRevocations(ctx context.Context) ([]Revocation, error)
}
