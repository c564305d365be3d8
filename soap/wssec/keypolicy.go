package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
)

// DefaultMinRSABits is the smallest RSA modulus accepted when Config.MinRSABits is zero (NIST SP 800-131A:
// 2048 bits since 2014).
const DefaultMinRSABits = 2048

// allowedCurves are the ECDSA curves accepted for signatures: the NIST curves of XML-DSig 1.1 that Go
// implements in constant time.
var allowedCurves = map[elliptic.Curve]bool{elliptic.P256(): true, elliptic.P384(): true, elliptic.P521(): true}

var (
	errCurve      = newError(FaultInvalidSecurityToken, "certificate key curve is not allowed")
	errKeyTypeBad = newError(FaultInvalidSecurityToken, "certificate key type is not supported")
)

// CheckKey reports whether pub may sign requests: an RSA key of at least minRSABits (DefaultMinRSABits when
// zero or less) or an ECDSA key on P-256, P-384 or P-521. A refusal is an *Error with
// FaultInvalidSecurityToken whose Reason is safe for the wire and whose Err says why, for operators.
func CheckKey(pub crypto.PublicKey, minRSABits int) error {
	if minRSABits <= 0 {
		minRSABits = DefaultMinRSABits
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits {
			return wrapError(errWeakKey.Subcode, errWeakKey.Reason,
				fmt.Errorf("RSA key of %d bits is below the minimum of %d bits", n, minRSABits))
		}
		return nil
	case *ecdsa.PublicKey:
		if !allowedCurves[k.Curve] {
			return wrapError(errCurve.Subcode, errCurve.Reason,
				fmt.Errorf("ECDSA curve %s is not allowed: use P-256, P-384 or P-521", curveName(k.Curve)))
		}
		return nil
	}
	return wrapError(errKeyTypeBad.Subcode, errKeyTypeBad.Reason,
		fmt.Errorf("%T keys are not supported: use RSA or ECDSA", pub))
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil || c.Params().Name == "" {
		return "(unnamed)"
	}
	return c.Params().Name
}
