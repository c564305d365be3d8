package main

import (
	"crypto/tls"
	"errors"
	"net/http"

	"github.com/crmsoap/crmsoap/soap/wssec"
)

// newClientTransport returns the HTTP client the SDK sends through: plain, or
// signing every request with keyFile/certFile and, with serverCertFile,
// verifying the signature of every response.
func newClientTransport(keyFile, certFile, serverCertFile string) (wssec.HTTPDoer, error) {
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	if keyFile == "" && certFile == "" && serverCertFile == "" {
		return plain, nil
	}
	t := &wssec.ClientTransport{Next: plain}
	if keyFile != "" || certFile != "" {
		if keyFile == "" || certFile == "" {
			return nil, errors.New("--key and --cert go together")
		}
		key, err := readPrivateKey(keyFile)
		if err != nil {
			return nil, err
		}
		cert, err := readCertificate(certFile)
		if err != nil {
			return nil, err
		}
		t.Signer = &wssec.Signer{Key: key, Cert: cert, SignAddressing: true}
	}
	if serverCertFile != "" {
		cert, err := readCertificate(serverCertFile)
		if err != nil {
			return nil, err
		}
		t.ServerCert = cert
	}
	return t, nil
}
