package clustertest

import (
	"context"
	"crypto/x509"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
)

// TLS to Redis (rediss://) with a private CA and an ACL user: the right
// CA and password connect; the system CAs, a wrong password and the
// default user (disabled) are refused with an error that does not show
// the password.
func TestRedisTLSAndACLUser(t *testing.T) {
	srv, tlsAddr, files := testenv.StartRedisTLS(t)
	ctx := context.Background()
	admin, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "livery", "on", ">s3cret-pw", "~livery:*", "&livery:*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "default", "off").Err(); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	pem, _ := os.ReadFile(files.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)

	conn, err := redisx.Open(ctx, redisx.Options{URL: "rediss://" + tlsAddr, Username: "livery", Password: "s3cret-pw", RootCAs: pool})
	if err != nil {
		t.Fatalf("rediss with the CA and the ACL user: %v", err)
	}
	if err := conn.Set(ctx, redisx.KeySessions+"tls-probe", "1", 0).Err(); err != nil {
		t.Errorf("write within the user's key pattern: %v", err)
	}
	if err := conn.Set(ctx, "other:key", "1", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("write outside the user's key pattern = %v; want NOPERM", err)
	}
	conn.Close()

	for name, o := range map[string]redisx.Options{
		"system CAs":     {URL: "rediss://" + tlsAddr, Username: "livery", Password: "s3cret-pw"},
		"wrong password": {URL: "rediss://" + tlsAddr, Username: "livery", Password: "wrong-pw", RootCAs: pool},
		"default user":   {URL: "rediss://" + tlsAddr, RootCAs: pool},
	} {
		c, err := redisx.Open(ctx, o)
		if err == nil {
			c.Close()
			t.Errorf("%s: connected", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "wrong-pw") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// TLS to a Redis Cluster (redis.tls with redis.addrs): the client trusts
// the private CA, follows the nodes' TLS addresses from CLUSTER SLOTS and
// writes across every master.
func TestRedisClusterTLS(t *testing.T) {
	cl, files := testenv.StartRedisClusterTLS(t, 3)
	ctx := context.Background()
	pem, _ := os.ReadFile(files.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := redisx.Open(ctx, redisx.Options{Addrs: cl.TLSAddrs, TLS: true, RootCAs: pool})
	if err != nil {
		t.Fatalf("cluster over TLS: %v", err)
	}
	defer conn.Close()
	for i := range 30 { // keys spread over the three masters' slots
		if err := conn.Set(ctx, redisx.KeySessions+"tls-"+strconv.Itoa(i), "1", 0).Err(); err != nil {
			t.Fatalf("write %d over TLS: %v", i, err)
		}
	}
	if _, err := redisx.Open(ctx, redisx.Options{Addrs: cl.TLSAddrs, TLS: true}); err == nil {
		t.Error("connected to the cluster without trusting its CA")
	}
}
