package vpcd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxProcNetTCP bounds how much of /proc/net/tcp{,6} is read.
const maxProcNetTCP = 8 << 20

// portInUse reports whether some process (one that did not lease) already
// has a card in the vpcd reader on port: an ESTABLISHED TCP connection
// whose local or remote port is port. Best effort: if the tables cannot be
// read, the port counts as free.
func portInUse(port int) bool {
	want := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		busy := scanTCPTable(io.LimitReader(f, maxProcNetTCP), want)
		f.Close()
		if busy {
			return true
		}
	}
	return false
}

// scanTCPTable looks for an established connection (state 01) with an
// endpoint ending in want (":PPPP", hexadecimal port) in the format of
// /proc/net/tcp: "sl local_address rem_address st ...".
func scanTCPTable(r io.Reader, want string) bool {
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 4 || f[3] != "01" {
			continue
		}
		if strings.HasSuffix(f[1], want) || strings.HasSuffix(f[2], want) {
			return true
		}
	}
	return false
}
