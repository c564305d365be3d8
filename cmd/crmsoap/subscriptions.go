package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

const subscriptionsUsage = `Usage:
  crmsoap subscriptions add    --db PATH --name NAME --sink soap --url https://erp/listener [--entity customer]
  crmsoap subscriptions add    --db PATH --name NAME --sink nats --url nats://host:4222 [--stream CRM] [--entity customer]
  crmsoap subscriptions add    --db PATH --name NAME --sink postgres --url postgres://user:pw@host/db [--schema reporting] [--entity customer]
  crmsoap subscriptions list   --db PATH
  crmsoap subscriptions status --db PATH [NAME]
  crmsoap subscriptions pause  --db PATH NAME
  crmsoap subscriptions resume --db PATH NAME
  crmsoap subscriptions remove --db PATH NAME

A subscription delivers every change of the feed, in the feed's order, to its sink, and
advances its cursor only when the sink acknowledges. A new subscription starts at the
beginning of the feed (every live record). A running server picks up changes within seconds.
`

// sinkConfig is the stored configuration of a subscription's sink.
type sinkConfig struct {
	URL    string `json:"url"`
	Stream string `json:"stream,omitempty"`
	Schema string `json:"schema,omitempty"` // postgres: the target schema
}

var subscriptionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// subscriptionEntities are the entity filters a subscription may carry ("" = every entity).
var subscriptionEntities = map[string]bool{"": true, store.EntityCustomer: true, "product": true, "order": true, "review": true}

// subscriptions manages the push subscriptions in the database.
func (m *Main) subscriptions(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, subscriptionsUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("subscriptions "+args[0], flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, subscriptionsUsage) }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	var dbPath, name, sink, entity string
	var cfg sinkConfig
	e.String(&dbPath, "db", "CRMSOAP_DB", "./crm.db", "SQLite database file")
	fs.StringVar(&name, "name", "", "subscription name (add)")
	fs.StringVar(&sink, "sink", "soap", "sink kind: soap, nats or postgres (add)")
	fs.StringVar(&cfg.URL, "url", "", "listener URL (soap) or NATS server URL (nats) (add)")
	fs.StringVar(&cfg.Stream, "stream", "CRM", "JetStream stream, created if missing (nats)")
	fs.StringVar(&cfg.Schema, "schema", "", "target schema, created if missing (postgres; default "+defaultReportSchema+")")
	fs.StringVar(&entity, "entity", "", "deliver only this entity's changes (default: every entity)")
	if err := e.parse(args[1:]); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	cmd := args[0]
	if cmd != "list" && cmd != "status" && name == "" {
		return fmt.Errorf("subscriptions %s: a subscription name is required", cmd)
	}
	var add store.Subscription
	if cmd == "add" {
		var err error
		if add, err = newSubscription(name, sink, entity, cfg); err != nil {
			return fmt.Errorf("subscriptions add: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	switch cmd {
	case "add":
		err := db.AddSubscription(ctx, add)
		var dup *store.DuplicateError
		if errors.As(err, &dup) {
			return fmt.Errorf("subscriptions add: a subscription named %q exists already", name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "subscription %q added: %s sink %s\n", name, sink, maskURL(cfg.URL))
		return nil
	case "list", "status":
		return m.subscriptionsStatus(ctx, db, name, cmd == "status")
	case "pause", "resume":
		state := map[string]string{"pause": store.SubPaused, "resume": store.SubActive}[cmd]
		if err := db.SetSubscriptionState(ctx, name, state); err != nil {
			return subscriptionErr(name, err)
		}
		fmt.Fprintf(m.Stdout, "subscription %q %sd\n", name, cmd)
		return nil
	case "remove":
		if err := db.RemoveSubscription(ctx, name); err != nil {
			return subscriptionErr(name, err)
		}
		fmt.Fprintf(m.Stdout, "subscription %q removed\n", name)
		return nil
	}
	fmt.Fprint(m.Stderr, subscriptionsUsage)
	return fmt.Errorf("unknown subscriptions command %q", cmd)
}

// newSubscription checks the operator's input and builds the subscription to store.
func newSubscription(name, sink, entity string, cfg sinkConfig) (store.Subscription, error) {
	if !subscriptionName.MatchString(name) {
		return store.Subscription{}, fmt.Errorf("name %q: use 1 to 64 letters, digits, '.', '_' or '-'", name)
	}
	if !subscriptionEntities[entity] {
		return store.Subscription{}, fmt.Errorf("unknown entity %q (customer, product, order or review)", entity)
	}
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || u.Host == "" {
		return store.Subscription{}, fmt.Errorf("--url %q is not an absolute URL", maskURL(cfg.URL))
	}
	switch sink {
	case "soap":
		if u.Scheme != "http" && u.Scheme != "https" {
			return store.Subscription{}, fmt.Errorf("--url %q: a SOAP listener URL must be http or https", cfg.URL)
		}
		cfg.Stream = ""
	case "nats":
		if u.Scheme != "nats" && u.Scheme != "tls" {
			return store.Subscription{}, fmt.Errorf("--url %q: a NATS URL must be nats:// or tls://", cfg.URL)
		}
		if !subscriptionName.MatchString(cfg.Stream) || len(cfg.Stream) > 32 {
			return store.Subscription{}, fmt.Errorf("--stream %q: use letters, digits, '_' or '-'", cfg.Stream)
		}
	case "postgres":
		if err := checkPostgresSink(&cfg, u); err != nil {
			return store.Subscription{}, err
		}
	default:
		return store.Subscription{}, fmt.Errorf("unknown sink %q (soap, nats or postgres)", sink)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return store.Subscription{}, err
	}
	return store.Subscription{Name: name, SinkKind: sink, SinkConfig: raw, Entity: entity,
		State: store.SubActive, CreatedAt: time.Now().UTC()}, nil
}

// subscriptionsStatus prints every subscription (or the one named) with its delivery state and lag.
func (m *Main) subscriptionsStatus(ctx context.Context, db *sqlite.DB, name string, status bool) error {
	var list []store.Subscription
	if name != "" {
		s, err := db.GetSubscription(ctx, name)
		if err != nil {
			return subscriptionErr(name, err)
		}
		list = []store.Subscription{s}
	} else {
		var err error
		if list, err = db.ListSubscriptions(ctx); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	if !status {
		fmt.Fprintln(tw, "NAME\tSTATE\tSINK\tENTITY\tCURSOR")
		for _, s := range list {
			var cfg sinkConfig
			_ = json.Unmarshal(s.SinkConfig, &cfg)
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%d\n", s.Name, s.State, s.SinkKind, maskURL(cfg.URL), orAll(s.Entity), s.Cursor)
		}
		return tw.Flush()
	}
	now := time.Now()
	fmt.Fprintln(tw, "NAME\tSTATE\tCURSOR\tLAG\tLAG SECONDS\tLAST SUCCESS\tLAST ERROR\tERROR AT")
	for _, s := range list {
		n, oldest, err := db.FeedLag(ctx, s.Entity, s.Cursor)
		if err != nil {
			return err
		}
		lagSec := int64(0)
		if !oldest.IsZero() {
			lagSec = int64(now.Sub(oldest).Seconds())
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", s.Name, s.State, s.Cursor, n, lagSec,
			stamp(s.LastSuccess), dashIfEmpty(s.LastError), stamp(s.LastErrorAt))
	}
	return tw.Flush()
}

func orAll(entity string) string {
	if entity == "" {
		return "*"
	}
	return entity
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func subscriptionErr(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no subscription named %q", name)
	}
	return err
}
