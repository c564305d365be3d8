package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClients(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	at := time.Date(2025, 5, 6, 7, 8, 9, 10, time.UTC)
	bob := Client{Name: "bob-erp", CertDER: []byte{0x30, 0x82, 0x01, 0x00, 0xb0}, Enabled: true, CreatedAt: at}
	alice := Client{Name: "alice-ui", CertDER: []byte{0x30, 0x82, 0x01, 0x00, 0xa1}, Enabled: false, CreatedAt: at.Add(time.Hour)}
	for _, c := range []Client{bob, alice} {
		if err := db.AddClient(ctx, c); err != nil {
			t.Fatalf("AddClient(%s): %v", c.Name, err)
		}
	}

	t.Run("ListOrderedByName", func(t *testing.T) {
		got, err := db.ListClients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Client{alice, bob}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ListClients:\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("Duplicates", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			c      Client
			column string
		}{
			{"SameName", Client{Name: "bob-erp", CertDER: []byte{9, 9, 9}, CreatedAt: at}, "name"},
			{"SameCert", Client{Name: "carol", CertDER: bytes.Clone(alice.CertDER), CreatedAt: at}, "cert"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := db.AddClient(ctx, tt.c)
				var dup *DuplicateError
				if !errors.As(err, &dup) || dup.Column != tt.column {
					t.Fatalf("err = %v, want *DuplicateError{%s}", err, tt.column)
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
		if err := db.SetClientEnabled(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown client: %v, want ErrNotFound", err)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		if err := db.RemoveClient(ctx, "alice-ui", "left", at); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveClient(ctx, "alice-ui", "left", at); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second remove: %v, want ErrNotFound", err)
		}
		got, _ := db.ListClients(ctx)
		if len(got) != 1 || got[0].Name != "bob-erp" {
			t.Fatalf("after remove: %+v", got)
		}
		// Her certificate is revoked with it, and cannot come back under another name.
		if err := db.AddClient(ctx, Client{Name: "alice-2", CertDER: alice.CertDER, CreatedAt: at}); !errors.Is(err, ErrRevoked) {
			t.Fatalf("re-adding a removed certificate: %v, want ErrRevoked", err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if err := db.AddClient(ctx, Client{Name: "", CertDER: []byte{1}}); err == nil {
			t.Error("a client without a name was stored")
		}
		if err := db.AddClient(ctx, Client{Name: "no-cert"}); err == nil {
			t.Error("a client without a certificate was stored")
		}
	})
}

const childEnv = "CRMSOAP_STORE_TEST_CHILD_DB"

// TestClients_ReadableFromAnotherProcess lists the clients from a second OS process while this one
// holds the database open with a write in progress.
func TestClients_ReadableFromAnotherProcess(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		listClientsChild(path)
		return
	}
	ctx := context.Background()
	db, path := openTest(t, Options{})
	for i := range 3 {
		if err := db.AddClient(ctx, Client{Name: fmt.Sprint("client-", i), CertDER: []byte{byte(i + 1)}, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	release := holdWriter(t, db) // the server is mid-transaction
	defer release()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestClients_ReadableFromAnotherProcess$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "CLIENTS client-0,client-1,client-2\n") {
		t.Fatalf("child process output:\n%s", out)
	}
	// Open, list and Close in the child must not wait for the parent's write lock (busy timeout 5s).
	var took time.Duration
	if _, err := fmt.Sscanf(string(out[strings.Index(string(out), "TOOK "):]), "TOOK %d", &took); err != nil || took > 3*time.Second {
		t.Errorf("child took %v (%v) to open, list and close", took, err)
	}
}

func listClientsChild(path string) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	cs, err := db.ListClients(ctx)
	if err != nil {
		fmt.Println("list:", err)
		os.Exit(1)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	fmt.Printf("CLIENTS %s\n", strings.Join(names, ","))
	if err := db.Close(); err != nil {
		fmt.Println("close:", err)
		os.Exit(1)
	}
	fmt.Printf("TOOK %d\n", time.Since(start))
}
