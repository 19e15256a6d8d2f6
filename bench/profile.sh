# bench/profile.sh — sourced by bench/run.sh for --profile: one more wrk
# run against Livery with `perf record -g` attached to the demo (cmd/demo)
# process, and a summary of where that process's CPU time goes.
# Uses run.sh's variables (WRK, THREADS, CONNS, DURATION, COOKIE,
# LIVERY_URL, LIVERY_PID, UPSTREAM_MODE, TMP, KEEP).

profile_livery() {
  if [[ "$PROFILE" == 1 ]]; then
    echo
    if ! command -v perf >/dev/null; then
      echo "NOTE: perf not found: no profile."
    else
      secs=${DURATION%s}; [[ "$secs" =~ ^[0-9]+$ ]] || secs=10
      "$WRK" -t"$THREADS" -c"$CONNS" -d"$((secs + 2))s" -H "$COOKIE" "$LIVERY_URL" >"$TMP/wrk-profile.txt" &
      wrk_pid=$!
      sleep 1
      perf record -q -F 997 -g -p "$LIVERY_PID" -o "$TMP/perf.data" -- sleep "$secs" 2>"$TMP/perf.log" || true
      wait "$wrk_pid" || true
      if [[ -s "$TMP/perf.data" ]]; then
        echo "CPU profile of the demo process (Livery) under wrk on (b) ($(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-profile.txt") req/s with perf attached)."
        [[ "$UPSTREAM_MODE" == embedded ]] &&
          echo "The demo process also runs the demo console: its share is the upstream's work, not Livery's."
        # Attribute every sample to the first matching area of its call stack.
        perf script -i "$TMP/perf.data" -F comm,tid,ip,sym 2>/dev/null | awk '
          function area(st) {
            if (st ~ /democonsole\/console/)                  return "upstream: demo console handler (page render, ES256 assertion verify)"
            if (st ~ /net\/http\.\(\*conn\)\.serve/)          return "upstream: net/http server (read request, write response)"
            if (st ~ /gcBgMarkWorker|bgsweep|bgscavenge/)     return "Go GC background workers (whole process)"
            if (st ~ /writeBody(Chunked|FixedSize|Stream)/ && st ~ /inject/) return "livery: chrome injection (inject reader, reading the upstream body)"
            if (st ~ /writeBody(Chunked|FixedSize|Stream)/)   return "livery: writing the body to the client"
            if (st ~ /accessLog/ && st ~ /slog/)              return "livery: access log"
            if (st ~ /HostClient|persistConn/)                return "livery: HTTP client to the upstream (send request, read response headers)"
            if (st ~ /accessLog|authenticate|Proxy\)\.Handle/) return "livery: handler chain (session, authz, assertion, proxy, chrome, CSP)"
            if (st ~ /fasthttp/)                              return "livery: fasthttp server (read request, write headers)"
            if (st ~ /runtime\.(mcall|schedule|findRunnable|park_m)/) return "Go scheduler"
            return "other (kernel, runtime, timers)"
          }
          /^[^ \t]/ { if (st != "") { c[area(st)]++; n++ } st = ""; next }
          NF { st = st " " $2 }
          END { if (st != "") { c[area(st)]++; n++ }
                for (k in c) printf "  %5.1f%%  %s\n", 100 * c[k] / n, k }' | sort -rn || true
        echo "  hottest functions (self time):"
        perf report -i "$TMP/perf.data" --stdio --no-children --sort sym -g none 2>/dev/null |
          grep -v '^#' | grep . | head -12 | sed 's/^/  /' || true
        if [[ "$KEEP" == 1 ]]; then echo "  (perf report -i $TMP/perf.data for more)"; else echo "  (run with --keep to keep perf.data)"; fi
      else
        echo "NOTE: perf recorded nothing (see $TMP/perf.log)."
      fi
    fi
  fi
}
