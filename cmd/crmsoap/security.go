package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/crmsoap/crmsoap/soap"
	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
)

// securityConfig is the WS-Security part of serve's configuration.
type securityConfig struct {
	insecureNoAuth  bool
	trustCA         string
	signKey         string
	signCert        string
	clockSkew, ttl  time.Duration
	legacySHA1      bool
	minRSABits      int
	replayCacheSize int
	replayStore     string
	clientsReload   time.Duration
}

func (c *securityConfig) register(e *envFlags) {
	e.Bool(&c.insecureNoAuth, "insecure-no-auth", "CRMSOAP_INSECURE_NO_AUTH", false, "serve WITHOUT signature checks (local development only)")
	e.String(&c.trustCA, "trust-ca", "CRMSOAP_TRUST_CA", "", "PEM file of CA certificates whose client certificates are trusted (name = subject)")
	e.String(&c.signKey, "sign-key", "CRMSOAP_SIGN_KEY", "", "PEM private key to sign every response with")
	e.String(&c.signCert, "sign-cert", "CRMSOAP_SIGN_CERT", "", "PEM certificate of --sign-key")
	e.Duration(&c.clockSkew, "clock-skew", "CRMSOAP_CLOCK_SKEW", 60*time.Second, "tolerated clock difference for Timestamps")
	e.Duration(&c.ttl, "timestamp-ttl", "CRMSOAP_TIMESTAMP_TTL", 300*time.Second, "oldest message accepted (age of its Timestamp Created); also the replay window")
	e.Bool(&c.legacySHA1, "allow-legacy-sha1", "CRMSOAP_ALLOW_LEGACY_SHA1", false, "accept RSA-SHA1 signatures and SHA-1 digests")
	e.Int(&c.minRSABits, "min-rsa-bits", "CRMSOAP_MIN_RSA_BITS", wssec.DefaultMinRSABits, "smallest RSA key accepted for signatures (independent of --allow-legacy-sha1)")
	e.Int(&c.replayCacheSize, "replay-cache-size", "CRMSOAP_REPLAY_CACHE_SIZE", 0, "signatures remembered for replay detection (0: the built-in default)")
	e.String(&c.replayStore, "replay-store", "CRMSOAP_REPLAY_STORE", "db", "where replay records live: db (survives restarts, shared by servers on one database) or memory (this process only)")
	e.Duration(&c.clientsReload, "clients-reload", "CRMSOAP_CLIENTS_RELOAD", 5*time.Second, "how often the client registry is re-read from the database")
}

// newSecurity builds the request verifier (nil with --insecure-no-auth) and the
// response signer (nil without --sign-key), and keeps the client registry in
// step with the database until ctx ends.
func newSecurity(ctx context.Context, c securityConfig, db store.Store, log *slog.Logger) (soap.Security, *wssec.Signer, error) {
	signer, err := responseSigner(c)
	if err != nil {
		return nil, nil, err
	}
	if c.insecureNoAuth {
		log.Warn("INSECURE: serving without WS-Security signature checks (--insecure-no-auth); never do this in production")
		return nil, signer, nil
	}
	if c.replayStore != "db" && c.replayStore != "memory" {
		return nil, nil, fmt.Errorf("--replay-store %q: want db or memory", c.replayStore)
	}
	var roots *x509.CertPool
	if c.trustCA != "" {
		pemBytes, err := os.ReadFile(c.trustCA)
		if err != nil {
			return nil, nil, err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemBytes) {
			return nil, nil, fmt.Errorf("--trust-ca %s: no PEM certificates", c.trustCA)
		}
	}
	certs, revoked, err := clientRegistry(ctx, db, log)
	if err != nil {
		return nil, nil, err
	}
	registry := wssec.NewRegistry(certs, roots)
	registry.Revoke(revoked)
	go reloadClients(ctx, c.clientsReload, db, registry, log)
	if len(certs) == 0 && roots == nil {
		log.Warn("no clients registered: every request will be refused; register one with 'crmsoap clients add'")
	}
	v := wssec.NewVerifier(wssec.Config{
		Trust:           registry,
		Now:             time.Now,
		ClockSkew:       c.clockSkew,
		TTL:             c.ttl,
		AllowLegacySHA1: c.legacySHA1,
		MinRSABits:      c.minRSABits,
		ReplayCacheSize: c.replayCacheSize,
	})
	if c.replayStore == "db" {
		v.PersistReplays(replayStore{db})
		go purgeReplays(ctx, replayPurgeInterval, db, log)
	} else {
		log.Warn("replay records in memory only (--replay-store memory): a message accepted before a restart is accepted again after it, within --timestamp-ttl plus --clock-skew")
	}
	return v.SOAP(), signer, nil
}

func responseSigner(c securityConfig) (*wssec.Signer, error) {
	if c.signKey == "" && c.signCert == "" {
		return nil, nil
	}
	if c.signKey == "" || c.signCert == "" {
		return nil, errors.New("--sign-key and --sign-cert go together")
	}
	key, err := readPrivateKey(c.signKey)
	if err != nil {
		return nil, err
	}
	cert, err := readCertificate(c.signCert)
	if err != nil {
		return nil, err
	}
	return &wssec.Signer{Key: key, Cert: cert, Now: time.Now}, nil
}

// clientRegistry reads the registered clients, then the revoked certificates. In that order: removing a
// client deletes it and revokes its certificate in one transaction, so a reload that sees the client
// gone also sees its revocation (the reverse order could see neither).
func clientRegistry(ctx context.Context, db store.Store, log *slog.Logger) ([]wssec.RegisteredCert, [][32]byte, error) {
	certs, err := registeredCerts(ctx, db, log)
	if err != nil {
		return nil, nil, err
	}
	revs, err := db.ListRevocations(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read revoked certificates: %w", err)
	}
	revoked := make([][32]byte, len(revs))
	for i, r := range revs {
		revoked[i] = r.CertSHA256
	}
	return certs, revoked, nil
}

// registeredCerts reads the client registry; an unparseable certificate is
// skipped with a warning rather than taking the server down.
func registeredCerts(ctx context.Context, db store.ClientStore, log *slog.Logger) ([]wssec.RegisteredCert, error) {
	clients, err := db.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("read client registry: %w", err)
	}
	out := make([]wssec.RegisteredCert, 0, len(clients))
	for _, c := range clients {
		cert, err := x509.ParseCertificate(c.CertDER)
		if err != nil {
			log.Warn("skipping client with an unparseable certificate", "client", c.Name, "err", err)
			continue
		}
		out = append(out, wssec.RegisteredCert{Name: c.Name, Cert: cert, Enabled: c.Enabled})
	}
	return out, nil
}

func reloadClients(ctx context.Context, every time.Duration, db store.Store, r *wssec.Registry, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			certs, revoked, err := clientRegistry(ctx, db, log)
			if err != nil {
				log.Warn("client registry reload failed; keeping the previous set", "err", err)
				continue
			}
			// Revocations first: a removed client is never neither registered nor revoked.
			r.Revoke(revoked)
			r.Replace(certs)
		}
	}
}

// replayStore keeps the verifier's replay records in the database (wssec.ReplayStore).
type replayStore struct{ db store.ReplayStore }

func (s replayStore) Remember(ctx context.Context, key []byte, expires, now time.Time) (bool, error) {
	return s.db.RememberReplay(ctx, key, expires, now)
}

// replayPurgeInterval is how often expired replay records are deleted.
const replayPurgeInterval = time.Minute

func purgeReplays(ctx context.Context, every time.Duration, db store.ReplayStore, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := db.PurgeReplays(ctx, time.Now())
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("purging expired replay records failed", "err", err)
				}
				continue
			}
			log.Debug("purged expired replay records", "deleted", n)
		}
	}
}
