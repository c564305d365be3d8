package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// TestOpen_DatabaseOfSchemaVersion1 opens a database as the releases before the ERP-sync, commerce and push
// migrations wrote it (only 0001, whose file is unchanged since; rows as those releases stored them: a
// customer, its change-log rows, a registered client) and checks that every later migration applies and that
// the old rows serve every new feature.
func TestOpen_DatabaseOfSchemaVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	raw := rawOpen(t, path)
	if _, err := raw.Exec(migrations[0].sql); err != nil {
		t.Fatalf("%s: %v", migrations[0].name, err)
	}
	_, err := raw.Exec(`PRAGMA user_version = 1;
		INSERT INTO customers (id, version, created_at, updated_at, created_by, updated_by, external_id, name, email) VALUES
			(1, 2, '2026-11-01T10:00:00.000000000Z', '2026-11-02T10:00:00.000000000Z', 'erp', 'erp', 'OLD-1', 'Ärger GmbH', 'a@example.com');
		INSERT INTO changes (entity, entity_id, op, version, at, actor) VALUES
			('customer', 1, 'create', 1, '2026-11-01T10:00:00.000000000Z', 'erp'),
			('customer', 1, 'update', 2, '2026-11-02T10:00:00.000000000Z', 'erp');
		INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at) VALUES
			('erp', x'3082', zeroblob(32), 1, '2026-11-01T09:00:00.000000000Z');`)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open of a version-1 database: %v", err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	c, err := db.GetCustomer(ctx, 1)
	if err != nil || c.Name != "Ärger GmbH" || c.Version != 2 || c.ExternalID != "OLD-1" {
		t.Fatalf("old customer after migrating: %+v, %v", c, err)
	}
	if page, err := db.SearchCustomers(ctx, store.CustomerFilter{NameContains: "ärger"}, store.CustomerKey{}, 10); err != nil || len(page) != 1 {
		t.Errorf("search of the old name: %+v, %v", page, err)
	}
	feed, _, err := db.Feed(ctx, 0, 10)
	if err != nil || len(feed) != 1 || feed[0].ID != 1 || feed[0].Version != 2 || feed[0].Actor != "erp" {
		t.Errorf("feed of the old database: %+v, %v", feed, err)
	}
	up, created, err := db.UpsertCustomer(ctx, store.Customer{ExternalID: "OLD-1", Name: "Renamed", UpdatedAt: time.Now()}, 2)
	if err != nil || created || up.ID != 1 || up.Version != 3 {
		t.Errorf("upsert of the old customer by its external id: %+v created %v, %v", up, created, err)
	}
	if clients, err := db.ListClients(ctx); err != nil || len(clients) != 1 || clients[0].Name != "erp" || !clients[0].Enabled {
		t.Errorf("old client after migrating: %+v, %v", clients, err)
	}
	p, err := db.WriteProducts(ctx, []store.ProductOp{{Kind: store.OpAdd, Product: store.Product{SKU: "SKU-1", Name: "Anvil",
		PriceMinor: 1990, Currency: "EUR", StockQuantity: 3, Active: true}}}, true, nil)
	if err != nil || p[0].Err != nil {
		t.Errorf("a product in the migrated database: %+v, %v", p, err)
	}
	if err := db.AddSubscription(ctx, store.Subscription{Name: "erp", SinkKind: "soap", SinkConfig: []byte(`{}`),
		State: store.SubActive, CreatedAt: time.Now()}); err != nil {
		t.Errorf("a subscription in the migrated database: %v", err)
	}
}
