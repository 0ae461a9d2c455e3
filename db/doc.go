// Package db is the only code in borderid that speaks SQL: it launches the
// private PostgreSQL 15 cluster, opens connection pools for the two database
// roles, and applies the embedded schema migrations.
//
// # The private cluster
//
// [Ensure] makes a working cluster for a borderid home folder (CONTRACTS.md,
// "The home folder") and attaches to it when it already runs:
//
//	c, err := db.Ensure(ctx, home)   // initdb once, start or attach, roles, migrations
//	pool, err := db.Open(ctx, c, db.App)
//	defer pool.Close()
//
// The cluster is made with the Debian binaries in /usr/lib/postgresql/15/bin
// (package `postgresql`). initdb and pg_ctl refuse to run as root, so as root
// they run as the `postgres` OS user through `runuser -u postgres --`. The
// data folder is <home>/pg, except as root when <home> cannot be reached by
// the postgres user (e.g. under /root): it then lives in a postgres-owned
// folder named after <home>, /var/lib/borderid/pg-<first 12 hex digits of
// SHA-256(home)>, and [Cluster.Outside] says so.
//
// The cluster listens on 127.0.0.1 only, on a free port chosen once at initdb
// time and written to its postgresql.conf; unix sockets live in the data
// folder (disabled when that path is too long for a socket name). Every
// connection, local or TCP, authenticates with scram-sha-256 (initdb
// --auth=scram-sha-256). Passwords are generated and kept in
// <home>/secrets/pg-owner and <home>/secrets/pg-app (mode 0600); they are
// created once and never overwritten.
//
// # Roles: row-level security that cannot be sidestepped
//
// Two roles (issue 5, item 2):
//   - [Owner] (borderid_owner) is the cluster's bootstrap role. It owns every
//     database object and runs the migrations. borderid only uses it for
//     migrations and administration.
//   - [App] (borderid_app) is what the service connects as. It is NOSUPERUSER
//     NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT and owns nothing, so row
//     level security applies to it (an owner or a BYPASSRLS role would skip
//     it). It gets only the privileges each migration grants table by table,
//     and every application table is ALTER TABLE ... FORCE ROW LEVEL SECURITY.
//
// The app role's password is set from a SCRAM-SHA-256 verifier computed here
// (RFC 5802, RFC 7677), so the clear password never crosses the wire nor
// reaches the server log.
//
// # Migrations
//
// Numbered files migrations/NNNN_name.sql are embedded in the binary and
// applied in order by [Migrate], each in its own transaction under a
// transaction-level advisory lock (so concurrent starters serialise), and
// recorded in schema_migrations. Applying them again does nothing.
//
// # Enrolment and audit (issue 5)
//
// Migration 0003 holds applications, envelope-encrypted biometrics and
// issued documents (found by the blind index of their number only);
// migration 0004 the hash-chained, append-only audit_log and its signed
// checkpoints. Every read and write runs in [WithScope], which sets
// borderid.actor, borderid.role and borderid.office with
// set_config(name, value, true): transaction-local, so nothing survives on
// a pooled connection. The row-level security policies read them: office
// roles see their office only, the issuer approved and issued enrolments
// of every office, the auditor the audit log only; without a scope nothing
// is visible. The app role has no DELETE or TRUNCATE anywhere and UPDATE
// only on the columns a state change touches; triggers make the
// application state machine, the document status (VALID < LOST < STOLEN <
// REVOKED, strictly up) and the audit log one-way for every role. The
// audit chain's encoding and the exact guarantee of [VerifyAudit] are in
// audit.go; the head file that catches a deleted tail in audithead.go.
//
// Migration 0005 holds the partner registry of the cross-border service
// (partners, append-only partner_audit; the owner adds and removes, the app
// reads), the day each of LOST, STOLEN and REVOKED took effect (so an
// answer follows STOLEN > LOST > REVOKED), and the scope role "status"
// ([WithStatusScope]) in which the status responder reads the documents of
// every office and nothing else.
//
// # What this package does not do
//
// It does not use DATABASE_URL or an external server yet and does not
// manage backups. It does not check roles in Go (package enrol does, before
// the database checks them again), and it does not encrypt: biometric rows
// arrive sealed by internal/envelope. The audit log protects rows up to the
// newest exported checkpoint against change and deletion, and a deleted
// tail after it through the head file (see audit.go, audithead.go). A superuser can still drop triggers and policies:
// that is a schema change, visible in the server log, and caught by
// [VerifyAudit] for every checkpointed row.
package db
