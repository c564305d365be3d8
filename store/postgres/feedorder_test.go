package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// lateCommitMisses plays the interleaving that breaks a naive feed on two nodes: node A numbers its
// feed entry and stalls before COMMIT; node B writes too; a follower reads the feed and moves its
// cursor to the highest seq it saw; then A commits, and the follower reads on from its cursor. It
// returns the ids of the customers the follower never saw.
func lateCommitMisses(t *testing.T, naive bool) []int64 {
	ctx := context.Background()
	url := pgtest.Database(t)
	nodeA, nodeB, follower := openURL(t, url, Options{}), openURL(t, url, Options{}), openURL(t, url, Options{})
	nodeA.noFeedLock, nodeB.noFeedLock = naive, naive
	stalled, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	nodeA.beforeCommit = func() { once.Do(func() { close(stalled); <-release }) }

	type created struct {
		c   store.Customer
		err error
	}
	doneA, doneB := make(chan created, 1), make(chan created, 1)
	go func() {
		c, err := nodeA.CreateCustomer(ctx, store.Customer{ExternalID: "late", Name: "commits late"})
		doneA <- created{c, err}
	}()
	<-stalled // A has taken its seq and not committed
	go func() {
		c, err := nodeB.CreateCustomer(ctx, store.Customer{ExternalID: "early", Name: "commits early"})
		doneB <- created{c, err}
	}()
	// Wait until B has either committed or is queued behind A for the feed lock.
	raw := rawConn(t, url)
	var b created
	for waiting := 0; waiting == 0; {
		select {
		case b = <-doneB:
			waiting = 1
			continue
		default:
		}
		if err := raw.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}

	seen := map[int64]bool{}
	page, _, err := follower.Feed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	cursor := int64(0)
	for _, e := range page {
		seen[e.ID], cursor = true, e.Seq
	}
	close(release)
	a := <-doneA
	if b.c.ID == 0 {
		b = <-doneB
	}
	if a.err != nil || b.err != nil {
		t.Fatalf("writes: A %v, B %v", a.err, b.err)
	}
	page, _, err = follower.Feed(ctx, cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page {
		seen[e.ID] = true
	}
	var missed []int64
	for _, id := range []int64{a.c.ID, b.c.ID} {
		if !seen[id] {
			missed = append(missed, id)
		}
	}
	return missed
}

// With the feed lock, a change that commits late can never hide below a follower's cursor.
func TestFeedLateCommitSeen(t *testing.T) {
	if missed := lateCommitMisses(t, false); len(missed) > 0 {
		t.Fatalf("the follower missed customers %v", missed)
	}
}

// The same interleaving without the lock (the naive feed) loses the late change: the test above
// would fail without it.
func TestFeedNaiveLosesLateCommit(t *testing.T) {
	if missed := lateCommitMisses(t, true); len(missed) != 1 {
		t.Fatalf("naive feed: the follower missed %v, want exactly the late customer", missed)
	}
}

// A follower of the feed sees the last write of every record, while three nodes create, update and
// delete concurrently.
func TestFeedFollowThreeNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	var nodes []*DB
	for range 3 {
		nodes = append(nodes, openURL(t, url, Options{}))
	}
	follower := openURL(t, url, Options{})
	stop := make(chan struct{})
	type state struct {
		version int64
		deleted bool
	}
	got := map[int64]state{}
	var cursor int64
	follow := func() {
		for {
			page, more, err := follower.Feed(ctx, cursor, 50)
			if err != nil {
				t.Error(err)
				return
			}
			for _, e := range page {
				got[e.ID] = state{e.Version, e.Kind == store.FeedDeleted}
				cursor = e.Seq
			}
			if !more {
				return
			}
		}
	}
	followerDone := make(chan struct{})
	go func() {
		defer close(followerDone)
		for {
			select {
			case <-stop:
				return
			default:
				follow()
			}
		}
	}()
	var wg sync.WaitGroup
	for n, db := range nodes {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 40 {
					c := storetest.FullCustomer()
					c.ExternalID = fmt.Sprintf("n%d-w%d-%d", n, w, i)
					c, err := db.CreateCustomer(ctx, c)
					if err != nil {
						t.Error(err)
						return
					}
					switch rand.IntN(3) {
					case 0:
						c.Name = "changed"
						_, err = db.UpdateCustomer(ctx, c, c.Version)
					case 1:
						err = db.DeleteCustomer(ctx, c.ID, c.Version, c.UpdatedAt, "w")
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(stop)
	<-followerDone
	follow() // the writes are done: read to the end once more
	all, _, err := follower.Feed(ctx, 0, maxFeedPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3*4*40 {
		t.Fatalf("feed has %d entries, want %d", len(all), 3*4*40)
	}
	for _, e := range all {
		if s := got[e.ID]; s.version != e.Version || s.deleted != (e.Kind == store.FeedDeleted) {
			t.Errorf("record %d: follower ended at %+v, feed has version %d %s", e.ID, s, e.Version, e.Kind)
		}
	}
}
