#!/bin/sh
# Starts the seeded PostgreSQL of Serving Matrix.
#
#   POSTGRES_PASSWORD  required: the password of the bench role
#   PGPORT             port to listen on (default 5432)
#   PG_LISTEN          addresses to listen on (default *; empty for the socket only)
#
# The root file system is read-only (--read-only): the cluster built into the image is copied to the
# tmpfs at /var/run/postgresql (--tmpfs /var/run/postgresql), which also holds the socket.
set -eu

seed_dir=/var/lib/postgresql/seed
run_dir=/var/run/postgresql
data_dir=$run_dir/data
port=${PGPORT:-5432}
listen=${PG_LISTEN-*}

fail() {
    echo "postgres: $*" >&2
    exit 2
}

[ -n "${POSTGRES_PASSWORD:-}" ] || fail "POSTGRES_PASSWORD is not set; refusing to start without a password"
case $POSTGRES_PASSWORD in
*'
'*) fail "POSTGRES_PASSWORD must be one line" ;;
esac
case $port in
'' | *[!0-9]*) fail "PGPORT must be a port number, got '$port'" ;;
esac
[ -w "$run_dir" ] || fail "$run_dir is not writable; start the container with --tmpfs $run_dir"

# Every start begins from the same data, whatever an earlier run wrote.
rm -rf "$data_dir"
cp -a "$seed_dir" "$data_dir"
chmod 0700 "$data_dir"

# Set the password in single-user mode, before the server accepts any connection. Doubling single quotes
# is the whole escaping of a standard-conforming SQL string literal. Single-user mode exits 0 even when the
# statement fails, so its log is read instead; it must never echo the statement (it holds the password).
escaped=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
log=$(printf "ALTER ROLE bench PASSWORD '%s';\n\n" "$escaped" |
    postgres --single -j -D "$data_dir" -c log_min_error_statement=panic postgres 2>&1 >/dev/null) ||
    fail "could not set the password of the bench role: $log"
unset escaped
case $log in
*ERROR:* | *FATAL:* | *PANIC:*) fail "could not set the password of the bench role: $log" ;;
esac

postgres -D "$data_dir" -c listen_addresses="$listen" -p "$port" &
pid=$!

# docker stop sends SIGTERM, which postgres takes as a smart shutdown: it would wait for every client (the
# app's pooled connections) to leave. Forward it as SIGINT, the fast shutdown; SIGQUIT stays immediate.
trap 'kill -INT "$pid" 2>/dev/null || :' TERM INT
trap 'kill -QUIT "$pid" 2>/dev/null || :' QUIT

# wait returns early when a trapped signal arrives; keep waiting until postgres itself has exited.
status=0
while :; do
    wait "$pid" && status=0 || status=$?
    kill -0 "$pid" 2>/dev/null || break
done
exit "$status"
