# syntax=docker/dockerfile:1
#
# The demo partner platform of the compose stack (demo only; never part of
# the livery image): cmd/demopartner, with its OpenID Connect provider under
# /idp, plus the livery binary to create the demo tenant's partner key on
# first start (deploy/demopartner-entrypoint.sh). Build from the repository
# root:
#
#   docker build -f deploy/demopartner.Dockerfile -t livery-demopartner .

FROM golang:1.26.8 AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/demopartner ./cmd/livery && mkdir /keys

# debug-nonroot: distroless with busybox (the entrypoint is a shell script).
FROM gcr.io/distroless/static-debian12:debug-nonroot
COPY --from=build /out/demopartner /demopartner
COPY --from=build /out/livery /livery
COPY --from=build /src/deploy/demopartner-entrypoint.sh /entrypoint.sh
COPY --from=build --chown=65532:65532 /keys /keys
USER nonroot:nonroot
EXPOSE 9091
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/busybox/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9091/"]
ENTRYPOINT ["/busybox/sh", "/entrypoint.sh"]
