package main

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/crmsoap/crmsoap/cmd/internal/reportsink"
	"github.com/crmsoap/crmsoap/service/push"
	"github.com/crmsoap/crmsoap/store"
)

// defaultReportSchema is the target schema of a postgres sink added without --schema.
const defaultReportSchema = "reporting"

// postgresSink builds the reporting-database sink of s. Its errors never repeat the URL.
func postgresSink(s store.Subscription) (push.Sink, error) {
	var cfg sinkConfig
	if err := json.Unmarshal(s.SinkConfig, &cfg); err != nil {
		return nil, fmt.Errorf("stored sink configuration: %w", err)
	}
	return reportsink.New(cfg.URL, cfg.Schema, s.Name)
}

// checkPostgresSink validates the configuration of a postgres sink (u is cfg.URL parsed) and fills
// in the default schema. Its errors show the URL masked.
func checkPostgresSink(cfg *sinkConfig, u *url.URL) error {
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("--url %q: a reporting database URL must be postgres:// or postgresql://", maskURL(cfg.URL))
	}
	if cfg.Schema == "" {
		cfg.Schema = defaultReportSchema
	}
	if !reportsink.SchemaName.MatchString(cfg.Schema) {
		return fmt.Errorf("--schema %q: use 1 to 63 lower-case letters, digits or '_', not starting with a digit", cfg.Schema)
	}
	s, err := reportsink.New(cfg.URL, cfg.Schema, "check")
	if err != nil {
		return fmt.Errorf("--url %q: %w", maskURL(cfg.URL), err)
	}
	s.Close()
	cfg.Stream = ""
	return nil
}

// maskURL is raw with its password (user info or password parameter) replaced by xxxxx, for output
// and logs.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
