package objstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
	"github.com/livery/livery/internal/testenv"
)

// TestS3Conformance runs the suite against a real MinIO server (one server,
// a fresh bucket per subtest).
func TestS3Conformance(t *testing.T) {
	m := testenv.StartMinIO(t)
	objstoretest.Run(t, func(t *testing.T) objstore.Store {
		s, err := objstore.NewS3(context.Background(), objstore.S3Config{
			Endpoint: m.Endpoint, Bucket: m.NewBucket(t), AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		})
		if err != nil {
			t.Fatalf("NewS3: %v", err)
		}
		return s
	})
}

func TestS3Bucket(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	cfg := objstore.S3Config{Endpoint: m.Endpoint, Bucket: "not-there", AccessKey: m.AccessKey, SecretKey: m.SecretKey}
	if _, err := objstore.NewS3(ctx, cfg); err == nil {
		t.Fatal("NewS3 succeeded for a missing bucket without CreateBucket")
	}
	cfg.CreateBucket = true
	s, err := objstore.NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3 with CreateBucket: %v", err)
	}
	if _, err := objstore.NewS3(ctx, cfg); err != nil {
		t.Fatalf("NewS3 with CreateBucket on existing bucket: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Client().RemoveBucket(ctx, "not-there"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded for a removed bucket")
	}
	if _, err := s.Stat(ctx, "x"); errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat in a missing bucket reported ErrNotFound: %v", err)
	}
	cfg.SecretKey = "wrong-secret-key"
	if _, err := objstore.NewS3(ctx, cfg); err == nil {
		t.Fatal("NewS3 succeeded with bad credentials")
	}
}

// TestS3CredentialChain: with credentials "chain", the key comes from the
// environment, else from the shared credentials file (its profile), and a
// wrong key in the first source that has one is refused by the server.
func TestS3CredentialChain(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	cfg := objstore.S3Config{Endpoint: m.Endpoint, Bucket: "chain", CreateBucket: true, Credentials: objstore.CredentialsChain}
	// No instance metadata in a test: the IAM step must not be reached.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")

	t.Run("environment", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", m.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", m.SecretKey)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
		s, err := objstore.NewS3(ctx, cfg)
		if err != nil {
			t.Fatalf("NewS3 with the environment's key: %v", err)
		}
		if _, err := s.Put(ctx, "env.txt", strings.NewReader("x"), 1, objstore.PutOptions{}); err != nil {
			t.Fatalf("Put: %v", err)
		}
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		if _, err := objstore.NewS3(ctx, cfg); err == nil {
			t.Fatal("NewS3 accepted a wrong key from the environment")
		}
	})
	t.Run("shared file", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("AWS_ACCESS_KEY", "")
		t.Setenv("AWS_SECRET_KEY", "")
		f := filepath.Join(t.TempDir(), "credentials")
		body := "[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[livery]\naws_access_key_id = " +
			m.AccessKey + "\naws_secret_access_key = " + m.SecretKey + "\n"
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", f)
		t.Setenv("AWS_PROFILE", "livery")
		if _, err := objstore.NewS3(ctx, cfg); err != nil {
			t.Fatalf("NewS3 with the file's profile: %v", err)
		}
		t.Setenv("AWS_PROFILE", "default")
		if _, err := objstore.NewS3(ctx, cfg); err == nil {
			t.Fatal("NewS3 accepted the default profile's wrong key")
		}
	})
	if _, err := objstore.NewS3(ctx, objstore.S3Config{Endpoint: m.Endpoint, Bucket: "chain", Credentials: "magic"}); err == nil ||
		!strings.Contains(err.Error(), "static") {
		t.Fatalf("unknown credentials kind: %v", err)
	}
}
