//go:build !linux

package vpcd

// portInUse cannot tell without Linux's /proc/net/tcp; leases alone decide.
func portInUse(port int) bool { return false }
