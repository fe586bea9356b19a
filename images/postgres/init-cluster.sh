#!/bin/sh
# Builds the seeded cluster the image ships, at image build time, as the postgres user:
#   init-cluster.sh SEED_DIR CONFIG_DIR
# SEED_DIR receives the cluster; CONFIG_DIR holds postgresql.benchmark.conf, pg_hba.conf and seed.sql.
set -eu

seed_dir=$1
config_dir=$2
socket_dir=$(mktemp -d)

initdb --pgdata="$seed_dir" --username=postgres --encoding=UTF8 --locale=C \
    --auth-local=peer --auth-host=scram-sha-256 --no-instructions
cp "$config_dir/postgresql.benchmark.conf" "$seed_dir/postgresql.benchmark.conf"
cp "$config_dir/pg_hba.conf" "$seed_dir/pg_hba.conf"
echo "include 'postgresql.benchmark.conf'" >>"$seed_dir/postgresql.conf"

# Listen on a private socket only: nothing but this script may connect while the cluster is built.
pg_ctl --pgdata="$seed_dir" --wait --silent \
    --options="-c listen_addresses='' -c unix_socket_directories='$socket_dir'" start

psql_run() {
    psql --no-psqlrc --quiet --host="$socket_dir" --username=postgres --set=ON_ERROR_STOP=1 "$@"
}
psql_run --dbname=postgres <<'SQL'
CREATE ROLE bench LOGIN;
CREATE DATABASE bench;
SQL
psql_run --dbname=bench --file="$config_dir/seed.sql"
# VACUUM FREEZE sets every hint bit now, so the first reads of a run do not dirty pages to set them.
psql_run --dbname=bench <<'SQL'
GRANT SELECT ON items TO bench;
VACUUM (FREEZE, ANALYZE) items;
SQL

pg_ctl --pgdata="$seed_dir" --wait --silent --mode=fast stop
rm -rf "$socket_dir"
