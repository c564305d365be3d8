package wssec

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
)

// Bounds of FuzzVerifyWork: counted work may reach fuzzWorkPerByte units per input byte, plus
// fuzzWorkSlack for the fixed part of a verification. An honest signed request costs about 2 units per byte
// (cost_test.go); a signed element may canonicalize to twice its size (c14nlimit.go), each character then
// hashed, and an empty element <a/> is written <a></a>, so some 10 units per byte are linear and cheap.
// More than that is amplification.
const (
	fuzzWorkPerByte = 12
	fuzzWorkSlack   = 1024
)

// FuzzVerifyWork feeds arbitrary documents to the verifier and fails when one costs more counted work per
// byte than the bound: a superlinear path that a mutation can reach shows up here before a profile shows it.
// The corpus starts from the signed envelopes in testdata/wssec and from every cost family (cost_test.go)
// that is not skipped, at a small size.
func FuzzVerifyWork(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, fam := range costFamilies() {
		if fam.skip == "" {
			f.Add([]byte(fam.build(f, max(1, fam.n/64))))
		}
	}
	reg := testRegistry(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		v := testVerifier(t, func(c *Config) { c.Trust = reg })
		w := newWork(context.Background())
		_, _ = v.verify(w, doc, testNow)
		if limit := int64(fuzzWorkPerByte*len(data) + fuzzWorkSlack); w.total() > limit {
			t.Fatalf("%d bytes cost %v, over the bound of %d", len(data), w, limit)
		}
	})
}
