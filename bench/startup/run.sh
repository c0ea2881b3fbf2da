#!/bin/sh
# Start-up check and apply time on SQLite and PostgreSQL, side by side in one
# run: migrator, diesel_migrations and the raw-SQL floor (this crate), then
# sqlx migrate and refinery (bench/peers, a separate crate: each links its
# own SQLite). Usage: bench/startup/run.sh [N] [PG_BASE_URL] (default 500
# and postgres://postgres@127.0.0.1:5432). Prints the Markdown table
# recorded in docs/BENCHMARKS.md.
set -e
cd "$(dirname "$0")"
n="${1:-500}"
pg="${2:-postgres://postgres@127.0.0.1:5432}"
cargo run --release --quiet --bin migrator-bench-startup -- "$n" "$pg"
(cd ../peers && cargo run --release --quiet -- "$n" "$pg")
