package wssec

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"sync"
	"sync/atomic"
	"time"
)

// Trust decides which certificates authenticate which clients.
type Trust interface {
	// ClientForCert resolves a certificate presented in the message (BinarySecurityToken or X509Certificate)
	// to a client name. It returns an *Error with FaultFailedAuthentication when the certificate is not
	// accepted.
	ClientForCert(cert *x509.Certificate) (name string, err error)
	// FindByIssuerSerial, FindBySKI and FindByThumbprintSHA1 resolve a key identifier to a registered
	// certificate and its client name; they return an *Error with FaultSecurityTokenUnavailable when no
	// registered certificate matches and FaultFailedAuthentication when it is disabled.
	FindByIssuerSerial(issuer string, serial *big.Int) (*x509.Certificate, string, error)
	FindBySKI(ski []byte) (*x509.Certificate, string, error)
	FindByThumbprintSHA1(tp []byte) (*x509.Certificate, string, error)
}

// RegisteredCert is one client certificate known to the server.
type RegisteredCert struct {
	Name    string
	Cert    *x509.Certificate
	Enabled bool
}

// Registry is an in-memory Trust built from registered client certificates and, optionally, a CA pool. It is
// safe for concurrent use; Replace swaps the whole set atomically.
//
// A registered certificate authenticates its client whether or not it chains to the pool; a disabled one is
// refused even when it chains. An unregistered certificate is accepted only when it chains to the pool (any or
// ClientAuth extended key usage, digitalSignature key usage); its client name is then its subject
// (pkix.Name.String()). Key identifier forms (issuer/serial, SKI, thumbprint) resolve registered
// certificates only. Validity periods of the message certificate are checked by the Verifier.
type Registry struct {
	// Now is the clock for chain verification; time.Now when nil. Set it before first use.
	Now func() time.Time

	set   atomic.Pointer[registrySet]
	roots *x509.CertPool

	mu     sync.Mutex
	chains map[[32]byte]chainResult // chain checks by sha256(DER), bounded by maxCachedCerts
}

type registrySet struct {
	byDER    map[[32]byte]RegisteredCert
	byIssuer map[string]RegisteredCert // normalized issuer DN + "|" + serial
	bySKI    map[string]RegisteredCert
	byTP     map[[20]byte]RegisteredCert
}

// chainResult caches one chain verification while the time stays inside [notBefore, notAfter] of the
// shortest-lived chain.
type chainResult struct {
	name                string
	err                 error
	notBefore, notAfter time.Time
}

// maxCachedCerts bounds the certificate caches (parsed tokens, chain checks).
const maxCachedCerts = 1024

// NewRegistry returns a Registry of certs; roots may be nil (registered certificates only).
func NewRegistry(certs []RegisteredCert, roots *x509.CertPool) *Registry {
	r := &Registry{roots: roots, chains: map[[32]byte]chainResult{}}
	r.Replace(certs)
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

func issuerSerialKey(issuer string, serial *big.Int) string {
	return issuer + "|" + serial.String()
}

var (
	errUnknownCert    = newError(FaultFailedAuthentication, "unknown certificate")
	errDisabledCert   = newError(FaultFailedAuthentication, "certificate is disabled")
	errNoMatchingCert = newError(FaultSecurityTokenUnavailable, "no registered certificate matches the key identifier")
	errCertKeyUsage   = newError(FaultFailedAuthentication, "certificate key usage does not allow digital signatures")
	errCertNotTrusted = newError(FaultFailedAuthentication, "certificate is not trusted")
)

// ClientForCert implements Trust.
func (r *Registry) ClientForCert(cert *x509.Certificate) (string, error) {
	sum := sha256.Sum256(cert.Raw)
	if c, ok := r.set.Load().byDER[sum]; ok {
		return registered(c)
	}
	if r.roots == nil {
		return "", errUnknownCert
	}
	return r.chainClient(sum, cert)
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

// chainClient verifies cert against the CA pool, caching the outcome by certificate hash.
func (r *Registry) chainClient(sum [32]byte, cert *x509.Certificate) (string, error) {
	now := r.now()
	r.mu.Lock()
	res, ok := r.chains[sum]
	r.mu.Unlock()
	if ok && !now.Before(res.notBefore) && !now.After(res.notAfter) {
		return res.name, res.err
	}
	res = r.verifyChain(cert, now)
	r.mu.Lock()
	if len(r.chains) >= maxCachedCerts {
		for k := range r.chains {
			delete(r.chains, k)
			break
		}
	}
	r.chains[sum] = res
	r.mu.Unlock()
	return res.name, res.err
}

func (r *Registry) verifyChain(cert *x509.Certificate, now time.Time) chainResult {
	res := chainResult{notBefore: cert.NotBefore, notAfter: cert.NotAfter}
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		res.err = errCertKeyUsage
		return res
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:       r.roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		res.err = wrapError(FaultFailedAuthentication, errUnknownCert.Reason, err)
		// A failed check is retried once the clock passes the leaf's window edge at most; keep it short.
		res.notBefore, res.notAfter = now, now.Add(time.Minute)
		return res
	}
	for _, c := range chains[0] {
		if c.NotBefore.After(res.notBefore) {
			res.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(res.notAfter) {
			res.notAfter = c.NotAfter
		}
	}
	res.name = cert.Subject.String()
	return res
}

// FindByIssuerSerial implements Trust. The issuer is compared as a distinguished name, ignoring the
// spelling differences between RFC 2253 writers (spaces, attribute type case, OIDs).
func (r *Registry) FindByIssuerSerial(issuer string, serial *big.Int) (*x509.Certificate, string, error) {
	return found(r.set.Load().byIssuer[issuerSerialKey(dnKey(issuer), serial)])
}

// FindBySKI implements Trust.
func (r *Registry) FindBySKI(ski []byte) (*x509.Certificate, string, error) {
	return found(r.set.Load().bySKI[string(ski)])
}

// FindByThumbprintSHA1 implements Trust.
func (r *Registry) FindByThumbprintSHA1(tp []byte) (*x509.Certificate, string, error) {
	if len(tp) != sha1.Size {
		return nil, "", errNoMatchingCert
	}
	return found(r.set.Load().byTP[[20]byte(tp)])
}

func found(c RegisteredCert) (*x509.Certificate, string, error) {
	if c.Cert == nil {
		return nil, "", errNoMatchingCert
	}
	name, err := registered(c)
	if err != nil {
		return nil, "", err
	}
	return c.Cert, name, nil
}
