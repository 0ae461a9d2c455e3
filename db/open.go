package db

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	connectTimeout = 10 * time.Second
	adminTimeout   = 60 * time.Second
	// scramIterations is PostgreSQL's default scram_iterations.
	scramIterations = 4096
	// poolMaxConns is the most connections one pool opens.
	poolMaxConns = 16
)

// connConfig is the pgx configuration for role on database dbname, built
// field by field so PG* environment variables cannot redirect it.
func (c *Cluster) connConfig(role Role, dbname string) (*pgx.ConnConfig, error) {
	pw, err := readSecret(c.Home, role)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port = "127.0.0.1", uint16(c.Port)
	cfg.User, cfg.Password, cfg.Database = role.String(), pw, dbname
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	cfg.ConnectTimeout = connectTimeout
	cfg.RuntimeParams = map[string]string{"application_name": "borderid"}
	return cfg, nil
}

// Open returns a connection pool to c's database as role, checked with a ping.
// The service uses App; Owner is for migrations and administration.
func Open(ctx context.Context, c *Cluster, role Role) (*pgxpool.Pool, error) {
	cc, err := c.connConfig(role, c.Database)
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = cc
	// pgxpool's default, max(4, cores), queued a service under load
	// behind four connections (bench-crossborder at 64 partner
	// connections); the cluster allows 60 (cluster.go).
	pc.MaxConns = poolMaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("db: open %s as %s: %w", c.Database, role, err)
	}
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: open %s as %s on %s: %w", c.Database, role, c.Addr(), err)
	}
	return pool, nil
}

// connect opens one connection as role to dbname.
func (c *Cluster) connect(ctx context.Context, role Role, dbname string) (*pgx.Conn, error) {
	cfg, err := c.connConfig(role, dbname)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect %s as %s on %s: %w", dbname, role, c.Addr(), err)
	}
	return conn, nil
}

// bootstrap creates the app role when absent (its password from the
// secret, sent as a SCRAM verifier) and pins its attributes on every start.
func (c *Cluster) bootstrap(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	conn, err := c.connect(ctx, Owner, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, r := range []Role{App, Rotator} {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", r.String()).Scan(&exists); err != nil {
			return fmt.Errorf("db: bootstrap: %w", err)
		}
		name := pgx.Identifier{r.String()}.Sanitize()
		if !exists {
			// ensureSecret: a home made before the role existed gets its
			// secret now.
			pw, err := ensureSecret(c.Home, r)
			if err != nil {
				return err
			}
			v, err := scramVerifier(pw)
			if err != nil {
				return err
			}
			// The verifier is base64 with '$' and ':' only: safe inside a literal.
			if _, err := conn.Exec(ctx, "CREATE ROLE "+name+" LOGIN PASSWORD '"+v+"'"); err != nil {
				return fmt.Errorf("db: create role %s: %w", r, err)
			}
		}
		q := "ALTER ROLE " + name + " NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION"
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("db: bootstrap: %q: %w", q, err)
		}
	}
	for _, q := range []string{
		// Only borderid's own database is open to the app role.
		"REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC",
		"REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("db: bootstrap: %q: %w", q, err)
		}
	}
	return nil
}

// EnsureDatabase creates c.Database when absent (owned by the owner role,
// CONNECT for the app role only) and applies the migrations to it.
func (c *Cluster) EnsureDatabase(ctx context.Context) error {
	actx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	conn, err := c.connect(actx, Owner, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(actx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.Database).Scan(&exists); err != nil {
		return fmt.Errorf("db: %w", err)
	}
	name := pgx.Identifier{c.Database}.Sanitize()
	if !exists {
		if _, err := conn.Exec(actx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
			return fmt.Errorf("db: create database %s: %w", c.Database, err)
		}
	}
	for _, q := range []string{
		"REVOKE ALL ON DATABASE " + name + " FROM PUBLIC",
		"GRANT CONNECT ON DATABASE " + name + " TO " + pgx.Identifier{App.String()}.Sanitize(),
		"GRANT CONNECT ON DATABASE " + name + " TO " + pgx.Identifier{Rotator.String()}.Sanitize(),
	} {
		if _, err := conn.Exec(actx, q); err != nil {
			return fmt.Errorf("db: %q: %w", q, err)
		}
	}
	_, err = Migrate(ctx, c)
	return err
}

// scramVerifier is the SCRAM-SHA-256 verifier PostgreSQL stores in
// pg_authid.rolpassword (RFC 5802 §3, RFC 7677):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
// The password is ASCII from base64url, so SASLprep leaves it unchanged.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored[:]), b64(server)), nil
}
