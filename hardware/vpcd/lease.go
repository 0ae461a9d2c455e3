package vpcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// VirtualReader is one vpcd reader: the TCP port its driver listens on
// and the name PC/SC gives it.
type VirtualReader struct {
	Port int
	Name string
}

// Addr is the loopback address a card dials.
func (v VirtualReader) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(v.Port))
}

// VirtualReaders returns the virtual readers scripts/pcscd-up configures,
// in lease order. This table is the one place the port-to-name mapping is
// recorded; the pcsc package's tests check it against pcscd.
//
// Each vpcd entry in /etc/reader.conf.d serves two slots, on its port and
// the next. Debian's own entry (/etc/reader.conf.d/vpcd, FRIENDLYNAME
// "Virtual PCD", port 0x8C7B) gives "Virtual PCD 00 00" and "... 00 01";
// scripts/pcscd-up adds /etc/reader.conf.d/borderid-vpcd (FRIENDLYNAME
// "Virtual PCD 2", port 0x8C7D). A second entry with the same friendly
// name would give duplicate reader names in pcsc-lite 1.9.9, hence "2".
func VirtualReaders() []VirtualReader {
	return []VirtualReader{
		{35963, "Virtual PCD 00 00"},
		{35964, "Virtual PCD 00 01"},
		{35965, "Virtual PCD 2 00 00"},
		{35966, "Virtual PCD 2 00 01"},
	}
}

// leasePoll is how often Lease retries when every reader is taken.
const leasePoll = 50 * time.Millisecond

// A ReaderLease is the exclusive use of one virtual reader, among all processes
// of the machine that lease through this package (an flock(2) on a file
// per port under os.TempDir()). The lock is released when the process
// ends, so a crashed test never keeps a reader.
type ReaderLease struct {
	Addr   string // host:port for Serve
	Reader string // the PC/SC reader name
	Port   int
	f      *os.File
}

// Lease takes a free virtual reader, waiting until one is free or ctx is
// done. A reader whose port already carries a connection (a card served
// by a process that did not lease) is skipped.
func Lease(ctx context.Context) (*ReaderLease, error) {
	return lease(ctx, VirtualReaders(), portInUse)
}

// lease takes one of readers; inUse says whether a port is occupied by a
// process that does not lease (tests replace it).
func lease(ctx context.Context, readers []VirtualReader, inUse func(port int) bool) (*ReaderLease, error) {
	for {
		for _, v := range readers {
			l, err := tryLease(v, inUse)
			if err != nil {
				return nil, err
			}
			if l != nil {
				return l, nil
			}
		}
		t := time.NewTimer(leasePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("vpcd: lease: all %d virtual readers taken: %w", len(readers), ctx.Err())
		case <-t.C:
		}
	}
}

// lockPath is the lock file of a port.
func lockPath(port int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("borderid-vpcd-%d.lock", port))
}

func tryLease(v VirtualReader, inUse func(port int) bool) (*ReaderLease, error) {
	f, err := os.OpenFile(lockPath(v.Port), os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("vpcd: lease: %w", err)
	}
	// Read-only is enough for flock, and lets a non-root process lock a
	// file root created. flock locks belong to the open file description, so two leases in
	// one process exclude each other as well as leases in other processes.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("vpcd: lease %s: %w", lockPath(v.Port), err)
	}
	// A process that serves a card without leasing (a demo, a stray
	// `borderid chip serve`) would otherwise share the reader with us;
	// skip a port that already carries a connection.
	if inUse(v.Port) {
		f.Close()
		return nil, nil
	}
	return &ReaderLease{Addr: v.Addr(), Reader: v.Name, Port: v.Port, f: f}, nil
}

// Release gives the reader back. Releasing twice is a no-op.
func (l *ReaderLease) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the descriptor drops the flock.
	return f.Close()
}
