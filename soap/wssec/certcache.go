package wssec

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// certCache keeps parsed certificates by sha256 of their DER so that a client signing every request does not
// cost a certificate parse per request. It holds at most maxCachedCerts entries; beyond that an arbitrary
// entry is dropped.
type certCache struct {
	mu    sync.Mutex
	certs map[[32]byte]*x509.Certificate
}

func newCertCache() *certCache {
	return &certCache{certs: map[[32]byte]*x509.Certificate{}}
}

// parse returns the certificate encoded by der.
func (c *certCache) parse(der []byte) (*x509.Certificate, error) {
	sum := sha256.Sum256(der)
	c.mu.Lock()
	cert, ok := c.certs[sum]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.certs) >= maxCachedCerts {
		for k := range c.certs {
			delete(c.certs, k)
			break
		}
	}
	c.certs[sum] = cert
	c.mu.Unlock()
	return cert, nil
}
