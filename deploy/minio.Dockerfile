# syntax=docker/dockerfile:1
#
# MinIO for the compose stack, built from source at the version the test
# harness uses (scripts/test.sh's MINIO_VERSION; a test keeps them equal):
# MinIO no longer publishes maintained images.
#
#   docker build -f deploy/minio.Dockerfile -t livery-minio deploy

FROM golang:1.26.8 AS minio
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
ENV CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN=/out
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go install "github.com/minio/minio@${MINIO_VERSION}" && mkdir /data

# debug-nonroot: distroless with busybox, for the healthcheck's wget.
FROM gcr.io/distroless/static-debian12:debug-nonroot
COPY --from=minio /out/minio /minio
# A fresh named volume takes this directory's owner (nonroot).
COPY --from=minio --chown=65532:65532 /data /data
USER nonroot:nonroot
EXPOSE 9000 9001
HEALTHCHECK --interval=5s --timeout=5s --retries=12 \
  CMD ["/busybox/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9000/minio/health/live"]
ENTRYPOINT ["/minio"]
CMD ["server", "/data", "--console-address", ":9001"]
