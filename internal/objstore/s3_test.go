package objstore_test

import (
	"context"
	"errors"
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
