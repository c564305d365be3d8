package wssec

import (
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct{ name, key, envelope string }{
		{"RSA2048-SHA256", "client-rsa", soap11Envelope},
		{"ECDSA-P256-SHA256", "client-ec", soap11Envelope},
		{"RSA2048-SHA256-Body1500", "client-rsa", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
			largeBody(1500) + `</soapenv:Body></soapenv:Envelope>`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			doc := parseDoc(b, signed(b, bc.envelope, bc.key))
			v := testVerifier(b, nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(doc); err != nil {
					b.Fatal(err)
				}
				// Forget the signature so the same message verifies again; the cache insert stays measured.
				v.replay.mu.Lock()
				clear(v.replay.seen)
				v.replay.mu.Unlock()
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	for _, key := range []string{"client-rsa", "client-ec"} {
		b.Run(key, func(b *testing.B) {
			s := testSigner(b, key)
			b.ReportAllocs()
			for b.Loop() {
				doc := parseDoc(b, soap11Envelope)
				if err := s.Sign(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
