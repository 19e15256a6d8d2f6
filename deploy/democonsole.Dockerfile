# syntax=docker/dockerfile:1
#
# Builds the democonsole stand-in cloud console (the upstream of the compose
# stack; never part of the livery image). Build from the repository root:
#
#   docker build -f deploy/democonsole.Dockerfile -t livery-democonsole .

FROM golang:1.26.8 AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/democonsole ./cmd/democonsole

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/democonsole /democonsole
USER nonroot:nonroot
EXPOSE 9090
ENTRYPOINT ["/democonsole"]
CMD ["-addr", ":9090"]
