package vpcd

import (
	"net"
	"syscall"
)

// ackReader re-arms TCP_QUICKACK before every read. Linux clears the flag
// after it has acted, so setting it once is not enough (tcp(7)); without
// it the kernel may delay the ACK of vpcd's first write (the length) and
// vpcd, whose second write (the payload) waits behind Nagle, stalls.
type ackReader struct {
	conn     *net.TCPConn
	raw      syscall.RawConn
	quickAck bool
}

func (a *ackReader) Read(p []byte) (int, error) {
	if a.quickAck {
		// Best effort: a failure only costs latency.
		_ = a.raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return a.conn.Read(p)
}
