#!/usr/bin/env bash
# Starts (or stops) moto server as the local AWS API at an endpoint URL, unless something
# already answers there. Used by `make deploy ENV=local`, `make demo` and `make replay`.
set -euo pipefail

usage() { echo "usage: $0 start|stop|status http://HOST:PORT" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1 endpoint=$2
hostport=${endpoint#*://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
[ -n "$host" ] && [ -n "$port" ] && [ "$port" != "$hostport" ] || { echo "local-api: cannot read host:port from $endpoint" >&2; exit 2; }
state_dir=${LOCAL_API_STATE_DIR:-build/local-api}
pid_file="$state_dir/moto-$port.pid"
log_file="$state_dir/moto-$port.log"

answering() { python3 - "$host" "$port" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

case $action in
  status)
    if answering; then echo "local AWS API answering at $endpoint"; else echo "nothing answers at $endpoint"; exit 1; fi ;;
  start)
    if answering; then echo "local AWS API already answering at $endpoint"; exit 0; fi
    command -v moto_server >/dev/null || { echo "local-api: moto_server not found: run 'make tools' (pip install -r tests/requirements.txt)" >&2; exit 1; }
    mkdir -p "$state_dir"
    nohup moto_server -H "$host" -p "$port" >"$log_file" 2>&1 &
    echo $! >"$pid_file"
    for _ in $(seq 1 100); do
      if answering; then echo "started moto server at $endpoint (pid $(cat "$pid_file"), log $log_file)"; exit 0; fi
      sleep 0.2
    done
    echo "local-api: moto server did not answer at $endpoint within 20 s; see $log_file" >&2
    tail -20 "$log_file" >&2 || true
    exit 1 ;;
  stop)
    if [ -f "$pid_file" ]; then
      kill "$(cat "$pid_file")" 2>/dev/null || true
      rm -f "$pid_file"
      echo "stopped moto server at $endpoint"
    else
      echo "no moto server started by this project at $endpoint"
    fi ;;
  *) usage ;;
esac
