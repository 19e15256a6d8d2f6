# bench/profile.sh — sourced by bench/run.sh for --profile: one more wrk
# run against Livery with `perf record -g` attached to the demo (cmd/demo)
# process, and a summary of where that process's CPU time goes; then the
# same for the floor (row d), so that Livery's own work shows as the
# difference between the two profiles (same wrk load, same page).
# Uses run.sh's variables (WRK, THREADS, CONNS, DURATION, COOKIE,
# LIVERY_URL, LIVERY_PID, FLOOR, FLOOR_URL, FLOOR_PID, ID_HDR,
# UPSTREAM_MODE, TMP, KEEP).

# profile_one NAME PID URL [wrk headers...]
profile_one() {
  local name=$1 pid=$2 url=$3; shift 3
  local secs=${DURATION%s}; [[ "$secs" =~ ^[0-9]+$ ]] || secs=10
  "$WRK" -t"$THREADS" -c"$CONNS" -d"$((secs + 2))s" "$@" "$url" >"$TMP/wrk-profile-$name.txt" &
  local wrk_pid=$!
  sleep 1
  local before after
  before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  perf record -q -F 997 -g -p "$pid" -o "$TMP/perf-$name.data" -- sleep "$secs" 2>"$TMP/perf-$name.log" || true
  after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  wait "$wrk_pid" || true
  if [[ ! -s "$TMP/perf-$name.data" ]]; then
    echo "NOTE: perf recorded nothing for $name (see $TMP/perf-$name.log)."
    return 0
  fi
  local rps
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-profile-$name.txt")
  echo "CPU profile of the $name process under wrk ($rps req/s with perf attached;" \
    "$(awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v s="$secs" -v r="$rps" \
      'BEGIN { printf "%.1f us CPU per request", t * 1e6 / hz / (s * r) }') while perf ran)."
  [[ "$name" == livery && "$UPSTREAM_MODE" == embedded ]] &&
    echo "The demo process also runs the demo console: its share is the upstream's work, not Livery's."
  # Attribute every sample to the first matching area of its call stack.
  perf script -i "$TMP/perf-$name.data" -F comm,tid,ip,sym 2>/dev/null | awk '
    function area(st) {
      if (st ~ /democonsole\/console/)                  return "upstream: demo console handler (page render, ES256 assertion verify)"
      if (st ~ /net\/http\.\(\*conn\)\.serve/)          return "upstream: net/http server (read request, write response)"
      if (st ~ /gcBgMarkWorker|bgsweep|bgscavenge/)     return "Go GC background workers (whole process)"
      if (st ~ /writeBody(Chunked|FixedSize|Stream)/ && st ~ /inject/) return "chrome injection (inject reader, reading the upstream body)"
      if (st ~ /writeBody(Chunked|FixedSize|Stream)/)   return "writing the body to the client"
      if (st ~ /accessLog|AccessLog/ && st ~ /slog/)    return "access log"
      if (st ~ /HostClient|persistConn/)                return "HTTP client to the upstream (send request, read response)"
      if (st ~ /Transform|inject\./)                    return "chrome injection (buffered page)"
      if (st ~ /accessLog|AccessLog|authenticate|Proxy\)\.Handle/) return "handler chain (session, authz, assertion, proxy, chrome, CSP)"
      if (st ~ /fasthttp/)                              return "fasthttp server (read request, write headers and body)"
      if (st ~ /runtime\.(mcall|schedule|findRunnable|park_m)/) return "Go scheduler"
      return "other (kernel, runtime, timers)"
    }
    /^[^ \t]/ { if (st != "") { c[area(st)]++; n++ } st = ""; next }
    NF { st = st " " $2 }
    END { if (st != "") { c[area(st)]++; n++ }
          for (k in c) printf "  %5.1f%%  %s\n", 100 * c[k] / n, k }' | sort -rn || true
  echo "  hottest functions (self time):"
  perf report -i "$TMP/perf-$name.data" --stdio --no-children --sort sym -g none 2>/dev/null |
    grep -v '^#' | grep . | head -15 | sed 's/^/  /' || true
  if [[ "$KEEP" == 1 ]]; then echo "  (perf report -i $TMP/perf-$name.data for more)"; else echo "  (run with --keep to keep perf-$name.data)"; fi
}

profile_livery() {
  [[ "$PROFILE" == 1 ]] || return 0
  echo
  if ! command -v perf >/dev/null; then
    echo "NOTE: perf not found: no profile."
    return 0
  fi
  profile_one livery "$LIVERY_PID" "$LIVERY_URL" -H "$COOKIE"
  if [[ "$FLOOR" == 1 ]]; then
    echo
    fresh_identity
    profile_one floor "$FLOOR_PID" "$FLOOR_URL" "${ID_HDR[@]}"
  fi
}
