package objstoretest

import (
	"context"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
)

// Backend opens a fresh, empty store of one driver for a test.
type Backend struct {
	Name string
	Open func(t *testing.T) objstore.Store
}

// Backends are the drivers a store-backed suite runs against: the
// directory driver (a temporary directory per Open) and a real MinIO
// server started for t (a bucket per Open). Starting MinIO failing is
// fatal, as in testenv.
func Backends(t *testing.T) []Backend {
	t.Helper()
	m := testenv.StartMinIO(t)
	return []Backend{
		{"dir", func(t *testing.T) objstore.Store {
			d, err := objstore.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return d
		}},
		{"minio", func(t *testing.T) objstore.Store {
			s, err := objstore.NewS3(context.Background(), objstore.S3Config{
				Endpoint: m.Endpoint, Bucket: m.NewBucket(t), AccessKey: m.AccessKey, SecretKey: m.SecretKey,
			})
			if err != nil {
				t.Fatalf("NewS3: %v", err)
			}
			return s
		}},
	}
}
