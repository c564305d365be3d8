package main

import "github.com/crmsoap/crmsoap/cmd/internal/keypair"

// Key and PEM file helpers, shared with cmd/crmsoap-bench through internal/keypair.
var (
	newKey          = keypair.New
	selfSigned      = keypair.SelfSigned
	writePEM        = keypair.WritePEM
	readCertificate = keypair.ReadCertificate
	readPrivateKey  = keypair.ReadPrivateKey
)
