package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// TestBackup_DuringConcurrentWrites takes a backup while four goroutines keep writing: the copy must be
// sound and hold every customer acknowledged before Backup was called.
func TestBackup_DuringConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	if err := db.AddClient(ctx, store.Client{Name: "erp", CertDER: []byte{1, 2, 3}, Enabled: true}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[int64]store.Customer{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprintf("%d-%d", w, i), Name: "客户 ✓"})
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				if i%3 == 0 {
					c.Name = "updated"
					if c, err = db.UpdateCustomer(ctx, c, 1); err != nil {
						t.Errorf("update: %v", err)
						return
					}
				}
				mu.Lock()
				acked[c.ID] = c
				mu.Unlock()
			}
		})
	}
	// Let the writers get going, then snapshot what has been acknowledged so far.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	before := make(map[int64]store.Customer, len(acked))
	for id, c := range acked {
		before[id] = c
	}
	mu.Unlock()

	dst := filepath.Join(t.TempDir(), "backup.db")
	err := db.Backup(ctx, dst)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if _, err := os.Stat(dst + "-wal"); err == nil {
		t.Errorf("backup left a -wal file beside the copy")
	}

	integrityCheck(t, rawOpen(t, dst))
	cp, err := Open(ctx, dst, Options{})
	if err != nil {
		t.Fatalf("opening the copy: %v", err)
	}
	defer cp.Close()
	for id, want := range before {
		got, err := cp.GetCustomer(ctx, id)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("customer %d in the copy = %+v, %v; want %+v", id, got, err, want)
		}
	}
	if cs, err := cp.ListClients(ctx); err != nil || len(cs) != 1 || cs[0].Name != "erp" {
		t.Errorf("clients in the copy: %+v, %v", cs, err)
	}
	// The change log is copied in the same snapshot as the rows it describes.
	var orphans int
	if err := cp.read.QueryRow(`SELECT count(*) FROM customers c WHERE NOT EXISTS
		(SELECT 1 FROM changes WHERE entity = 'customer' AND entity_id = c.id AND version = c.version)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d customers in the copy lack the change row of their version", orphans)
	}
	t.Logf("acknowledged before backup: %d; in the copy: %d", len(before), countRows(t, cp.read, "customers"))
}

func TestBackup_RefusesExistingFile(t *testing.T) {
	db, _ := openTest(t, Options{})
	dst := filepath.Join(t.TempDir(), "precious.db")
	if err := os.WriteFile(dst, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := db.Backup(context.Background(), dst)
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("err = %v, want os.ErrExist", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "keep me" {
		t.Errorf("existing file was changed to %q", b)
	}
}
