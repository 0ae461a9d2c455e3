package main

import (
	"context"
	"fmt"
	"time"

	"borderid/db"
	"borderid/enrol"
	"borderid/enrol/chipstore"
	"borderid/internal/hsm"
)

const keysUsage = `keys rotate [--destroy-old] [--home DIR]
       borderid keys list [--home DIR]

rotate  makes a new key-encryption key (kek-vN+1) in the HSM and rewraps
        every data key under it: biometric records (page by page, one
        transaction each, audited) and issued chip identities (one atomic
        file replace each). Ciphertexts are not touched and the service keeps
        running: records open under whichever version wraps them at the
        moment (a running service picks up the new version within a second;
        rotate waits that out before it rewraps). --destroy-old then holds
        the fence every sealing transaction takes (uploads and issuance wait
        for a moment), makes a last pass, checks that no live record and no
        chip is left under an older version, and only then destroys the older
        KEK versions in the HSM; from that moment copies of old wrapped keys
        (dead tuples, WAL, backups, erased records) are unreadable.
list    the keys in the HSM with their PKCS#11 protection attributes`

// cmdKeys is `borderid keys rotate|list` (issue 5, item 4).
func cmdKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", keysUsage)
		return usagef("a keys subcommand is needed: rotate or list")
	}
	sub := args[0]
	switch sub {
	case "rotate", "list":
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "usage: borderid %s\n", keysUsage)
		return nil
	default:
		return usagef("unknown keys subcommand %q (rotate, list)", sub)
	}
	fs := newFlagSet(e, "keys "+sub, keysUsage)
	homeF := homeFlag(fs)
	destroy := fs.Bool("destroy-old", false, "after rewrapping, destroy the older KEK versions")
	home, err := parseHome(e, fs, homeF, args[1:])
	if err != nil {
		return err
	}
	if sub == "list" {
		return keysList(ctx, e, home)
	}
	st, err := openState(ctx, home)
	if err != nil {
		return err
	}
	defer st.Close()
	versions, err := st.tok.KEKVersions()
	if err != nil {
		return err
	}
	next := 1
	if len(versions) > 0 {
		next = versions[len(versions)-1] + 1
	}
	if _, err := st.tok.EnsureKEK(next); err != nil {
		return fmt.Errorf("new KEK version %d: %w", next, err)
	}
	fmt.Fprintf(e.stdout, "hsm: generated kek-v%d\n", next)
	// Rotation runs as borderid_rotator, the one database role that may
	// read every office's biometric rows and rewrap them (migration 0008).
	rot, err := db.Open(ctx, st.cluster, db.Rotator)
	if err != nil {
		return err
	}
	defer rot.Close()
	svc, err := st.serviceOn(e, rot)
	if err != nil {
		return err
	}
	// A running service notices the new version within hsm.KEKCacheTTL;
	// records it wraps until then are under the old one. Wait that out
	// before the pass, and make a second pass before destroying anything.
	if err := sleepCtx(ctx, hsm.KEKCacheTTL+time.Second); err != nil {
		return err
	}
	n, chips, err := rewrapEverything(ctx, st, svc, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rewrapped %d biometric records and %d issued chip identities under kek-v%d\n", n, chips, next)
	if !*destroy {
		if err := svc.Checkpoint(ctx); err != nil {
			return err
		}
		if len(versions) > 0 {
			fmt.Fprintf(e.stdout, "older versions %v are still in the HSM: run keys rotate --destroy-old when backups made under them may become unreadable\n", versions)
		}
		return nil
	}
	// Destroying is final: take the fence every sealing transaction holds
	// shared (db.KEKFenceShared), so none is between sealing under an old
	// version and committing; make the last pass; destroy only when no
	// live record and no chip is left under an older version.
	release, err := db.KEKFence(ctx, rot)
	if err != nil {
		return err
	}
	defer release()
	if n, chips, err = rewrapEverything(ctx, st, svc, next); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "last pass: rewrapped %d biometric records and %d issued chip identities under kek-v%d\n", n, chips, next)
	left, err := svc.LiveRecordsBelow(ctx, next)
	if err != nil {
		return err
	}
	if left > 0 {
		return fmt.Errorf("%d biometric records are still under an older KEK: nothing destroyed (run keys rotate again)", left)
	}
	ids, err := chipstore.List(st.home)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if v, err := chipstore.KEKVersion(st.home, id); err != nil || v != next {
			return fmt.Errorf("issued chip %s is not under kek-v%d (%v): nothing destroyed", id, next, err)
		}
	}
	if err := svc.Checkpoint(ctx); err != nil {
		return err
	}
	for _, v := range versions {
		if err := st.tok.DestroyKEK(v); err != nil {
			return fmt.Errorf("destroying kek-v%d: %w", v, err)
		}
		fmt.Fprintf(e.stdout, "hsm: destroyed kek-v%d\n", v)
	}
	return nil
}

// rewrapEverything moves every biometric record and every issued chip
// identity to KEK version next.
func rewrapEverything(ctx context.Context, st *state, svc *enrol.Core, next int) (records, chips int, err error) {
	records, err = svc.RewrapAll(ctx, "borderid keys rotate")
	if err != nil {
		return records, 0, fmt.Errorf("rewrapping biometric records (%d done; run again to finish): %w", records, err)
	}
	ids, err := chipstore.List(st.home)
	if err != nil {
		return records, 0, err
	}
	for _, id := range ids {
		v, err := chipstore.KEKVersion(st.home, id)
		if err != nil {
			return records, chips, err
		}
		if v == next {
			continue
		}
		if err := chipstore.Rewrap(ctx, st.home, id, st.tok.KeyWrapper()); err != nil {
			return records, chips, fmt.Errorf("chip %s (%d chips done; run again to finish): %w", id, chips, err)
		}
		chips++
	}
	return records, chips, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func keysList(ctx context.Context, e *env, home string) error {
	st, err := openHSM(ctx, home)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.Keys()
	if err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintf(e.stdout, "%-14s %-8s sensitive=%t extractable=%t never_extractable=%t always_sensitive=%t\n",
			k.Label, k.Type, k.Sensitive, k.Extractable, k.NeverExtractable, k.AlwaysSensitive)
	}
	return nil
}
