package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func TestWrite_CancelledBeforeStart(t *testing.T) {
	db, _ := openTest(t, Options{})

	t.Run("AlreadyCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := db.CreateCustomer(ctx, store.Customer{Name: "never"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("CancelledWhileQueued", func(t *testing.T) {
		release := holdWriter(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := db.CreateCustomer(ctx, store.Customer{Name: "never"})
			errc <- err
		}()
		waitQueued(t, db, 1)
		cancel()
		// The caller is answered at once, while the writer is still busy.
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("cancelled caller still waiting behind a busy writer")
		}
		release()
	})

	t.Run("DeadlineWhileQueued", func(t *testing.T) {
		release := holdWriter(t, db)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := db.CreateCustomer(ctx, store.Customer{Name: "never"})
		release()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
	})

	// A later write flushes the writer's queue: the cancelled jobs must not have run.
	if _, err := db.CreateCustomer(context.Background(), store.Customer{Name: "marker"}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db.read, "customers"); n != 1 {
		t.Errorf("customers = %d, want only the marker", n)
	}
	if n := countRows(t, db.read, "changes"); n != 1 {
		t.Errorf("changes = %d, want only the marker's", n)
	}
}

// TestWrite_CancelAfterStartWaitsForCommit: once a job runs, its caller gets the commit's outcome even
// if its ctx ends meanwhile, so a cancelled caller is never told "not done" about a committed write.
func TestWrite_CancelAfterStartWaitsForCommit(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := db.write(ctx, func(jctx context.Context, tx *sql.Tx) error {
		cancel()
		time.Sleep(10 * time.Millisecond) // let the caller see ctx.Done
		if jctx.Err() != nil {
			return errors.New("job context was cancelled with the caller's")
		}
		_, err := tx.ExecContext(jctx, `INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at)
			VALUES ('late', x'01', zeroblob(32), 1, '2025-01-01T00:00:00.000000000Z')`)
		return err
	})
	if err != nil {
		t.Fatalf("write = %v, want nil (it committed)", err)
	}
	if n := countRows(t, db.read, "clients"); n != 1 {
		t.Errorf("clients = %d, want 1", n)
	}
}

// TestWrite_CommitFailureReachesEveryJob makes COMMIT fail with a deferred foreign key violation: every
// job of the group gets the error, none of their writes stays, and the writer carries on.
func TestWrite_CommitFailureReachesEveryJob(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE parent (id INTEGER PRIMARY KEY);
			CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	release := holdWriter(t, db)
	const n = 5
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = db.CreateCustomer(ctx, store.Customer{Name: fmt.Sprint("doomed ", i)})
		})
	}
	wg.Go(func() {
		errs[n] = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO child VALUES (42)`) // checked only at COMMIT
			return err
		})
	})
	waitQueued(t, db, n+1)
	release()
	wg.Wait()

	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "commit") {
			t.Errorf("job %d: err = %v, want the commit error", i, err)
		}
	}
	if c := countRows(t, db.read, "customers"); c != 0 {
		t.Errorf("customers = %d after a failed commit, want 0", c)
	}
	if _, err := db.CreateCustomer(ctx, store.Customer{Name: "after"}); err != nil {
		t.Fatalf("write after a failed commit: %v", err)
	}
}

// TestClose_QueuedJobsFinish: jobs queued when Close is called still commit; later ones get ErrClosed.
func TestClose_QueuedJobsFinish(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	release := holdWriter(t, db)
	const n = 40
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("q", i)})
			ids[i], errs[i] = c.ID, err
		})
	}
	waitQueued(t, db, n)

	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	for {
		db.mu.RLock()
		c := db.closed
		db.mu.RUnlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := db.CreateCustomer(ctx, store.Customer{Name: "too late"}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("create after Close: %v, want ErrClosed", err)
	}
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued create %d: %v", i, err)
		}
	}

	db2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for i, id := range ids {
		if c, err := db2.GetCustomer(ctx, id); err != nil || c.ExternalID != fmt.Sprint("q", i) {
			t.Errorf("customer %d after reopen: %+v, %v", id, c, err)
		}
	}
	if c := countRows(t, db2.read, "customers"); c != n {
		t.Errorf("customers after reopen = %d, want %d", c, n)
	}
}

// TestClose_DuringWrites closes while 8 goroutines write flat out: every write is either acknowledged
// and found after reopening, or refused with ErrClosed and absent.
func TestClose_DuringWrites(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	var mu sync.Mutex
	var acked []int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				c, err := db.CreateCustomer(ctx, store.Customer{Name: fmt.Sprintf("%d/%d", w, i)})
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, c.ID)
				mu.Unlock()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	db2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before Close")
	}
	if c := countRows(t, db2.read, "customers"); c != len(acked) {
		t.Errorf("customers after reopen = %d, acknowledged %d", c, len(acked))
	}
	for _, id := range acked {
		if _, err := db2.GetCustomer(ctx, id); err != nil {
			t.Errorf("acknowledged customer %d: %v", id, err)
		}
	}
	integrityCheck(t, db2.read)
}

// TestWrite_GroupCap: 10 writes queued behind a held writer with MaxBatch 4 never share a commit by more than 4.
func TestWrite_GroupCap(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{MaxBatch: 4})
	release := holdWriter(t, db)
	before := db.stats.groups.Load()

	var wg sync.WaitGroup
	var queued int
	for i := range 10 {
		// Queue them one by one: the channel holds MaxBatch jobs, the rest wait to send.
		wg.Go(func() {
			if _, err := db.CreateCustomer(ctx, store.Customer{Name: fmt.Sprint(i)}); err != nil {
				t.Errorf("create %d: %v", i, err)
			}
		})
		if queued < 4 {
			queued++
			waitQueued(t, db, queued)
		}
	}
	release()
	wg.Wait()
	// At least 3: no group may exceed 4. (Exactly 3 when every sender is already waiting at release.)
	if g := db.stats.groups.Load() - before - 1; g < 3 {
		t.Errorf("10 queued writes took %d commits with MaxBatch 4, want at least 3", g)
	}
	if n := countRows(t, db.read, "customers"); n != 10 {
		t.Errorf("customers = %d, want 10", n)
	}
}

// TestWrite_FailedJobRollsBackOnlyItself: a job that wrote and then failed leaves nothing behind, while
// the jobs around it in the same transaction commit.
func TestWrite_FailedJobRollsBackOnlyItself(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	release := holdWriter(t, db)
	before := db.stats.groups.Load()
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, fn := range []writeFunc{insertClient("a", false), insertClient("b", true), insertClient("c", false)} {
		wg.Go(func() { errs[i] = db.write(ctx, fn) })
		waitQueued(t, db, i+1)
	}
	release()
	wg.Wait()
	if errs[0] != nil || !errors.Is(errs[1], errBoom) || errs[2] != nil {
		t.Fatalf("errors = %v, want [nil boom nil]", errs)
	}
	if g := db.stats.groups.Load() - before; g != 2 {
		t.Errorf("%d commits, want 2 (the holding job, then the three together)", g)
	}
	cs, err := db.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "a" || cs[1].Name != "c" {
		t.Errorf("clients = %+v, want a and c", cs)
	}
}

// TestWrite_AloneJobsCommitApart: jobs queued with writeAlone each get a transaction of their own (a
// failing one leaves nothing behind), the plain jobs queued beside them share one, and every caller
// gets its own outcome.
func TestWrite_AloneJobsCommitApart(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	release := holdWriter(t, db)
	before := db.stats.groups.Load()
	type queued struct {
		fn    writeFunc
		alone bool
	}
	jobs := []queued{{insertClient("a", false), false}, {insertClient("b", true), true}, {insertClient("c", false), false},
		{insertClient("d", false), true}, {insertClient("e", true), false}}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, q := range jobs {
		wg.Go(func() {
			if q.alone {
				errs[i] = db.writeAlone(ctx, q.fn)
			} else {
				errs[i] = db.write(ctx, q.fn)
			}
		})
		waitQueued(t, db, i+1)
	}
	release()
	wg.Wait()
	if errs[0] != nil || !errors.Is(errs[1], errBoom) || errs[2] != nil || errs[3] != nil || !errors.Is(errs[4], errBoom) {
		t.Fatalf("errors = %v, want [nil boom nil nil boom]", errs)
	}
	if g, j := db.stats.groups.Load()-before, db.stats.jobs.Load(); g != 4 {
		t.Errorf("%d transactions (%d jobs in all), want 4: the holding job, a, c and e together, b and d alone", g, j)
	}
	cs, err := db.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "a,c,d" {
		t.Errorf("clients = %s, want a,c,d", got)
	}
}

var errBoom = errors.New("boom")

// insertClient is a job that inserts the client name and then, when fail is set, fails with errBoom.
func insertClient(name string, fail bool) writeFunc {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at)
			VALUES (?, x'01', randomblob(32), 1, '2025-01-01T00:00:00.000000000Z')`, name)
		if err == nil && fail {
			return errBoom
		}
		return err
	}
}
