package hsm

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// SoftHSM2 reads its configuration once per process and Open binds the
// process to one home (ErrOtherHome), so every test that opens a token
// runs its body in a fresh process of this test binary with a home of its
// own: the test re-executes itself with -test.run naming it and the
// environment below. Tests therefore do not depend on their order, and
// the parent process opens no token (the benchmarks, which run in the
// parent, have one home for the binary).
const (
	childEnv = "BORDERID_HSM_TEST_CHILD" // the test whose body this process runs
	homeEnv  = "BORDERID_HSM_TEST_HOME"  // its home
	phaseEnv = "BORDERID_HSM_TEST_PHASE" // for tests that run several processes
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// child reports whether this process runs t's body, and with which home
// and phase.
func child(t *testing.T) (home, phase string, ok bool) {
	if os.Getenv(childEnv) != t.Name() {
		return "", "", false
	}
	return os.Getenv(homeEnv), os.Getenv(phaseEnv), true
}

func requireSoftHSM(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		t.Skip("softhsm2-util not installed (Debian package softhsm2)")
	}
	if _, err := ModulePath(); err != nil {
		t.Skip(err)
	}
}

// runChild runs t's body in a new process with home and phase and fails t
// when it does not pass.
func runChild(t *testing.T, home, phase string) {
	t.Helper()
	requireSoftHSM(t)
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), homeEnv+"="+home, phaseEnv+"="+phase)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("%s (phase %q) in its own process: %v\n%s", t.Name(), phase, err, out)
	}
}

// own runs body in a process of its own with a fresh home.
func own(t *testing.T, body func(t *testing.T, home string)) {
	t.Helper()
	if home, _, ok := child(t); ok {
		body(t, home)
		return
	}
	runChild(t, t.TempDir(), "")
}
