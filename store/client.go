package store

import "time"

// Client is a registered API client (WS-Security X.509). Name is unique; CertDER is the DER
// certificate, also unique.
type Client struct {
	Name      string
	CertDER   []byte
	Enabled   bool
	CreatedAt time.Time
}
