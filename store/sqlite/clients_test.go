package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

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
		if err := db.AddClient(ctx, store.Client{Name: fmt.Sprint("client-", i), CertDER: []byte{byte(i + 1)}, Enabled: true}); err != nil {
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
