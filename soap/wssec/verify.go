package wssec

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"time"

	"github.com/beevik/etree"
)

// Defaults applied by NewVerifier to zero Config fields.
const (
	DefaultClockSkew     = 60 * time.Second
	DefaultTTL           = 300 * time.Second
	DefaultMaxReferences = 16
)

// Config tunes a Verifier. Zero fields take the defaults above.
type Config struct {
	Trust           Trust            // required
	Now             func() time.Time // injected clock; time.Now when nil
	ClockSkew       time.Duration    // tolerated clock difference; 60 s
	TTL             time.Duration    // maximum message age (now - Created); 300 s
	AllowLegacySHA1 bool             // accept RSA-SHA1/ECDSA-SHA1 and SHA-1 digests
	MinRSABits      int              // smallest RSA key accepted; DefaultMinRSABits (see CheckKey for curves)
	MaxReferences   int              // references per SignedInfo; 16
	ReplayCacheSize int              // signed messages remembered for replay detection; DefaultReplayCacheSize
}

// Verifier checks signed requests. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	replay *replayCache // nil: no replay detection (client side)
	hooks  *workHooks   // tests: see what each verification cost
}

// Result is what verification proved.
type Result struct {
	Client string         // the authenticated client name
	Body   *etree.Element // the verified soap Body element, the one to dispatch from
	// Signed are the elements the signature's references cover (Body and
	// Timestamp among them), in reference order.
	Signed []*etree.Element
	Cert   *x509.Certificate
}

// NewVerifier returns a Verifier for cfg. It panics when cfg.Trust is nil.
func NewVerifier(cfg Config) *Verifier {
	if cfg.Trust == nil {
		panic("wssec: Config.Trust is nil")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxReferences <= 0 {
		cfg.MaxReferences = DefaultMaxReferences
	}
	if cfg.ReplayCacheSize <= 0 {
		cfg.ReplayCacheSize = DefaultReplayCacheSize
	}
	return &Verifier{cfg: cfg, replay: newReplayCache(cfg.ReplayCacheSize)}
}

// Verify checks the envelope doc (already parsed and size/depth/DOCTYPE-checked by package soap) and
// returns the authenticated client and the verified Body. It never modifies doc. Every refusal is an *Error:
// InvalidSecurity (structure, coverage, comments, replay), UnsupportedAlgorithm, FailedCheck (digest or
// signature value), SecurityTokenUnavailable, UnsupportedSecurityToken, InvalidSecurityToken,
// FailedAuthentication (certificate), MessageExpired (timestamp).
func (v *Verifier) Verify(doc *etree.Document) (*Result, error) {
	return v.VerifyContext(context.Background(), doc)
}

// VerifyContext is Verify for a caller that may stop waiting: once ctx is done it abandons the verification
// within a bounded amount of further work (a few thousand elements or bytes, and never an RSA or ECDSA
// operation) and returns ctx.Err() itself, not an *Error.
func (v *Verifier) VerifyContext(ctx context.Context, doc *etree.Document) (*Result, error) {
	w := newWork(ctx)
	if v.hooks != nil {
		w.hook = v.hooks.check
	}
	res, err := v.verify(w, doc, v.cfg.Now())
	if v.hooks != nil && v.hooks.done != nil {
		v.hooks.done(w, err)
	}
	return res, err
}

func (v *Verifier) verify(w *work, doc *etree.Document, now time.Time) (*Result, error) {
	defer w.finish()
	if err := w.check(true); err != nil {
		return nil, err
	}
	env, err := parseEnvelope(doc)
	if err != nil {
		return nil, err
	}
	if err := env.selectSecurity(); err != nil {
		return nil, err
	}
	ids, err := indexIDsIn(env.cursor, env.root, w)
	if err != nil {
		return nil, err
	}
	ts, err := parseTimestamp(env.cursor, env.security)
	if err != nil {
		return nil, err
	}
	if err := ts.check(now, v.cfg.ClockSkew, v.cfg.TTL); err != nil {
		return nil, err
	}
	sig, err := parseSignature(env.cursor, env.security, &v.cfg)
	if err != nil {
		return nil, err
	}
	w.keyText(base64.StdEncoding.EncodedLen(len(sig.value)))
	if err := bindReferences(sig, ids, env, ts); err != nil {
		return nil, err
	}
	kr := keyResolver{trust: v.cfg.Trust, sec: env.security, ids: ids, work: w, ns: env.cursor}
	cert, client, err := kr.resolve(sig.keyInfo)
	if err != nil {
		return nil, err
	}
	if err := v.checkCert(cert, now); err != nil {
		return nil, err
	}
	signedInfoHash, err := v.checkSignatureValue(w, sig, cert)
	if err != nil {
		return nil, err
	}
	for i := range sig.refs {
		if err := w.check(true); err != nil {
			return nil, err
		}
		if err := checkDigest(w, &sig.refs[i], sig); err != nil {
			return nil, err
		}
	}
	if v.replay != nil {
		if err := v.replay.add(replayKey(signedInfoHash), ts.replayExpiry(v.cfg.ClockSkew, v.cfg.TTL), now); err != nil {
			return nil, err
		}
	}
	signed := make([]*etree.Element, len(sig.refs))
	for i := range sig.refs {
		signed[i] = sig.refs[i].target
	}
	return &Result{Client: client, Body: env.body, Cert: cert, Signed: signed}, nil
}

// bindReferences resolves every reference to its element and requires the envelope's own Body and the
// Security header's Timestamp among them.
func bindReferences(sig *signature, ids idIndex, env *envelope, ts *timestamp) error {
	bodySigned, tsSigned := false, false
	for i := range sig.refs {
		r := &sig.refs[i]
		el, ok := ids[r.id]
		if !ok {
			return invalid("reference " + quoteID(r.id) + " not found")
		}
		r.target = el
		bodySigned = bodySigned || el == env.body
		tsSigned = tsSigned || el == ts.el
	}
	switch {
	case !bodySigned:
		return invalid("body is not signed")
	case !tsSigned:
		return invalid("timestamp is not signed")
	}
	return nil
}

var (
	errCertExpired     = newError(FaultFailedAuthentication, "certificate expired")
	errCertNotYetValid = newError(FaultFailedAuthentication, "certificate not yet valid")
	errKeyType         = newError(FaultUnsupportedAlgorithm, "signature algorithm does not match the certificate key")
	errWeakKey         = newError(FaultInvalidSecurityToken, "certificate key is too small")
	errBadSignature    = newError(FaultFailedCheck, "signature verification failed")
)

func (v *Verifier) checkCert(cert *x509.Certificate, now time.Time) error {
	switch {
	case now.After(cert.NotAfter):
		return errCertExpired
	case now.Before(cert.NotBefore):
		return errCertNotYetValid
	}
	return CheckKey(cert.PublicKey, v.cfg.MinRSABits)
}

// checkSignatureValue canonicalizes SignedInfo in place (with its own PrefixList) and verifies the
// SignatureValue with the certificate key. ECDSA values are r||s (XML-DSig 1.1), each exactly the size of
// the curve order, not DER. It returns the SHA-256 of the canonical SignedInfo, the replay cache key.
func (v *Verifier) checkSignatureValue(w *work, sig *signature, cert *x509.Certificate) ([32]byte, error) {
	c14n, err := canonicalBytes(sig.signedInfo, c14nOptions{inclusive: sig.prefixList, strict: true,
		maxBytes: MaxSignedInfoBytes, tooLarge: errSignedInfoTooLarge, work: w, ns: sig.cursor})
	if err != nil {
		return [32]byte{}, err
	}
	if err := w.check(true); err != nil { // the public-key operation is the most expensive single step
		return [32]byte{}, err
	}
	h := sig.method.hash.New()
	w.digestWriter(h).Write(c14n)
	digest := h.Sum(nil)
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if sig.method.ecdsa {
			return [32]byte{}, errKeyType
		}
		if rsa.VerifyPKCS1v15(k, sig.method.hash, digest, sig.value) != nil {
			return [32]byte{}, errBadSignature
		}
	case *ecdsa.PublicKey:
		if !sig.method.ecdsa {
			return [32]byte{}, errKeyType
		}
		n := (k.Curve.Params().N.BitLen() + 7) / 8
		if len(sig.value) != 2*n {
			return [32]byte{}, errBadSignature
		}
		r, s := new(big.Int).SetBytes(sig.value[:n]), new(big.Int).SetBytes(sig.value[n:])
		if !ecdsa.Verify(k, digest, r, s) {
			return [32]byte{}, errBadSignature
		}
	default:
		return [32]byte{}, errKeyType
	}
	return sha256.Sum256(c14n), nil
}

// checkDigest canonicalizes the referenced element (refusing comments and processing instructions inside it)
// and compares its digest. The enveloped-signature transform leaves out the Signature element when the
// reference contains it, and is a no-op otherwise.
func checkDigest(w *work, r *reference, sig *signature) error {
	h := r.digest.hash.New()
	opt := c14nOptions{inclusive: r.prefixList, strict: true, work: w, ns: sig.cursor}
	if r.enveloped {
		opt.exclude = sig.el
	}
	if err := canonicalize(w.digestWriter(h), r.target, opt); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(h.Sum(nil), r.value) != 1 {
		return newError(FaultFailedCheck, "digest mismatch for "+quoteID(r.id))
	}
	return nil
}
