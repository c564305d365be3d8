package wssec

import (
	"crypto/x509"
	"sync"
	"time"
)

// trustedCache keeps certificates that passed a chain check, by SHA-256 of their DER, so that a CA-issued
// client signing every request costs neither a certificate parse nor a chain verification per request. Only
// verified certificates enter it: an attacker who cannot get a certificate from the CA cannot fill it. It
// holds at most maxCachedCerts entries; beyond that an arbitrary entry is dropped.
type trustedCache struct {
	mu    sync.Mutex
	certs map[[32]byte]chainResult
}

// chainResult is one successful chain verification, valid while the time stays inside
// [notBefore, notAfter] of the shortest-lived certificate of the chain.
type chainResult struct {
	cert                *x509.Certificate
	name                string
	notBefore, notAfter time.Time
}

// maxCachedCerts bounds the cache of chain-verified certificates.
const maxCachedCerts = 1024

func newTrustedCache() *trustedCache {
	return &trustedCache{certs: map[[32]byte]chainResult{}}
}

// get returns the entry for sum when it is still valid at now.
func (c *trustedCache) get(sum [32]byte, now time.Time) (chainResult, bool) {
	c.mu.Lock()
	res, ok := c.certs[sum]
	c.mu.Unlock()
	if !ok || now.Before(res.notBefore) || now.After(res.notAfter) {
		return chainResult{}, false
	}
	return res, true
}

func (c *trustedCache) put(sum [32]byte, res chainResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.certs[sum]; !ok && len(c.certs) >= maxCachedCerts {
		for k := range c.certs {
			delete(c.certs, k)
			break
		}
	}
	c.certs[sum] = res
}

func (c *trustedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.certs)
}
