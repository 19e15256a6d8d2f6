package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3 store.
type S3Config struct {
	Endpoint string // host[:port], no scheme
	Region   string // optional
	Bucket   string
	// Credentials is "static" (AccessKey and SecretKey) or "chain": the
	// standard AWS chain, tried in order — the environment
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the
	// shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
	// ~/.aws/credentials, profile AWS_PROFILE), then the IAM role of the
	// machine or pod (EC2/ECS instance metadata, or web identity with
	// AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS). Empty means
	// static.
	Credentials string
	AccessKey   string
	SecretKey   string
	UseSSL      bool
	// CreateBucket creates Bucket in NewS3 if it does not exist.
	CreateBucket bool
}

// S3 is a Store backed by an S3-compatible bucket (tested against MinIO).
// Preconditions are sent as conditional PUT headers ("If-None-Match: *",
// `If-Match: "<etag>"`) and enforced by the server, so the backend must
// support conditional writes (MinIO does; so does AWS S3 since 2024).
// Conditional Puts are always single-request PUTs (never multipart); a
// conditional Put with unknown size is spooled to a local temp file first.
type S3 struct {
	client *minio.Client
	bucket string
}

var _ Store = (*S3)(nil)

// Credential sources of S3Config.Credentials.
const (
	CredentialsStatic = "static"
	CredentialsChain  = "chain"
)

// iamTimeout bounds one call to the instance metadata or STS endpoint.
const iamTimeout = 5 * time.Second

// s3Credentials builds the credential provider cfg names.
func s3Credentials(cfg S3Config) (*credentials.Credentials, error) {
	switch cfg.Credentials {
	case "", CredentialsStatic:
		return credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), nil
	case CredentialsChain:
		return credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{Client: &http.Client{Timeout: iamTimeout}},
		}), nil
	}
	return nil, fmt.Errorf("objstore: s3: credentials must be %q or %q, got %q", CredentialsStatic, CredentialsChain, cfg.Credentials)
}

// maxIdleConnsPerHost is the S3 client's keep-alive pool per endpoint.
const maxIdleConnsPerHost = 128

// NewS3 connects to the bucket. It fails if the bucket does not exist and
// cfg.CreateBucket is false, or if the server cannot be reached.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("objstore: s3: endpoint and bucket are required")
	}
	creds, err := s3Credentials(cfg)
	if err != nil {
		return nil, err
	}
	// minio-go keeps 16 idle connections per host by default: with more
	// concurrent calls than that (registrations at 64 concurrent partner
	// calls) most calls opened a new TCP connection.
	tr, err := minio.DefaultTransport(cfg.UseSSL)
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 transport: %w", err)
	}
	tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     creds,
		Secure:    cfg.UseSSL,
		Region:    cfg.Region,
		Transport: tr,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 %s: %w", cfg.Endpoint, err)
	}
	s := &S3{client: c, bucket: cfg.Bucket}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 bucket %q: %w", cfg.Bucket, err)
	}
	if !ok {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("objstore: s3 bucket %q does not exist", cfg.Bucket)
		}
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil {
			code := minio.ToErrorResponse(err).Code
			if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return nil, fmt.Errorf("objstore: s3 create bucket %q: %w", cfg.Bucket, err)
			}
		}
	}
	return s, nil
}

// Client exposes the underlying minio-go client (for tests and tools).
func (s *S3) Client() *minio.Client { return s.client }

// Get streams key; ErrNotFound if missing, ErrInvalidKey if invalid.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	// Core.GetObject does one GET and streams its body, so the reader is a
	// consistent snapshot even if the key is overwritten while reading.
	// (Client.GetObject is lazy and re-requests with If-Match, failing
	// mid-read with PreconditionFailed after a concurrent overwrite.)
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Object{}, s.fail("get", key, err)
	}
	return body, toObject(info), nil
}

// Stat returns key's metadata; ErrNotFound if missing, ErrInvalidKey if invalid.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.fail("stat", key, err)
	}
	return toObject(info), nil
}

// Put uploads key. With a known size the body is streamed; unconditional
// Puts of unknown size use a multipart upload. Errors: ErrInvalidKey,
// ErrPreconditionFailed (412, 409 ConditionalRequestConflict, or NoSuchKey
// for IfMatch on a missing key), or transport/server errors.
//
// The returned Modified is the local time of the write (S3 does not return
// Last-Modified on PUT).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	ct := opts.ContentType
	if ct == "" {
		ct = DefaultContentType
	}
	popts := minio.PutObjectOptions{ContentType: ct}
	conditional := opts.IfNoneMatch || opts.IfMatch != ""
	if opts.IfNoneMatch {
		popts.SetMatchETagExcept("*")
	}
	if opts.IfMatch != "" {
		popts.SetMatchETag(strings.Trim(opts.IfMatch, `"`))
	}
	if conditional {
		// Conditional headers are only reliable on a single PUT.
		popts.DisableMultipart = true
		if size < 0 {
			f, n, err := spool(ctx, r)
			if err != nil {
				return Object{}, fmt.Errorf("objstore: put %q: spooling body: %w", key, err)
			}
			defer func() { f.Close(); os.Remove(f.Name()) }()
			r, size = f, n
		}
	}
	if size >= 0 {
		r = &exactReader{r: r, left: size}
	}
	start := time.Now().UTC()
	info, err := s.client.PutObject(ctx, s.bucket, key, r, size, popts)
	if err != nil {
		err = s.fail("put", key, err)
		if conditional && errors.Is(err, ErrNotFound) {
			// If-Match on a missing key: some servers answer 404 NoSuchKey.
			return Object{}, fmt.Errorf("objstore: put %q: key missing: %w", key, ErrPreconditionFailed)
		}
		return Object{}, err
	}
	mod := info.LastModified
	if mod.IsZero() {
		mod = start
	}
	return Object{Key: key, Size: info.Size, ETag: strings.Trim(info.ETag, `"`), ContentType: ct, Modified: mod}, nil
}

// spool copies r to an unlinked-on-close temp file and rewinds it.
func spool(ctx context.Context, r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "livery-objstore-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// Delete removes key; a missing key is not an error. Errors: ErrInvalidKey
// or server errors.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if err = s.fail("delete", key, err); errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// List returns all objects under prefix (recursive), sorted by key.
// Errors: ErrInvalidKey (see ValidatePrefix) or server errors.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine on early return
	out := []Object{}
	for info := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			if serverDown(minio.ToErrorResponse(info.Err)) {
				return nil, fmt.Errorf("objstore: list %q: %w: %w", prefix, ErrUnavailable, info.Err)
			}
			return nil, fmt.Errorf("objstore: list %q: %w", prefix, info.Err)
		}
		o := toObject(info)
		if o.ContentType == "" {
			o.ContentType = DefaultContentType // listings do not carry it
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Ping checks that the bucket exists and is reachable (BucketExists).
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("objstore: ping bucket %q: %w: %w", s.bucket, ErrUnavailable, err)
	}
	if !ok {
		return fmt.Errorf("objstore: ping: bucket %q does not exist: %w", s.bucket, ErrUnavailable)
	}
	return nil
}

func toObject(info minio.ObjectInfo) Object {
	return Object{Key: info.Key, Size: info.Size, ETag: strings.Trim(info.ETag, `"`),
		ContentType: info.ContentType, Modified: info.LastModified.UTC()}
}

// fail maps S3 error responses onto the sentinel errors.
func (s *S3) fail(op, key string, err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket"):
		return fmt.Errorf("objstore: %s %q: %w", op, key, ErrNotFound)
	case resp.Code == "PreconditionFailed" || resp.StatusCode == http.StatusPreconditionFailed,
		resp.Code == "ConditionalRequestConflict" || (op == "put" && resp.StatusCode == http.StatusConflict):
		return fmt.Errorf("objstore: %s %q: %s: %w", op, key, resp.Code, ErrPreconditionFailed)
	case serverDown(resp):
		return fmt.Errorf("objstore: %s %q: %w: %w", op, key, ErrUnavailable, err)
	}
	return fmt.Errorf("objstore: %s %q: %w", op, key, err)
}

// serverDown reports an answer that says nothing about the key: the
// server cannot serve anyone right now (5xx, not initialised) or the
// bucket is gone.
func serverDown(resp minio.ErrorResponse) bool {
	return resp.StatusCode >= 500 || resp.Code == "NoSuchBucket" || resp.Code == "XMinioServerNotInitialized"
}

// errSizeMismatch reports a Put body whose length differs from its size.
var errSizeMismatch = errors.New("body length does not match size")

// exactReader yields exactly left bytes from r and fails (instead of
// delivering the last bytes) if r has more, or if r ends early, so that a
// wrong size aborts the upload instead of silently truncating the object.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left == 0 {
		// Probe for surplus data before handing out the final bytes.
		var probe [1]byte
		for {
			m, perr := e.r.Read(probe[:])
			if m > 0 {
				return 0, errSizeMismatch
			}
			if perr == io.EOF {
				return n, nil
			}
			if perr != nil {
				return 0, perr
			}
		}
	}
	if err == io.EOF {
		return n, fmt.Errorf("%w: body ended early", errSizeMismatch)
	}
	return n, err
}
