package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/crmsoap/crmsoap/store"
)

// A write that fails on the server (an update to a taken external id) in a group of writes that run
// without savepoints makes the group run again with savepoints: the failing write gets its
// DuplicateError, and every other write of the group is stored, in the feed once.
func TestGroupWithServerErrorRerun(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	taken, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "taken", Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	victim, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "victim", Name: "v"})
	if err != nil {
		t.Fatal(err)
	}

	// Hold the writer in the commit of one group while the next group's writes queue up.
	stalled, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.beforeCommit = func() { once.Do(func() { close(stalled); <-release }) }
	first := make(chan error, 1)
	go func() {
		_, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "first", Name: "f"})
		first <- err
	}()
	<-stalled

	const good = 6
	errs := make([]error, good)
	var wg sync.WaitGroup
	for i := range good {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("good-", i), Name: "g"})
		}()
	}
	var dupErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		v := victim
		v.ExternalID = taken.ExternalID
		_, dupErr = db.UpdateCustomer(ctx, v, 0)
	}()
	for len(db.jobs) < good+1 { // every write is queued behind the stalled group
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("good write %d: %v", i, err)
		}
	}
	var dup *store.DuplicateError
	if !errors.As(dupErr, &dup) || dup.Field != "externalId" {
		t.Fatalf("update to a taken external id: %v, want *DuplicateError", dupErr)
	}
	feed, _, err := db.Feed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(feed) != 2+1+good {
		t.Fatalf("feed has %d entries, want %d", len(feed), 2+1+good)
	}
	if got, _ := db.GetCustomer(ctx, victim.ID); got.ExternalID != "victim" || got.Version != 1 {
		t.Errorf("the failed update changed the customer: %+v", got)
	}
	if n := db.stats.reruns.Load(); n != 1 {
		t.Errorf("groups run again with savepoints: %d, want 1", n)
	}
}
