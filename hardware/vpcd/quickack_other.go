//go:build !linux

package vpcd

import (
	"net"
	"syscall"
)

// ackReader reads from the connection; TCP_QUICKACK exists only on Linux.
type ackReader struct {
	conn     *net.TCPConn
	raw      syscall.RawConn
	quickAck bool
}

func (a *ackReader) Read(p []byte) (int, error) { return a.conn.Read(p) }
