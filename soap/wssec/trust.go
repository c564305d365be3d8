package wssec

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"sync/atomic"
	"time"
)

// Trust decides which certificates authenticate which clients.
type Trust interface {
	// ClientForToken resolves the DER bytes of a certificate presented in the message (BinarySecurityToken
	// or X509Certificate) to the parsed certificate and a client name. Implementations look the bytes up
	// among the certificates they trust before parsing anything. It returns *CertificateError when the
	// bytes had to be parsed and are not a certificate, and an *Error with FaultFailedAuthentication when
	// the certificate is not accepted.
	ClientForToken(der []byte) (*x509.Certificate, string, error)
	// FindByIssuerSerial, FindBySKI and FindByThumbprintSHA1 resolve a key identifier to a registered
	// certificate and its client name; they return an *Error with FaultSecurityTokenUnavailable when no
	// registered certificate matches and FaultFailedAuthentication when it is disabled.
	FindByIssuerSerial(issuer string, serial *big.Int) (*x509.Certificate, string, error)
	FindBySKI(ski []byte) (*x509.Certificate, string, error)
	FindByThumbprintSHA1(tp []byte) (*x509.Certificate, string, error)
}

// CertificateError means a presented token is not a parseable X.509 certificate.
type CertificateError struct{ Err error }

func (e *CertificateError) Error() string { return "certificate does not parse: " + e.Err.Error() }
func (e *CertificateError) Unwrap() error { return e.Err }

// RegisteredCert is one client certificate known to the server.
type RegisteredCert struct {
	Name    string
	Cert    *x509.Certificate
	Enabled bool
}

// Registry is an in-memory Trust built from registered client certificates, revoked certificates and,
// optionally, a CA pool. It is safe for concurrent use; Replace and Revoke swap whole sets atomically.
//
// A revoked certificate is refused before anything else, whether it chains to the pool or not. A registered
// certificate authenticates its client whether or not it chains to the pool; a disabled one is refused even
// when it chains. An unregistered certificate is accepted only when it chains to the pool (any or ClientAuth
// extended key usage, digitalSignature key usage); its client name is then its subject (pkix.Name.String()).
// Key identifier forms (issuer/serial, SKI, thumbprint) resolve registered, unrevoked certificates only. Validity
// periods of the message certificate are checked by the Verifier.
//
// Presented tokens are looked up by SHA-256 of their DER first; only a token that is neither registered,
// revoked nor already verified is parsed, and only when there is a pool to verify it against. Only
// certificates that passed the chain check are kept.
type Registry struct {
	// Now is the clock for chain verification; time.Now when nil. Set it before first use.
	Now func() time.Time

	set     atomic.Pointer[registrySet]
	revoked atomic.Pointer[map[[32]byte]struct{}]
	roots   *x509.CertPool
	chains  *trustedCache
}

type registrySet struct {
	byDER    map[[32]byte]RegisteredCert
	byIssuer map[string]RegisteredCert // normalized issuer DN + "|" + serial
	bySKI    map[string]RegisteredCert
	byTP     map[[20]byte]RegisteredCert
}

// NewRegistry returns a Registry of certs; roots may be nil (registered certificates only).
func NewRegistry(certs []RegisteredCert, roots *x509.CertPool) *Registry {
	r := &Registry{roots: roots, chains: newTrustedCache()}
	r.Replace(certs)
	r.Revoke(nil)
	return r
}

// Replace swaps the registered set; lookups in flight see either the old or the new set.
func (r *Registry) Replace(certs []RegisteredCert) {
	s := &registrySet{
		byDER:    map[[32]byte]RegisteredCert{},
		byIssuer: map[string]RegisteredCert{},
		bySKI:    map[string]RegisteredCert{},
		byTP:     map[[20]byte]RegisteredCert{},
	}
	for _, c := range certs {
		if c.Cert == nil {
			continue
		}
		s.byDER[sha256.Sum256(c.Cert.Raw)] = c
		s.byIssuer[issuerSerialKey(nameKey(c.Cert.Issuer), c.Cert.SerialNumber)] = c
		if len(c.Cert.SubjectKeyId) > 0 {
			s.bySKI[string(c.Cert.SubjectKeyId)] = c
		}
		s.byTP[sha1.Sum(c.Cert.Raw)] = c
	}
	r.set.Store(s)
}

// Revoke swaps the set of revoked certificates, given by SHA-256 of their DER. A revoked certificate is
// refused even when it chains to the CA pool or was verified before.
func (r *Registry) Revoke(sums [][32]byte) {
	m := make(map[[32]byte]struct{}, len(sums))
	for _, s := range sums {
		m[s] = struct{}{}
	}
	r.revoked.Store(&m)
}

func (r *Registry) isRevoked(sum [32]byte) bool {
	_, ok := (*r.revoked.Load())[sum]
	return ok
}

func issuerSerialKey(issuer string, serial *big.Int) string {
	return issuer + "|" + serial.String()
}

var (
	errUnknownCert    = newError(FaultFailedAuthentication, "unknown certificate")
	errDisabledCert   = newError(FaultFailedAuthentication, "certificate is disabled")
	errRevokedCert    = newError(FaultFailedAuthentication, "certificate is revoked")
	errNoMatchingCert = newError(FaultSecurityTokenUnavailable, "no registered certificate matches the key identifier")
	errCertKeyUsage   = newError(FaultFailedAuthentication, "certificate key usage does not allow digital signatures")
)

// ClientForToken implements Trust.
func (r *Registry) ClientForToken(der []byte) (*x509.Certificate, string, error) {
	sum := sha256.Sum256(der)
	// Revocation first: before the registered set, the chain cache and any chain verification.
	if r.isRevoked(sum) {
		return nil, "", errRevokedCert
	}
	if c, ok := r.set.Load().byDER[sum]; ok {
		name, err := registered(c)
		if err != nil {
			return nil, "", err
		}
		return c.Cert, name, nil
	}
	if r.roots == nil {
		return nil, "", errUnknownCert
	}
	now := r.now()
	if res, ok := r.chains.get(sum, now); ok {
		return res.cert, res.name, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", &CertificateError{Err: err}
	}
	res, err := r.verifyChain(cert, now)
	if err != nil {
		return nil, "", err
	}
	r.chains.put(sum, res)
	return res.cert, res.name, nil
}

func registered(c RegisteredCert) (string, error) {
	if !c.Enabled {
		return "", errDisabledCert
	}
	return c.Name, nil
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// verifyChain checks cert against the CA pool at now.
func (r *Registry) verifyChain(cert *x509.Certificate, now time.Time) (chainResult, error) {
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return chainResult{}, errCertKeyUsage
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:       r.roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return chainResult{}, wrapError(FaultFailedAuthentication, errUnknownCert.Reason, err)
	}
	res := chainResult{cert: cert, name: cert.Subject.String(), notBefore: cert.NotBefore, notAfter: cert.NotAfter}
	for _, c := range chains[0] {
		if c.NotBefore.After(res.notBefore) {
			res.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(res.notAfter) {
			res.notAfter = c.NotAfter
		}
	}
	return res, nil
}

// FindByIssuerSerial implements Trust. The issuer is compared as a distinguished name, ignoring the
// spelling differences between RFC 2253 writers (spaces, attribute type case, OIDs).
func (r *Registry) FindByIssuerSerial(issuer string, serial *big.Int) (*x509.Certificate, string, error) {
	return r.found(r.set.Load().byIssuer[issuerSerialKey(dnKey(issuer), serial)])
}

// FindBySKI implements Trust.
func (r *Registry) FindBySKI(ski []byte) (*x509.Certificate, string, error) {
	return r.found(r.set.Load().bySKI[string(ski)])
}

// FindByThumbprintSHA1 implements Trust.
func (r *Registry) FindByThumbprintSHA1(tp []byte) (*x509.Certificate, string, error) {
	if len(tp) != sha1.Size {
		return nil, "", errNoMatchingCert
	}
	return r.found(r.set.Load().byTP[[20]byte(tp)])
}

// found answers a key identifier lookup: a registered certificate that is also revoked is refused, as
// it is when presented as a token.
func (r *Registry) found(c RegisteredCert) (*x509.Certificate, string, error) {
	if c.Cert == nil {
		return nil, "", errNoMatchingCert
	}
	if r.isRevoked(sha256.Sum256(c.Cert.Raw)) {
		return nil, "", errRevokedCert
	}
	name, err := registered(c)
	if err != nil {
		return nil, "", err
	}
	return c.Cert, name, nil
}
