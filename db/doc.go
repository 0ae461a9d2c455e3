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
// # What this package does not do
//
// It does not use DATABASE_URL or an external server yet, does not manage
// backups, and does not yet set the per-transaction office
// (set_config('borderid.office', ..., true)) the RLS policies of issue 5 will
// read: that comes with the enrolment tables.
package db
