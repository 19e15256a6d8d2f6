#!/usr/bin/env bash
# bench/run.sh — Livery branding-proxy throughput vs the upstream, vs
# nginx + sub_filter and vs nginx auth_request + oauth2-proxy + sub_filter,
# in one run on this machine.
#
# USAGE
#   bash bench/run.sh [--go-bench] [--profile] [--keep] [--conns]
#
#   Environment (defaults in brackets):
#     BENCH_THREADS        wrk threads                               [2]
#     BENCH_CONNECTIONS    wrk connections                           [32]
#     BENCH_DURATION       wrk duration of each measured run         [10s]
#     BENCH_WARMUP         wrk warm-up per target, discarded (0=off) [2s]
#     BENCH_ROUNDS         rounds over the three targets (interleaved,
#                          so background load hits all rows alike); the
#                          table shows each target's median round and
#                          the req/s range over the rounds            [3]
#     BENCH_PATH           console page benchmarked (HTML)           [/]
#     BENCH_SAME_IDENTITY  1: the direct and nginx requests carry the
#                          X-Livery-Assertion Livery sends, so the demo
#                          console verifies it and renders the same
#                          signed-in page in all three rows; 0: they go
#                          anonymous (cheaper upstream work)          [1]
#     BENCH_UPSTREAM       where the demo console (the upstream) runs:
#                          process  - its own process (cmd/democonsole),
#                                     as a console runs in production; each
#                                     proxy's CPU is then read from its own
#                                     processes;
#                          embedded - inside the demo process (cmd/demo; one
#                                     Go runtime for both; a proxy's own CPU
#                                     is then its row minus row (a));
#                          static   - nginx serving a static console-like
#                                     page of BENCH_STATIC_BYTES at
#                                     BENCH_PATH (other paths go to the demo
#                                     console, for sign-up and set-up): the
#                                     upstream does the least, so each row
#                                     shows its proxy's own cost   [process]
#     BENCH_STATIC_BYTES   size of the static page                   [32768]
#     BENCH_OAUTH2_PROXY   1: also measure row (e), nginx auth_request ->
#                          oauth2-proxy + sub_filter (needs nginx; builds
#                          oauth2-proxy OAUTH2_PROXY_VERSION with go install
#                          into the cache on first use, ~1 min)      [1]
#     OAUTH2_PROXY         oauth2-proxy binary [$LIVERY_CACHE/bin/oauth2-proxy-VERSION]
#     LIVERY_CACHE         cache of built tools [${XDG_CACHE_HOME:-~/.cache}/livery]
#     BENCH_NGINX_WORKERS  nginx worker_processes                    [auto]
#     BENCH_NGINX_PORT     nginx listen port                         [a free port]
#     BENCH_NGINX_ACCESS_LOG  nginx's access log, so that both proxies
#                          log every request (fair): buffered - batched
#                          writes (buffer=64k flush=1s), as Livery's
#                          default log.buffer_bytes/flush_interval;
#                          unbuffered - one write per request; off  [buffered]
#     BENCH_FLOOR          1: also measure row (d), the floor     [1]
#     BENCH_PROFILE=1      same as --profile
#     BENCH_GO=1           same as --go-bench
#     BENCH_KEEP=1         same as --keep
#     NGINX                nginx binary          [nginx in PATH or /usr/sbin/nginx]
#     WRK                  wrk binary            [wrk in PATH]
#
#   --go-bench  also runs the injection/render micro-benchmarks
#               (go test -run '^$' -bench . -benchmem ./branding/inject ./branding/render)
#               and prints their MB/s, ns/op and allocs/op.
#   --profile   after the measurements, one more wrk run against Livery with
#               `perf record -g` attached to the demo process (cmd/demo), and a
#               summary of where its CPU time goes (needs perf; with
#               BENCH_UPSTREAM=embedded that process also hosts the upstream).
#   --keep      keeps the temporary directory (logs, captured pages, nginx.conf).
#   --conns     instead of the wrk rows, the connection figures of
#               docs/performance.md section 5: BENCH_IDLE_CONNS idle
#               keep-alive connections on Livery's console listener (each
#               fetched the signed-in page once) [10000], then
#               BENCH_WEBSOCKETS WebSockets proxied through Livery to the
#               demo console's /ws echo [2000]; it prints Livery's RSS
#               (VmRSS of the demo process) before and after and the growth
#               per connection (bench/setup idleconns, websockets).
#
#   Needs: go, wrk (required: the script stops with an error without it),
#   nginx with the sub_filter module (optional: without it the nginx row is
#   skipped with a note). Nothing is installed, no system config is touched;
#   everything lives in a mktemp directory removed on exit.
#
# WHAT IS MEASURED
#   One HTML page of the demo console (BENCH_PATH, default the overview
#   page "/"), or with BENCH_UPSTREAM=static the static page, fetched by
#   wrk over keep-alive HTTP/1.1 on loopback:
#
#   (a) direct  — the demo console (the upstream) itself.
#   (b) livery  — through Livery's console listener, Host 127.0.0.1 (a host
#                 of the demo tenant), signed in as a customer (the
#                 livery_session cookie), with an approved branding injected
#                 in one streaming pass. Includes everything Livery does per
#                 request: session lookup (embedded Redis), authorization,
#                 identity headers/assertion, proxying, chrome injection,
#                 access log.
#   (d) floor   — `bench/setup floor`: the same Go HTTP stack as Livery
#                 (fasthttp server + keep-alive client) sending the same
#                 bytes (captured chrome + nonce inserted as Livery does
#                 for a document of known length: pooled page buffer,
#                 headers and body in one writev) with none of Livery's
#                 features: what Go costs here before Livery's own work.
#   (c) nginx   — nginx proxy_pass to the same upstream with
#                 Accept-Encoding "" and sub_filter (once, text/html)
#                 inserting the exact chrome bytes Livery injects (captured
#                 from a Livery response) at the same two places (after
#                 <head> and after <body>). nginx does no authentication.
#   (e) nginx auth_request -> oauth2-proxy + sub_filter — what a user
#                 deploys instead of Livery: every request is first asked
#                 of oauth2-proxy (auth_request /oauth2/auth, keep-alive),
#                 which decrypts and checks its session cookie, then
#                 proxied as in (c) with the same chrome. wrk is signed in:
#                 its requests carry the _oauth2_proxy cookie of a real
#                 sign-in (bench/setup oauth2-login: /oauth2/start → the
#                 provider's form → /oauth2/callback) against an OpenID
#                 Connect provider run by bench/setup idp (the demo
#                 partner's, cmd/demopartner/idp). oauth2-proxy runs with
#                 its defaults otherwise (cookie session store, request
#                 log on, to a file).
#
#   How it is set up: builds cmd/demo, cmd/democonsole and bench/setup,
#   starts the demo console on a free loopback port (verifying Livery's
#   identity assertions against the JWKS of Livery's API listener, and
#   with a fresh account-API token), runs the demo with -upstream in front
#   of it on free loopback ports (partner platform + IdP, Livery console
#   and API listeners, embedded Redis, directory store), then bench/setup signs up a customer on the partner
#   platform and signs them in through Livery (/_livery/login → IdP form →
#   callback); signs in as partner-admin (/admin/login), uploads a PNG logo,
#   PUTs a branding draft and submits it; signs in as operator and approves
#   it; polls the page until the new branding is live; captures the chrome.
#
#   Before measuring it verifies: (a) is 200 without chrome; (b) is 200 (not
#   a redirect to sign-in) and contains id="livery-chrome" and the captured
#   chrome; (c) is 200 and contains the same chrome. After measuring it checks
#   (b) again, and each row shows the average response size wrk read (a
#   redirect or error page would stand out).
#
#   Everything (wrk, the upstream, Livery, nginx) shares this machine's
#   CPUs, so absolute numbers are for comparison within one run only.
#
# OUTPUT
#   A table per row: requests/s (median round, and the range over the
#   rounds), latency (avg, p50, p90, p99, max), bytes per response as read
#   by wrk, errors (socket errors + non-2xx/3xx), and server-side CPU per
#   request (user+sys ticks of the upstream's process, plus Livery's process
#   in row (b) and nginx's processes in row (c), divided by the requests
#   served). Then each proxy's own CPU per request (the ticks of its own
#   processes; with BENCH_UPSTREAM=embedded, its row minus the direct row)
#   and the ratios livery/direct and livery/nginx
#   (requests/s > 1: Livery serves more; latency < 1: Livery answers sooner).
#   On a shared or busy machine requests/s swings with other load; the CPU
#   per request is the steadier comparison.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
ROUNDS=${BENCH_ROUNDS:-3}
PAGE=${BENCH_PATH:-/}
SAME_IDENTITY=${BENCH_SAME_IDENTITY:-1}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-auto}
UPSTREAM_MODE=${BENCH_UPSTREAM:-process}
NGINX_ACCESS_LOG=${BENCH_NGINX_ACCESS_LOG:-buffered}
GO_BENCH=${BENCH_GO:-0}
PROFILE=${BENCH_PROFILE:-0}
KEEP=${BENCH_KEEP:-0}
FLOOR=${BENCH_FLOOR:-1}
CONNS_MODE=0
IDLE_CONNS=${BENCH_IDLE_CONNS:-10000}
WEBSOCKETS=${BENCH_WEBSOCKETS:-2000}
STATIC_BYTES=${BENCH_STATIC_BYTES:-32768}
O2P=${BENCH_OAUTH2_PROXY:-1}
OAUTH2_PROXY_VERSION=v7.15.6
CACHE="${LIVERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/livery}"

for arg in "$@"; do
  case "$arg" in
    --go-bench) GO_BENCH=1 ;;
    --keep) KEEP=1 ;;
    --profile) PROFILE=1 ;;
    --conns) CONNS_MODE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
WRK=${WRK:-$(command -v wrk || true)}
if [[ -z "$WRK" || ! -x "$WRK" ]]; then
  die "wrk is not installed (needed for every measurement). Install it (e.g. apt-get install wrk) or set WRK=/path/to/wrk."
fi
command -v go >/dev/null || die "go is not installed (needed to build livery and bench/setup)."
NGINX=${NGINX:-$(command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true)}
HAVE_NGINX=1
if [[ -z "$NGINX" || ! -x "$NGINX" ]]; then
  HAVE_NGINX=0
  echo "NOTE: nginx not found: the nginx+sub_filter row is skipped (set NGINX=/path/to/nginx)." >&2
fi
[[ "$PAGE" == /* ]] || die "BENCH_PATH must start with /"
[[ "$UPSTREAM_MODE" == process || "$UPSTREAM_MODE" == embedded || "$UPSTREAM_MODE" == static ]] ||
  die "BENCH_UPSTREAM must be process, embedded or static, not $UPSTREAM_MODE"
if [[ "$UPSTREAM_MODE" == static && "$HAVE_NGINX" != 1 ]]; then
  die "BENCH_UPSTREAM=static needs nginx (it serves the static page)"
fi
if [[ "$O2P" == 1 && "$HAVE_NGINX" != 1 ]]; then
  echo "NOTE: nginx not found: the nginx auth_request + oauth2-proxy row is skipped." >&2
  O2P=0
fi
if [[ "$O2P" == 1 ]]; then
  OAUTH2_PROXY=${OAUTH2_PROXY:-$CACHE/bin/oauth2-proxy-$OAUTH2_PROXY_VERSION}
  if [[ ! -x "$OAUTH2_PROXY" ]]; then
    say "building oauth2-proxy $OAUTH2_PROXY_VERSION into $CACHE/bin (first run only)"
    mkdir -p "$CACHE/bin"
    o2p_tmp=$(mktemp -d)
    (cd "$o2p_tmp" && GOBIN="$o2p_tmp" GOFLAGS=-mod=mod go install "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION") ||
      { rm -rf "$o2p_tmp"; die "could not build oauth2-proxy $OAUTH2_PROXY_VERSION (go install; set OAUTH2_PROXY=/path or BENCH_OAUTH2_PROXY=0)"; }
    mv "$o2p_tmp/oauth2-proxy" "$OAUTH2_PROXY"
    rm -rf "$o2p_tmp"
  fi
fi

if [[ "$CONNS_MODE" == 1 ]]; then
  # Raised before anything starts: Livery (the demo) inherits the limit.
  need=$((IDLE_CONNS + 2 * WEBSOCKETS + 1000))
  (( $(ulimit -n) >= need )) || ulimit -n "$need" 2>/dev/null ||
    die "--conns needs $need open files (ulimit -n is $(ulimit -n); raise the hard limit or lower BENCH_IDLE_CONNS)"
fi

# --- temp dir and cleanup ----------------------------------------------------
TMP=$(mktemp -d -t livery-bench.XXXXXX)
LIVERY_PID=""
NGINX_PID=""
UPSTREAM_PID=""
FLOOR_PID=""
STATIC_PID=""
O2P_PID=""
IDP_PID=""
stop_nginx() {
  if [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; then
    kill -QUIT "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
  fi
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_nginx "$NGINX_PID"
  stop_nginx "$STATIC_PID"
  [[ -n "$FLOOR_PID" ]] && kill -KILL "$FLOOR_PID" 2>/dev/null
  [[ -n "$O2P_PID" ]] && kill -TERM "$O2P_PID" 2>/dev/null
  [[ -n "$IDP_PID" ]] && kill -KILL "$IDP_PID" 2>/dev/null
  if [[ -n "$LIVERY_PID" ]] && kill -0 "$LIVERY_PID" 2>/dev/null; then
    kill -TERM "$LIVERY_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$LIVERY_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LIVERY_PID" 2>/dev/null || true
  fi
  if [[ -n "$UPSTREAM_PID" ]] && kill -0 "$UPSTREAM_PID" 2>/dev/null; then
    kill -TERM "$UPSTREAM_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$UPSTREAM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$UPSTREAM_PID" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  if [[ "$KEEP" == 1 ]]; then
    echo "Kept $TMP (demo.out, demo.log, upstream.log, capture/, nginx/, wrk-*.txt)." >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build -------------------------------------------------------------------
say "building demo, democonsole and bench/setup"
(cd "$root" && go build -o "$TMP/demo" ./cmd/demo && go build -o "$TMP/democonsole" ./cmd/democonsole &&
  go build -o "$TMP/setup" ./bench/setup)
SETUP="$TMP/setup"

# --- the upstream and the demo (Livery) -----------------------------------------
# user_directive: as root, the nginx master runs as root and its workers
# stay the current user.
user_directive=""
[[ $(id -u) == 0 ]] && user_directive="user root;"
demo_args=(-console 127.0.0.1:0 -api 127.0.0.1:0 -ops 127.0.0.1:0)
if [[ "$UPSTREAM_MODE" != embedded ]]; then
  up_addr="127.0.0.1:$("$SETUP" freeport)"
  api_addr="127.0.0.1:$("$SETUP" freeport)"
  livery_up=$up_addr # what Livery's tenant points at
  audience=()
  if [[ "$UPSTREAM_MODE" == static ]]; then
    livery_up="127.0.0.1:$("$SETUP" freeport)"
    audience=(-assertion-audience "http://$livery_up")
  fi
  token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  say "starting the demo console on $up_addr (logs: upstream.log)"
  DEMOCONSOLE_ACCOUNT_TOKEN=$token "$TMP/democonsole" -addr "$up_addr" "${audience[@]}" \
    -assertion-jwks "http://$api_addr/.well-known/jwks.json" 2>"$TMP/upstream.log" &
  UPSTREAM_PID=$!
  "$SETUP" get -url "http://$up_addr/healthz" -wait 10s >/dev/null 2>&1 ||
    { cat "$TMP/upstream.log" >&2; die "the demo console did not start on $up_addr"; }
  if [[ "$UPSTREAM_MODE" == static ]]; then
    SP="$TMP/static"
    mkdir -p "$SP"/{www,client_body,proxy,fastcgi,uwsgi,scgi}
    "$SETUP" staticpage -out "$SP/www/page.html" -size "$STATIC_BYTES"
    sed -e "s#@USER_DIRECTIVE@#$user_directive#" -e "s#@WORKERS@#$NGINX_WORKERS#" -e "s#@PREFIX@#$SP#g" \
        -e "s#@DEMOCONSOLE@#$up_addr#" -e "s#@PORT@#${livery_up##*:}#" -e "s#@PATH@#$PAGE#" \
        "$here/nginx-static.conf.tmpl" >"$SP/nginx.conf"
    say "starting the static upstream (nginx, $STATIC_BYTES-byte page at $PAGE) on $livery_up"
    "$NGINX" -e "$SP/error.log" -p "$SP" -c nginx.conf -g "daemon off; pid $SP/nginx.pid;" &
    STATIC_PID=$!
    "$SETUP" get -url "http://$livery_up$PAGE" -wait 10s >/dev/null 2>&1 ||
      { cat "$SP/error.log" >&2; die "the static upstream did not start on $livery_up"; }
  fi
  demo_args=(-console 127.0.0.1:0 -api "$api_addr" -ops 127.0.0.1:0 -upstream "http://$livery_up")
  export LIVERY_DEMO_ACCOUNT_TOKEN=$token
fi
say "starting the demo (logs: demo.log)"
"$TMP/demo" "${demo_args[@]}" -partner 127.0.0.1:0 -data "$TMP/data" >"$TMP/demo.out" 2>"$TMP/demo.log" &
LIVERY_PID=$!
unset LIVERY_DEMO_ACCOUNT_TOKEN
for i in $(seq 300); do
  grep -q 'xaccount_type:' "$TMP/demo.out" 2>/dev/null && break
  kill -0 "$LIVERY_PID" 2>/dev/null || { cat "$TMP/demo.log" >&2; die "the demo exited during start-up"; }
  [[ $i == 300 ]] && { cat "$TMP/demo.log" >&2; die "the demo printed no URLs within 30s"; }
  sleep 0.1
done

say "signing up a customer, approving a branding, capturing the chrome"
setup_out=$("$SETUP" prepare -demo-output "$TMP/demo.out" -out "$TMP/capture" -path "$PAGE") ||
  die "setup failed (see above; livery log: $TMP/demo.log, run with --keep to keep it)"
eval "$setup_out"
: "${CONSOLE_URL:?}" "${UPSTREAM_URL:?}" "${SESSION:?}"
CAP="$TMP/capture"

DIRECT_URL="$UPSTREAM_URL$PAGE"
LIVERY_URL="$CONSOLE_URL$PAGE"
COOKIE="Cookie: livery_session=$SESSION"

# --- nginx ---------------------------------------------------------------------
if [[ "$HAVE_NGINX" == 1 ]]; then
  NGINX_PORT=${BENCH_NGINX_PORT:-$("$SETUP" freeport)}
  NP="$TMP/nginx"
  mkdir -p "$NP"/{client_body,proxy,fastcgi,uwsgi,scgi}
  : >"$NP/oauth2_server.conf"
  if [[ "$O2P" == 1 ]]; then
    O2P_PORT=$("$SETUP" freeport)
    O2P_ADDR="127.0.0.1:$("$SETUP" freeport)"
    IDP_ADDR="127.0.0.1:$("$SETUP" freeport)"
    O2P_BASE="http://127.0.0.1:$O2P_PORT"
    o2p_secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    "$SETUP" idp -listen "$IDP_ADDR" -client-secret "$o2p_secret" -redirect "$O2P_BASE/oauth2/callback" 2>"$TMP/idp.log" &
    IDP_PID=$!
    disown "$IDP_PID" # killed in cleanup, without a job report
    "$SETUP" get -url "http://$IDP_ADDR/.well-known/openid-configuration" -wait 10s >/dev/null 2>&1 ||
      { cat "$TMP/idp.log" >&2; die "the bench OpenID Connect provider did not start"; }
    say "starting oauth2-proxy $OAUTH2_PROXY_VERSION on $O2P_ADDR (logs: oauth2-proxy.log)"
    "$OAUTH2_PROXY" --http-address="$O2P_ADDR" --provider=oidc --oidc-issuer-url="http://$IDP_ADDR" \
      --client-id=oauth2-proxy --client-secret="$o2p_secret" --code-challenge-method=S256 \
      --redirect-url="$O2P_BASE/oauth2/callback" --cookie-secret="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
      --cookie-secure=false --email-domain='*' --upstream=static://202 --reverse-proxy --set-xauthrequest \
      --skip-provider-button >"$TMP/oauth2-proxy.log" 2>&1 &
    O2P_PID=$!
    "$SETUP" get -url "http://$O2P_ADDR/ping" -wait 10s >/dev/null 2>&1 ||
      { cat "$TMP/oauth2-proxy.log" >&2; die "oauth2-proxy did not start on $O2P_ADDR"; }
    sed -e "s#@O2P_ADDR@#$O2P_ADDR#" -e "s#@O2P_PORT@#$O2P_PORT#" -e "s#@CAPTURE@#$CAP#g" \
      "$here/nginx-oauth2.conf.tmpl" >"$NP/oauth2_server.conf"
  fi
  case "$NGINX_ACCESS_LOG" in
    buffered) access_log="$NP/access.log combined buffer=64k flush=1s" ;;
    unbuffered | 1) access_log="$NP/access.log" ;;
    off | 0) access_log="off" ;;
    *) die "BENCH_NGINX_ACCESS_LOG must be buffered, unbuffered or off, not $NGINX_ACCESS_LOG" ;;
  esac
  sed -e "s#@USER_DIRECTIVE@#$user_directive#" -e "s#@WORKERS@#$NGINX_WORKERS#" -e "s#@PREFIX@#$NP#g" \
      -e "s#@ACCESS_LOG@#$access_log#" -e "s#@CAPTURE@#$CAP#g" -e "s#@UPSTREAM@#${UPSTREAM_URL#http://}#" \
      -e "s#@PORT@#$NGINX_PORT#" "$here/nginx.conf.tmpl" >"$NP/nginx.conf"
  "$NGINX" -t -q -e "$NP/error.log" -p "$NP" -c nginx.conf -g "daemon off; pid $NP/nginx.pid;" ||
    die "nginx rejected $NP/nginx.conf (see $NP/error.log)"
  say "starting nginx on 127.0.0.1:$NGINX_PORT ($NGINX)"
  "$NGINX" -e "$NP/error.log" -p "$NP" -c nginx.conf -g "daemon off; pid $NP/nginx.pid;" &
  NGINX_PID=$!
  NGINX_URL="http://127.0.0.1:$NGINX_PORT$PAGE"
  "$SETUP" get -url "$NGINX_URL" -wait 10s >/dev/null 2>&1 || true # ready (checked properly below)
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$NP/error.log" >&2; die "nginx did not start"; }
  if [[ "$O2P" == 1 ]]; then
    say "signing in through nginx + oauth2-proxy (the provider's form, as a browser)"
    o2p_out=$("$SETUP" oauth2-login -start "$O2P_BASE/oauth2/start?rd=$PAGE" -base "$O2P_BASE/") ||
      die "sign-in through oauth2-proxy failed (logs: $TMP/oauth2-proxy.log, $TMP/idp.log; run with --keep)"
    eval "$o2p_out"
    O2P_URL="$O2P_BASE$PAGE"
    O2P_HDR="Cookie: $O2P_COOKIE"
  fi
fi

if [[ "$FLOOR" == 1 ]]; then
  FLOOR_URL="http://127.0.0.1:$("$SETUP" freeport)$PAGE"
  FLOOR_ADDR=${FLOOR_URL#http://}
  "$SETUP" floor -listen "${FLOOR_ADDR%%/*}" -upstream "${UPSTREAM_URL#http://}" -capture "$CAP" 2>"$TMP/floor.log" &
  FLOOR_PID=$!
  disown "$FLOOR_PID" # killed in cleanup, without a job report
fi

# --- identity for the direct and nginx rows -----------------------------------
ID_HDR=()
fresh_identity() {
  ID_HDR=()
  [[ "$SAME_IDENTITY" == 1 ]] || return 0
  local out
  out=$("$SETUP" assertion -console "$CONSOLE_URL" -session "$SESSION") || die "could not read the identity assertion"
  eval "$out"
  ID_HDR=(-H "X-Livery-Assertion: $ASSERTION")
  local secs=${DURATION%s}
  if [[ "$secs" =~ ^[0-9]+$ ]] && (( ASSERTION_TTL < secs + 2 )); then
    echo "NOTE: the assertion expires ${ASSERTION_TTL}s from now, before the run ends: the upstream still verifies it, but renders an error line instead of the user." >&2
  fi
}

# --- verification before measuring ---------------------------------------------
say "verifying the targets"
fresh_identity
v=$("$SETUP" get -url "$DIRECT_URL" "${ID_HDR[@]}" -status 200 -absent 'id="livery-chrome"') ||
  die "direct page check failed"
echo "  (a) direct: $v, no chrome" >&2
"$SETUP" get -url "$LIVERY_URL" -status 302 >/dev/null 2>&1 ||
  echo "  NOTE: (b) without the session cookie is not a 302 to sign-in" >&2
v=$("$SETUP" get -url "$LIVERY_URL" -H "$COOKIE" -status 200 -contains 'id="livery-chrome"' \
    -contains 'Bench support desk' -nonce -contains-file "$CAP/chrome_body.html" -contains-file "$CAP/chrome_head.html") ||
  die "Livery page check failed: not signed in (redirect?) or not branded"
echo "  (b) livery: $v, signed in (no redirect), contains id=\"livery-chrome\" and the approved branding" >&2
if [[ "$HAVE_NGINX" == 1 ]]; then
  v=$("$SETUP" get -url "$NGINX_URL" "${ID_HDR[@]}" -status 200 -contains-file "$CAP/chrome_body.html" \
      -contains-file "$CAP/chrome_head.html" -nonce) || die "nginx page check failed: the fragment is not injected"
  echo "  (c) nginx:  $v, contains the injected chrome ($CHROME_HEAD_BYTES + $CHROME_BODY_BYTES bytes, exact capture: $CHROME_EXACT)" >&2
fi
if [[ "$O2P" == 1 ]]; then
  "$SETUP" get -url "$O2P_URL" "${ID_HDR[@]}" -status 302 >/dev/null ||
    die "(e) without the oauth2-proxy cookie is not a redirect to sign-in: nginx does not ask oauth2-proxy"
  v=$("$SETUP" get -url "$O2P_URL" "${ID_HDR[@]}" -H "$O2P_HDR" -status 200 -contains-file "$CAP/chrome_body.html" \
      -contains-file "$CAP/chrome_head.html" -nonce) || die "oauth2-proxy row check failed: not signed in or not branded"
  echo "  (e) nginx auth_request + oauth2-proxy: $v, signed in (session cookie $O2P_COOKIE_BYTES bytes; without it: 302 to sign-in), contains the injected chrome" >&2
fi
if [[ "$FLOOR" == 1 ]]; then
  v=$("$SETUP" get -url "$FLOOR_URL" "${ID_HDR[@]}" -status 200 -contains-file "$CAP/chrome_body.html" \
      -contains-file "$CAP/chrome_head.html" -nonce -wait 10s) || die "floor page check failed (see $TMP/floor.log)"
  echo "  (d) floor:  $v, contains the injected chrome" >&2
fi
echo "  chrome: head $CHROME_HEAD_BYTES bytes + body $CHROME_BODY_BYTES bytes; upstream page $UPSTREAM_PAGE_BYTES bytes, Livery page $LIVERY_PAGE_BYTES bytes" >&2

# --- connection figures (--conns) --------------------------------------------------
if [[ "$CONNS_MODE" == 1 ]]; then
  echo
  echo "Connection figures — Livery (the demo process, pid $LIVERY_PID), $(nproc) CPUs shared with other work"
  idle() {
    say "$IDLE_CONNS idle keep-alive connections on the console listener"
    "$SETUP" idleconns -url "$LIVERY_URL" -H "$COOKIE" -pid "$LIVERY_PID" -n "$IDLE_CONNS" ||
      die "idle connections failed (see demo.log)"
  }
  if [[ "$UPSTREAM_MODE" == static ]]; then
    echo "NOTE: the static upstream does not proxy WebSockets: no WebSocket figure (use the default upstream)."
  else
    say "$WEBSOCKETS WebSockets through Livery to the demo console's /ws"
    "$SETUP" websockets -url "ws://${CONSOLE_URL#http://}/ws" -H "$COOKIE" -pid "$LIVERY_PID" -n "$WEBSOCKETS" ||
      die "WebSockets failed (see demo.log)"
  fi
  idle # after the WebSockets: their figure is the process's whole RSS, from a fresh start
  exit 0
fi

# --- measuring -------------------------------------------------------------------
# to_bytes "12.34MB" -> bytes (wrk uses 1024-based units)
to_bytes() {
  awk -v s="$1" 'BEGIN { n = s + 0; u = s; sub(/^[0-9.]+/, "", u);
    m = 1; if (u == "KB") m = 1024; else if (u == "MB") m = 1024^2; else if (u == "GB") m = 1024^3; else if (u == "TB") m = 1024^4;
    printf "%.0f", n * m }'
}
# to_ms "1.23ms" / "456.00us" / "1.20s" -> milliseconds
to_ms() {
  awk -v s="$1" 'BEGIN { n = s + 0; u = s; sub(/^[0-9.]+/, "", u);
    m = 1; if (u == "us") m = 0.001; else if (u == "s") m = 1000; else if (u == "m") m = 60000;
    printf "%.3f", n * m }'
}

# Server-side CPU: user+system ticks of the demo process (Livery
# and the demo console) and, for the nginx row, of nginx's master and
# workers. Unlike requests/s this hardly depends on other load on the
# machine.
HZ=$(getconf CLK_TCK)
# proxy_pids NAME: the processes of row NAME's proxy (none for direct; for
# livery none either when it shares its process with the upstream).
proxy_pids() {
  case $1 in
    livery) [[ -n "$UPSTREAM_PID" ]] && echo "$LIVERY_PID" ;;
    nginx) echo "$NGINX_PID"; ps -o pid= --ppid "$NGINX_PID" || true ;;
    floor) echo "$FLOOR_PID" ;;
    oauth2) echo "$NGINX_PID" "$O2P_PID"; ps -o pid= --ppid "$NGINX_PID" || true ;;
  esac
  return 0
}
# upstream_pids: the upstream's processes (the static nginx and its
# workers; the demo console; or the demo process that embeds it).
upstream_pids() {
  if [[ -n "$STATIC_PID" ]]; then
    echo "$STATIC_PID"; ps -o pid= --ppid "$STATIC_PID" || true
  else
    echo "${UPSTREAM_PID:-$LIVERY_PID}"
  fi
}
server_pids() {
  upstream_pids
  proxy_pids "$1"
}
cpu_ticks() {
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + v))
  done
  echo "$t"
}

# run_wrk NAME URL ROUND [headers...] -> $TMP/wrk-NAME-ROUND.txt, $TMP/cpu-NAME-ROUND.txt
# (ticks of all server processes, ticks of the proxy's own processes)
run_wrk() {
  local name=$1 url=$2 round=$3; shift 3
  if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
    "$WRK" -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$@" "$url" >/dev/null
  fi
  local pids ppids before pbefore
  pids=$(server_pids "$name")
  ppids=$(proxy_pids "$name")
  # shellcheck disable=SC2086 # lists of pids
  before=$(cpu_ticks $pids) pbefore=$(cpu_ticks $ppids)
  "$WRK" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" >"$TMP/wrk-$name-$round.txt"
  # shellcheck disable=SC2086
  echo $(( $(cpu_ticks $pids) - before )) $(( $(cpu_ticks $ppids) - pbefore )) >"$TMP/cpu-$name-$round.txt"
}

# parse NAME ROUND -> "rps avg p50 p90 p99 max bytes_per_resp errors cpu_us_per_req proxy_cpu_us_per_req"
parse() {
  local f="$TMP/wrk-$1-$2.txt"
  local rps avg max p50 p90 p99 reqs rbytes errs non2xx cpu
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
  avg=$(to_ms "$(awk '$1 == "Latency" && NF >= 4 { print $2; exit }' "$f")")
  max=$(to_ms "$(awk '$1 == "Latency" && NF >= 4 { print $4; exit }' "$f")")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")
  p90=$(to_ms "$(awk '$1 == "90%" { print $2 }' "$f")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")
  reqs=$(awk '/requests in/ { print $1 }' "$f")
  rbytes=$(to_bytes "$(awk '/requests in/ { print $5 }' "$f")")
  errs=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses/ { print $5 }' "$f")
  cpu=$(awk -v hz="$HZ" -v n="$reqs" '{ for (i = 1; i <= 2; i++) printf "%.1f ", (n > 0 ? $i * 1e6 / hz / n : 0) }' "$TMP/cpu-$1-$2.txt")
  echo "$rps $avg $p50 $p90 $p99 $max $(( rbytes / (reqs > 0 ? reqs : 1) )) $(( ${errs:-0} + ${non2xx:-0} )) $cpu"
}

targets=(direct livery)
[[ "$HAVE_NGINX" == 1 ]] && targets+=(nginx)
[[ "$FLOOR" == 1 ]] && targets+=(floor)
[[ "$O2P" == 1 ]] && targets+=(oauth2)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "measuring: wrk -t$THREADS -c$CONNS -d$DURATION --latency (warm-up $WARMUP), $ROUNDS round(s), page $PAGE"
for ((r = 1; r <= ROUNDS; r++)); do
  for t in "${targets[@]}"; do
    case $t in
      direct) fresh_identity; run_wrk direct "$DIRECT_URL" "$r" "${ID_HDR[@]}" ;;
      livery) run_wrk livery "$LIVERY_URL" "$r" -H "$COOKIE" ;;
      nginx) fresh_identity; run_wrk nginx "$NGINX_URL" "$r" "${ID_HDR[@]}" ;;
      floor) fresh_identity; run_wrk floor "$FLOOR_URL" "$r" "${ID_HDR[@]}" ;;
      oauth2) fresh_identity; run_wrk oauth2 "$O2P_URL" "$r" "${ID_HDR[@]}" -H "$O2P_HDR" ;;
    esac
    echo "  round $r $t: $(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-$t-$r.txt") req/s" >&2
  done
done

# The session must still be valid and the page branded after the runs.
"$SETUP" get -url "$LIVERY_URL" -H "$COOKIE" -status 200 -contains 'id="livery-chrome"' >/dev/null ||
  die "after the runs the Livery page is no longer 200 + branded: its numbers are not valid"

# median round per target (by requests/s)
# (and the median CPU per request, taken separately)
declare -A row range cpu pcpu
mid=$(( (ROUNDS + 1) / 2 ))
for t in "${targets[@]}"; do
  lines=()
  for ((r = 1; r <= ROUNDS; r++)); do lines+=("$(parse "$t" "$r")"); done
  sorted=$(printf '%s\n' "${lines[@]}" | sort -g -k1,1)
  row[$t]=$(sed -n "${mid}p" <<<"$sorted")
  range[$t]=$(awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }' <<<"$sorted")
  cpu[$t]=$(printf '%s\n' "${lines[@]}" | awk '{ print $9 }' | sort -g | sed -n "${mid}p")
  pcpu[$t]=$(printf '%s\n' "${lines[@]}" | awk '{ print $10 }' | sort -g | sed -n "${mid}p")
done

echo
echo "Livery benchmark — page $PAGE, wrk -t$THREADS -c$CONNS -d$DURATION, median of $ROUNDS round(s), $(nproc) CPUs shared by wrk, upstream, Livery and nginx"
echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ "$SAME_IDENTITY" == 1 ]] && echo "(direct and nginx requests carry the same X-Livery-Assertion: the upstream renders the same signed-in page in every row)"
printf '%-36s %8s %13s %7s %7s %7s %7s %7s %6s %6s %9s\n' "target" "req/s" "req/s range" "avg ms" "p50 ms" "p90 ms" "p99 ms" "max ms" "B/resp" "errors" "CPU us/req"
label() {
  case $1 in
    direct) echo "(a) direct upstream" ;;
    livery) echo "(b) livery (signed in + branding)" ;;
    nginx) echo "(c) nginx proxy + sub_filter" ;;
    floor) echo "(d) floor: bare Go proxy, same bytes" ;;
    oauth2) echo "(e) nginx auth_request+oauth2-proxy" ;;
  esac
}
for t in "${targets[@]}"; do
  read -r rps avg p50 p90 p99 max bpr errs _ <<<"${row[$t]}"
  printf '%-36s %8.0f %13s %7.2f %7.2f %7.2f %7.2f %7.2f %6s %6s %9s\n' "$(label "$t")" "$rps" "${range[$t]}" "$avg" "$p50" "$p90" "$p99" "$max" "$bpr" "$errs" "${cpu[$t]}"
done
[[ "$HAVE_NGINX" == 1 ]] || echo "(c) nginx proxy + sub_filter       skipped: nginx not found"
if [[ "$UPSTREAM_MODE" == static ]]; then
  echo "upstream: nginx serving a static $STATIC_BYTES-byte page. CPU us/req: server-side CPU (user+sys) per request, median"
  echo "round: the upstream nginx's processes plus the row's proxy (Livery; nginx; the floor; nginx and oauth2-proxy). wrk's CPU is not counted."
  own() { echo "${pcpu[$1]}"; }
  how="its own processes, median round"
elif [[ "$UPSTREAM_MODE" == process ]]; then
  echo "upstream: the demo console in its own process. CPU us/req: server-side CPU (user+sys) per request, median"
  echo "round: the upstream's process plus the row's proxy (Livery, nginx, floor). wrk's CPU is not counted."
  own() { echo "${pcpu[$1]}"; }
  how="its own processes, median round"
else
  echo "upstream: embedded in the demo process (Livery). CPU us/req: server-side CPU (user+sys) per request, median"
  echo "round: the demo process (Livery and the upstream) plus, in row (c), nginx's. wrk's CPU is not counted."
  own() { awk -v a="${cpu[$1]}" -v b="${cpu[direct]}" 'BEGIN { printf "%.1f", a - b }'; }
  how="row minus (a)"
fi
if [[ "$UPSTREAM_MODE" != embedded ]]; then
  # Each round's own CPU per request: how much the figure moves with the
  # machine's other load between back-to-back 10-second windows.
  for t in "${targets[@]}"; do
    [[ $t == direct ]] && continue
    echo "  own CPU per request of $t by round (us): $(for ((r = 1; r <= ROUNDS; r++)); do parse "$t" "$r" | awk '{ printf "%s ", $10 }'; done)"
  done
  if [[ "$FLOOR" == 1 ]]; then
    echo "  livery - floor by round (us): $(for ((r = 1; r <= ROUNDS; r++)); do
      paste -d' ' <(parse livery "$r") <(parse floor "$r") | awk '{ printf "%.1f ", $10 - $20 }'; done)"
  fi
fi
echo "Proxy's own CPU per request ($how): livery $(own livery) us$(
  [[ "$HAVE_NGINX" == 1 ]] && echo ", nginx+sub_filter $(own nginx) us")$(
  [[ "$FLOOR" == 1 ]] && echo ", floor $(own floor) us")$(
  [[ "$O2P" == 1 ]] && echo ", nginx auth_request+oauth2-proxy $(own oauth2) us")"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b; else printf "n/a" }'; }
read -r d_rps d_avg _ _ d_p99 _ <<<"${row[direct]}"
read -r l_rps l_avg _ _ l_p99 _ <<<"${row[livery]}"
echo "ratios (req/s > 1: Livery serves more; latency < 1: Livery answers sooner):"
echo "livery/direct: req/s x$(ratio "$l_rps" "$d_rps"), avg latency x$(ratio "$l_avg" "$d_avg"), p99 x$(ratio "$l_p99" "$d_p99")"
if [[ "$HAVE_NGINX" == 1 ]]; then
  read -r n_rps n_avg _ _ n_p99 _ <<<"${row[nginx]}"
  echo "livery/nginx:  req/s x$(ratio "$l_rps" "$n_rps"), avg latency x$(ratio "$l_avg" "$n_avg"), p99 x$(ratio "$l_p99" "$n_p99"), own CPU per request x$(ratio "$(own livery)" "$(own nginx)")"
  wins=0
  for ((r = 1; r <= ROUNDS; r++)); do
    lr=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-livery-$r.txt")
    nr=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-nginx-$r.txt")
    awk -v l="$lr" -v n="$nr" 'BEGIN { exit !(l >= n) }' && wins=$((wins + 1))
  done
  [[ "$FLOOR" == 1 ]] && echo "floor/nginx:   own CPU per request x$(ratio "$(own floor)" "$(own nginx)") (Go's HTTP stack alone);" \
    "livery - floor: $(awk -v a="$(own livery)" -v b="$(own floor)" 'BEGIN { printf "%.1f", a - b }') us per request for Livery's own work"
  echo "livery served at least as many req/s as nginx in $wins of $ROUNDS round(s) (same round, back to back)"
  if awk -v l="$l_rps" -v n="$n_rps" 'BEGIN { exit !(l >= n) }'; then
    echo "=> Livery is at least as fast as nginx+sub_filter on this page (req/s)."
  else
    echo "=> Livery is slower than nginx+sub_filter on this page (req/s x$(ratio "$l_rps" "$n_rps"))."
  fi
fi
if [[ "$O2P" == 1 ]]; then
  read -r o_rps o_avg _ _ o_p99 _ <<<"${row[oauth2]}"
  echo "livery/oauth2-proxy stack: req/s x$(ratio "$l_rps" "$o_rps"), avg latency x$(ratio "$l_avg" "$o_avg"), p99 x$(ratio "$l_p99" "$o_p99"), own CPU per request x$(ratio "$(own livery)" "$(own oauth2)")"
fi
# The targets of the performance note (docs/performance.md sections 3, 4).
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
echo "targets (this run):"
if [[ "$O2P" == 1 ]]; then
  echo "  livery >= 3x nginx+oauth2-proxy req/s, lower p99: $(verdict "$l_rps >= 3 * $o_rps && $l_p99 < $o_p99") (x$(ratio "$l_rps" "$o_rps"), p99 $l_p99 vs $o_p99 ms)"
fi
if [[ "$HAVE_NGINX" == 1 ]]; then
  echo "  livery >= 0.9x nginx+sub_filter req/s, p99 no higher: $(verdict "$l_rps >= 0.9 * $n_rps && $l_p99 <= $n_p99") (x$(ratio "$l_rps" "$n_rps"), p99 $l_p99 vs $n_p99 ms)"
fi
if [[ "$FLOOR" == 1 && "$UPSTREAM_MODE" != embedded ]]; then
  echo "  livery's own CPU per request <= 1.10x the floor's: $(verdict "$(own livery) <= 1.10 * $(own floor)") (x$(ratio "$(own livery)" "$(own floor)"), $(own livery) vs $(own floor) us)"
fi

# --- profile ------------------------------------------------------------------------
# shellcheck source=bench/profile.sh
source "$here/profile.sh"
profile_livery

# --- micro-benchmarks ------------------------------------------------------------
if [[ "$GO_BENCH" == 1 ]]; then
  echo
  echo "Injection / render micro-benchmarks (go test -run '^\$' -bench . -benchmem ./branding/inject ./branding/render):"
  (cd "$root" && go test -run '^$' -bench . -benchmem ./branding/inject ./branding/render) |
    awk '/^(Benchmark|pkg:|ok|FAIL)/' || echo "NOTE: the micro-benchmarks failed (output above)."
fi
