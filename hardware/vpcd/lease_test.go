package vpcd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// privateLocks points the lock files at a fresh directory, so these tests
// neither wait for nor block other test processes that lease the real
// readers.
func privateLocks(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
}

func TestLeaseDistinct(t *testing.T) {
	privateLocks(t)
	// Ports in use by other processes are ignored here (TestLeaseSkipsBusy
	// covers them): the count must not depend on what else runs.
	readers := VirtualReaders()
	n := len(readers)
	free := func(int) bool { return false }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var leases []*ReaderLease
	for range n {
		wg.Go(func() {
			l, err := lease(ctx, readers, free)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			leases = append(leases, l)
			mu.Unlock()
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, l := range leases {
		if seen[l.Reader] || seen[l.Addr] {
			t.Errorf("reader %q / %s leased twice", l.Reader, l.Addr)
		}
		seen[l.Reader], seen[l.Addr] = true, true
	}
	if len(leases) != n {
		t.Fatalf("%d leases, want %d", len(leases), n)
	}

	// All taken: the next caller waits until ctx is done...
	short, cancelShort := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancelShort()
	if l, err := lease(short, readers, free); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lease with all taken: %v, %v; want DeadlineExceeded", l, err)
	}
	// ...or until a reader is released.
	got := make(chan *ReaderLease, 1)
	go func() {
		l, err := lease(ctx, readers, free)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	time.Sleep(100 * time.Millisecond)
	freed := leases[0]
	if err := freed.Release(); err != nil {
		t.Fatal(err)
	}
	if err := freed.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	select {
	case l := <-got:
		if l == nil || l.Reader != freed.Reader {
			t.Errorf("after release got %+v, want %q", l, freed.Reader)
		}
		l.Release()
	case <-time.After(2 * time.Second):
		t.Fatal("waiting Lease did not get the released reader")
	}
	for _, l := range leases[1:] {
		l.Release()
	}
}

// TestLeaseAcrossProcesses holds a lease in a child process and checks
// this process gets a different reader.
func TestLeaseAcrossProcesses(t *testing.T) {
	if os.Getenv("BORDERID_LEASE_CHILD") == "1" {
		l, err := Lease(context.Background())
		if err != nil {
			os.Stdout.WriteString("ERR " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("LEASED " + l.Reader + "\n")
		// Hold until the parent closes stdin.
		os.Stdin.Read(make([]byte, 1))
		os.Exit(0)
	}
	privateLocks(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseAcrossProcesses$")
	cmd.Env = append(os.Environ(), "BORDERID_LEASE_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	buf := make([]byte, 200)
	n, _ := out.Read(buf)
	line := strings.TrimSpace(string(buf[:n]))
	child, ok := strings.CutPrefix(line, "LEASED ")
	if !ok {
		t.Fatalf("child: %q", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := Lease(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Reader == child {
		t.Errorf("parent and child both leased %q", child)
	}
}

func TestLeaseSkipsBusy(t *testing.T) {
	privateLocks(t)
	readers := VirtualReaders()
	busy := func(port int) bool { return port != readers[2].Port }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := lease(ctx, readers, busy)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Port != readers[2].Port || l.Reader != readers[2].Name {
		t.Errorf("leased %+v, want the only free reader %+v", l, readers[2])
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := lease(short, readers, busy); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lease: %v, want DeadlineExceeded", err)
	}
}

func TestVirtualReaders(t *testing.T) {
	want := []struct {
		port int
		name string
		addr string
	}{
		{35963, "Virtual PCD 00 00", "127.0.0.1:35963"},
		{35964, "Virtual PCD 00 01", "127.0.0.1:35964"},
		{35965, "Virtual PCD 2 00 00", "127.0.0.1:35965"},
		{35966, "Virtual PCD 2 00 01", "127.0.0.1:35966"},
	}
	got := VirtualReaders()
	if len(got) != len(want) {
		t.Fatalf("%d readers, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Port != w.port || got[i].Name != w.name || got[i].Addr() != w.addr {
			t.Errorf("reader %d = %+v (%s), want %+v", i, got[i], got[i].Addr(), w)
		}
	}
}
