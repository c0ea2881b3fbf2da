#!/usr/bin/env bash
# Tenants: `migrator --targets FILE --jobs J up` over N PostgreSQL schemas
# of one database, each getting M generated migrations (docs/BENCHMARKS.md
# "Tenants"). Prints, per N, the wall time of the run, the time per tenant
# and the slowest tenant's line, so that linearity in N can be read off.
#
#   bench/tenants/run.sh [N...]        default: 100 300 1000
#   env: MIGRATOR_BENCH_PG (default postgres://postgres@127.0.0.1:5432),
#        JOBS (default 4), MIGRATIONS (default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
PG="${MIGRATOR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
JOBS="${JOBS:-4}"
MIGRATIONS="${MIGRATIONS:-20}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 300 1000)

cargo build -q --release -p migrator-cli
BIN="$PWD/target/release/migrator"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"; psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS migrator_bench_tenants WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

# A project with $MIGRATIONS generated migrations: a table, then a column,
# an index or another table, one model change per migration.
P="$WORK/project"
mkdir -p "$P/src"
SCRATCH="sqlite://$WORK/scratch.db"
models() {
  local n=$1
  echo 'use migrator::Model;'
  echo '#[derive(Model)]'
  echo 'pub struct Account {'
  echo '    #[model(primary_key, auto_increment)]'
  echo '    pub id: i64,'
  for ((c = 1; c < n; c++)); do
    if ((c % 4 == 0)); then
      echo "    #[model(max_length = 40, index)]"
    else
      echo "    #[model(max_length = 40)]"
    fi
    echo "    pub field_$c: Option<String>,"
  done
  echo '}'
}
"$BIN" --dir "$P" --database-url "$SCRATCH" init >/dev/null
for ((m = 1; m <= MIGRATIONS; m++)); do
  models "$m" >"$P/src/models.rs"
  "$BIN" --dir "$P" --database-url "$SCRATCH" generate "step_$m" >/dev/null
done

printf '%-8s %-6s %-12s %-14s %s\n' tenants jobs wall per_tenant slowest
for N in "${SIZES[@]}"; do
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS migrator_bench_tenants WITH (FORCE)" >/dev/null
  psql -q "$PG/postgres" -c "CREATE DATABASE migrator_bench_tenants" >/dev/null
  : >"$WORK/targets.txt"
  SQL=""
  for ((i = 0; i < N; i++)); do
    SQL+="CREATE SCHEMA t_$i;"
    echo "$PG/migrator_bench_tenants schema=t_$i" >>"$WORK/targets.txt"
  done
  psql -q "$PG/migrator_bench_tenants" -c "$SQL" >/dev/null
  START=$(date +%s.%N)
  "$BIN" --dir "$P" --targets "$WORK/targets.txt" --jobs "$JOBS" up >"$WORK/out.txt" 2>&1
  END=$(date +%s.%N)
  grep -q ": $N ok, 0 failed" "$WORK/out.txt" || { tail -20 "$WORK/out.txt"; exit 1; }
  WALL=$(echo "$END - $START" | bc -l)
  PER=$(echo "$WALL * 1000 / $N" | bc -l)
  SLOWEST=$(grep '^\[' "$WORK/out.txt" | sed -E 's/.*\(([0-9.]+) (ms|s)\)$/\1 \2/' | awk '{v=$1; if ($2=="s") v*=1000; if (v>m) m=v} END {printf "%.0f ms", m}')
  printf '%-8s %-6s %-12s %-14s %s\n' "$N" "$JOBS" "$(printf '%.1f s' "$WALL")" "$(printf '%.1f ms' "$PER")" "$SLOWEST"
done
