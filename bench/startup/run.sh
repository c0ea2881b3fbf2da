#!/bin/sh
# Start-up check and apply time, migrator vs diesel_migrations vs raw SQL,
# on SQLite and PostgreSQL. Usage: bench/startup/run.sh [N] [PG_BASE_URL]
# (default 500 and postgres://postgres@127.0.0.1:5432). Prints the Markdown
# table recorded in docs/BENCHMARKS.md.
set -e
cd "$(dirname "$0")"
cargo run --release --quiet -- "${1:-500}" "${2:-postgres://postgres@127.0.0.1:5432}"
