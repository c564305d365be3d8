package wssec

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// zeepScript runs a batch of jobs (one Python start-up costs over a second): "sign" signs an envelope with
// zeep.wsse.signature.Signature, after adding the wsu:Timestamp a zeep user must add; "verify" checks one with
// zeep.wsse.signature.verify_envelope.
const zeepScript = `
import json, sys
from lxml import etree
import xmlsec
from zeep.wsse.signature import Signature, verify_envelope
from zeep.wsse.utils import get_security_header
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
results = []
for job in json.load(sys.stdin):
    try:
        env = etree.fromstring(job["xml"].encode())
        if job["op"] == "sign":
            ts = etree.SubElement(get_security_header(env), "{%s}Timestamp" % WSU)
            etree.SubElement(ts, "{%s}Created" % WSU).text = "2026-03-01T12:00:00Z"
            etree.SubElement(ts, "{%s}Expires" % WSU).text = "2026-03-01T12:05:00Z"
            kw = {}
            if job["alg"] == "sha256":
                kw = dict(signature_method=xmlsec.constants.TransformRsaSha256, digest_method=xmlsec.constants.TransformSha256)
            Signature(job["key"], job["cert"], **kw).apply(env, {})
            results.append({"out": etree.tostring(env).decode()})
        else:
            verify_envelope(env, job["cert"])
            results.append({"out": "verified"})
    except Exception as e:
        results.append({"err": repr(e)})
json.dump(results, sys.stdout)
`

type zeepJob struct {
	Op   string `json:"op"`
	XML  string `json:"xml"`
	Key  string `json:"key,omitempty"`
	Cert string `json:"cert"`
	Alg  string `json:"alg,omitempty"`
}

type zeepResult struct {
	Out string `json:"out"`
	Err string `json:"err"`
}

// zeep runs jobs with Debian's python3 (python3-zeep, python3-xmlsec).
func zeep(tb testing.TB, jobs []zeepJob) []zeepResult {
	tb.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import zeep, xmlsec").Run(); err != nil {
		requireTool(tb, "python3-zeep and python3-xmlsec for /usr/bin/python3")
	}
	in, _ := json.Marshal(jobs)
	cmd := exec.Command(python, "-c", zeepScript)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("zeep: %v", err)
	}
	var res []zeepResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(jobs) {
		tb.Fatalf("zeep output: %v\n%s", err, out)
	}
	return res
}

func TestZeep_SignedByZeep(t *testing.T) {
	t.Parallel()
	k := loadKey(t, "client-rsa")
	tests := []struct {
		name, alg string
		legacy    bool
		subcode   string
		reason    string
	}{
		{name: "SHA256", alg: "sha256"},
		{name: "DefaultRSASHA1", alg: "default", subcode: "UnsupportedAlgorithm",
			reason: "signature algorithm rsa-sha1 is not allowed: sign with RSA-SHA256 (or enable legacy algorithms)"},
		{name: "DefaultRSASHA1WithLegacyFlag", alg: "default", legacy: true},
	}
	var jobs []zeepJob
	for _, tt := range tests {
		jobs = append(jobs, zeepJob{Op: "sign", XML: soap11Envelope, Key: k.keyPath, Cert: k.certPath, Alg: tt.alg})
	}
	results := zeep(t, jobs)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if results[i].Err != "" {
				t.Fatalf("zeep sign: %s", results[i].Err)
			}
			res, err := testVerifier(t, func(c *Config) { c.AllowLegacySHA1 = tt.legacy }).Verify(parseDoc(t, results[i].Out))
			if tt.subcode != "" {
				wantFault(t, err, tt.subcode, tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("Verify of a zeep signature: %v\n%s", err, results[i].Out)
			}
			if res.Client != "acme-rsa" {
				t.Errorf("client = %q, want acme-rsa", res.Client)
			}
		})
	}
}

func TestZeep_VerifiesOurResponses(t *testing.T) {
	t.Parallel()
	server, other := loadKey(t, "server"), loadKey(t, "client-rsa")
	var jobs []zeepJob
	for _, env := range []string{soap11Envelope, soap12Envelope} {
		text := signed(t, env, "server")
		jobs = append(jobs, zeepJob{Op: "verify", XML: text, Cert: server.certPath}, zeepJob{Op: "verify", XML: text, Cert: other.certPath})
	}
	results := zeep(t, jobs)
	for i := 0; i < len(results); i += 2 {
		if results[i].Err != "" {
			t.Errorf("zeep refused our signature: %s\n%s", results[i].Err, jobs[i].XML)
		}
		if results[i+1].Err == "" {
			t.Error("zeep accepted our signature with the wrong certificate")
		}
	}
}
