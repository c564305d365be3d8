package wssec

import (
	"crypto"
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Algorithm identifiers not spelled out by goxmldsig.
const (
	algSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	algSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	algSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	algSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

	algEnveloped = string(dsig.EnvelopedSignatureAltorithmId)
	algExcC14N   = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
)

// sigMethod is an accepted SignatureMethod.
type sigMethod struct {
	name   string // for fault reasons
	ecdsa  bool
	hash   crypto.Hash
	legacy bool // SHA-1: only with Config.AllowLegacySHA1
}

var sigMethods = map[string]sigMethod{
	dsig.RSASHA1SignatureMethod:     {name: "rsa-sha1", hash: crypto.SHA1, legacy: true},
	dsig.RSASHA256SignatureMethod:   {name: "rsa-sha256", hash: crypto.SHA256},
	dsig.RSASHA384SignatureMethod:   {name: "rsa-sha384", hash: crypto.SHA384},
	dsig.RSASHA512SignatureMethod:   {name: "rsa-sha512", hash: crypto.SHA512},
	dsig.ECDSASHA1SignatureMethod:   {name: "ecdsa-sha1", ecdsa: true, hash: crypto.SHA1, legacy: true},
	dsig.ECDSASHA256SignatureMethod: {name: "ecdsa-sha256", ecdsa: true, hash: crypto.SHA256},
	dsig.ECDSASHA384SignatureMethod: {name: "ecdsa-sha384", ecdsa: true, hash: crypto.SHA384},
	dsig.ECDSASHA512SignatureMethod: {name: "ecdsa-sha512", ecdsa: true, hash: crypto.SHA512},
}

type digestMethod struct {
	name   string
	hash   crypto.Hash
	legacy bool
}

var digestMethods = map[string]digestMethod{
	algSHA1:   {name: "sha1", hash: crypto.SHA1, legacy: true},
	algSHA256: {name: "sha256", hash: crypto.SHA256},
	algSHA384: {name: "sha384", hash: crypto.SHA384},
	algSHA512: {name: "sha512", hash: crypto.SHA512},
}

// signature is a structurally checked ds:Signature.
type signature struct {
	el         *etree.Element
	signedInfo *etree.Element
	prefixList []string // InclusiveNamespaces of the SignedInfo CanonicalizationMethod
	method     sigMethod
	refs       []reference
	value      []byte
	keyInfo    *etree.Element // nil when absent
	cursor     *nsCursor      // the verification's namespace cursor (nil: none)
}

// reference is one checked ds:Reference.
type reference struct {
	id         string // URI without '#'
	prefixList []string
	enveloped  bool
	digest     digestMethod
	value      []byte
	target     *etree.Element // resolved by the verifier
}

// parseSignature checks the one ds:Signature directly in the Security header: SignedInfo, SignatureValue and
// at most one KeyInfo, in that order and nothing else (no Object, no Manifest).
func parseSignature(cur *nsCursor, sec *etree.Element, cfg *Config) (*signature, error) {
	sigs := cur.childElements(sec, NamespaceDSig, "Signature")
	switch {
	case len(sigs) == 0:
		return nil, invalid("missing signature")
	case len(sigs) > 1:
		return nil, invalid("more than one signature")
	}
	sig := &signature{el: sigs[0], cursor: cur}
	kids := sig.el.ChildElements()
	if len(kids) < 2 || len(kids) > 3 || !cur.is(kids[0], NamespaceDSig, "SignedInfo") || !cur.is(kids[1], NamespaceDSig, "SignatureValue") ||
		(len(kids) == 3 && !cur.is(kids[2], NamespaceDSig, "KeyInfo")) {
		return nil, invalid("signature must contain only SignedInfo, SignatureValue and KeyInfo")
	}
	sig.signedInfo = kids[0]
	if len(kids) == 3 {
		sig.keyInfo = kids[2]
	}
	v, err := decodeBase64(kids[1].Text())
	if err != nil || len(v) == 0 || len(kids[1].ChildElements()) > 0 {
		return nil, invalid("signature value is not base64")
	}
	sig.value = v
	if err := sig.parseSignedInfo(cfg); err != nil {
		return nil, err
	}
	return sig, nil
}

func (sig *signature) parseSignedInfo(cfg *Config) error {
	cur := sig.cursor
	kids := sig.signedInfo.ChildElements()
	if len(kids) < 3 || !cur.is(kids[0], NamespaceDSig, "CanonicalizationMethod") || !cur.is(kids[1], NamespaceDSig, "SignatureMethod") {
		return invalid("SignedInfo must contain CanonicalizationMethod, SignatureMethod and references")
	}
	pl, err := c14nMethod(cur, kids[0])
	if err != nil {
		return err
	}
	sig.prefixList = pl
	alg := kids[1].SelectAttrValue("Algorithm", "")
	m, ok := sigMethods[alg]
	if !ok {
		return newError(FaultUnsupportedAlgorithm, "signature algorithm "+algName(alg)+" is not supported")
	}
	if m.legacy && !cfg.AllowLegacySHA1 {
		return newError(FaultUnsupportedAlgorithm, "signature algorithm "+m.name+" is not allowed: sign with "+
			strings.ToUpper(strings.TrimSuffix(m.name, "sha1"))+"SHA256 (or enable legacy algorithms)")
	}
	if len(kids[1].ChildElements()) > 0 {
		return invalid("SignatureMethod parameters are not allowed")
	}
	sig.method = m
	refs := kids[2:]
	if len(refs) > cfg.MaxReferences {
		return invalid("too many references")
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if !cur.is(r, NamespaceDSig, "Reference") {
			return invalid("SignedInfo must contain CanonicalizationMethod, SignatureMethod and references")
		}
		ref, err := parseReference(cur, r, cfg)
		if err != nil {
			return err
		}
		if seen[ref.id] {
			return invalid("duplicate reference " + quoteID(ref.id))
		}
		seen[ref.id] = true
		sig.refs = append(sig.refs, ref)
	}
	return nil
}

// c14nMethod accepts exclusive c14n without comments only and returns its PrefixList.
func c14nMethod(cur *nsCursor, el *etree.Element) ([]string, error) {
	alg := el.SelectAttrValue("Algorithm", "")
	if alg != algExcC14N {
		return nil, newError(FaultUnsupportedAlgorithm, "canonicalization "+algName(alg)+" is not allowed: use exclusive c14n")
	}
	var prefixes []string
	kids := el.ChildElements()
	for _, k := range kids {
		if !cur.is(k, NamespaceExcC14N, "InclusiveNamespaces") || len(kids) > 1 {
			return nil, invalid("unexpected canonicalization parameters")
		}
		for p := range strings.FieldsSeq(k.SelectAttrValue("PrefixList", "")) {
			if len(prefixes) == maxPrefixList {
				return nil, errPrefixList
			}
			prefixes = append(prefixes, p)
		}
	}
	return prefixes, nil
}

// parseReference checks one Reference: URI "#id"; transforms an optional enveloped-signature then exclusive
// c14n; an accepted digest algorithm; a base64 digest value.
func parseReference(cur *nsCursor, r *etree.Element, cfg *Config) (reference, error) {
	var ref reference
	uri := r.SelectAttr("URI")
	switch {
	case uri == nil || uri.Value == "" || uri.Value == "#":
		return ref, invalid("reference URI must be #id")
	case !strings.HasPrefix(uri.Value, "#"):
		return ref, invalid("external reference URIs are not allowed")
	case strings.HasPrefix(uri.Value, "#xpointer("):
		return ref, invalid("XPointer references are not allowed")
	}
	ref.id = uri.Value[1:]
	kids := r.ChildElements()
	i := 0
	excC14N := false
	if i < len(kids) && cur.is(kids[i], NamespaceDSig, "Transforms") {
		ts := kids[i].ChildElements()
		if len(ts) == 0 || len(ts) > 2 {
			return ref, invalid("reference must be transformed by exclusive c14n")
		}
		for j, t := range ts {
			if !cur.is(t, NamespaceDSig, "Transform") {
				return ref, invalid("unexpected element in Transforms")
			}
			alg := t.SelectAttrValue("Algorithm", "")
			switch {
			case alg == algEnveloped && j == 0 && len(t.ChildElements()) == 0:
				ref.enveloped = true
			case alg == algExcC14N && j == len(ts)-1:
				pl, err := c14nMethod(cur, t)
				if err != nil {
					return ref, err
				}
				ref.prefixList, excC14N = pl, true
			case alg == algEnveloped || alg == algExcC14N:
				return ref, invalid("reference must be transformed by exclusive c14n")
			default:
				return ref, newError(FaultUnsupportedAlgorithm, "transform "+algName(alg)+" is not allowed")
			}
		}
		i++
	}
	if !excC14N {
		// Without an explicit exclusive c14n the node set would be serialized with inclusive c14n.
		return ref, invalid("reference must be transformed by exclusive c14n")
	}
	if i+2 != len(kids) || !cur.is(kids[i], NamespaceDSig, "DigestMethod") || !cur.is(kids[i+1], NamespaceDSig, "DigestValue") {
		return ref, invalid("reference must contain Transforms, DigestMethod and DigestValue")
	}
	alg := kids[i].SelectAttrValue("Algorithm", "")
	dm, ok := digestMethods[alg]
	if !ok {
		return ref, newError(FaultUnsupportedAlgorithm, "digest algorithm "+algName(alg)+" is not supported")
	}
	if dm.legacy && !cfg.AllowLegacySHA1 {
		return ref, newError(FaultUnsupportedAlgorithm, "digest algorithm sha1 is not allowed: use SHA-256 digests (or enable legacy algorithms)")
	}
	ref.digest = dm
	v, err := decodeBase64(kids[i+1].Text())
	if err != nil || len(v) != dm.hash.Size() || len(kids[i+1].ChildElements()) > 0 {
		return ref, invalid("digest value is malformed")
	}
	ref.value = v
	return ref, nil
}

// decodeBase64 decodes base64 that may be folded over lines (XML Schema base64Binary allows white space).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}
