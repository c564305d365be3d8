package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func testClients(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	at := time.Date(2025, 5, 6, 7, 8, 9, 10, time.UTC)
	bob := store.Client{Name: "bob-erp", CertDER: []byte{0x30, 0x82, 0x01, 0x00, 0xb0}, Enabled: true, CreatedAt: at}
	alice := store.Client{Name: "alice-ui", CertDER: []byte{0x30, 0x82, 0x01, 0x00, 0xa1}, Enabled: false, CreatedAt: at.Add(time.Hour)}
	for _, c := range []store.Client{bob, alice} {
		if err := db.AddClient(ctx, c); err != nil {
			t.Fatalf("AddClient(%s): %v", c.Name, err)
		}
	}

	t.Run("ListOrderedByName", func(t *testing.T) {
		got, err := db.ListClients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Client{alice, bob}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ListClients:\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("Duplicates", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			c     store.Client
			field string
		}{
			{"SameName", store.Client{Name: "bob-erp", CertDER: []byte{9, 9, 9}, CreatedAt: at}, "name"},
			{"SameCert", store.Client{Name: "carol", CertDER: bytes.Clone(alice.CertDER), CreatedAt: at}, "cert"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := db.AddClient(ctx, tt.c)
				var dup *store.DuplicateError
				if !errors.As(err, &dup) || dup.Entity != store.EntityClient || dup.Field != tt.field {
					t.Fatalf("err = %v, want *DuplicateError{client %s}", err, tt.field)
				}
			})
		}
	})
	t.Run("Disable", func(t *testing.T) {
		if err := db.SetClientEnabled(ctx, "bob-erp", false); err != nil {
			t.Fatal(err)
		}
		if err := db.SetClientEnabled(ctx, "bob-erp", false); err != nil {
			t.Fatalf("disabling twice: %v", err)
		}
		if err := db.SetClientEnabled(ctx, "alice-ui", true); err != nil {
			t.Fatal(err)
		}
		got, _ := db.ListClients(ctx)
		if len(got) != 2 || !got[0].Enabled || got[1].Enabled {
			t.Fatalf("after toggling: %+v", got)
		}
		if err := db.SetClientEnabled(ctx, "nobody", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown client: %v, want ErrNotFound", err)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		if err := db.RemoveClient(ctx, "alice-ui", "left", at); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveClient(ctx, "alice-ui", "left", at); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second remove: %v, want ErrNotFound", err)
		}
		got, _ := db.ListClients(ctx)
		if len(got) != 1 || got[0].Name != "bob-erp" {
			t.Fatalf("after remove: %+v", got)
		}
		// Her certificate is revoked with it, and cannot come back under another name.
		if err := db.AddClient(ctx, store.Client{Name: "alice-2", CertDER: alice.CertDER, CreatedAt: at}); !errors.Is(err, store.ErrRevoked) {
			t.Fatalf("re-adding a removed certificate: %v, want ErrRevoked", err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if err := db.AddClient(ctx, store.Client{Name: "", CertDER: []byte{1}}); err == nil {
			t.Error("a client without a name was stored")
		}
		if err := db.AddClient(ctx, store.Client{Name: "no-cert"}); err == nil {
			t.Error("a client without a certificate was stored")
		}
	})
}
