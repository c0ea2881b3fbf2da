#!/usr/bin/env bash
# Compile-time cost of #[derive(Model)] (with its snapshot drift check) and
# embed_migrations! on an application with 200 models and 500 migrations,
# side by side with the same structs without migrator.
#
#   bash bench/compile_time/run.sh            # prints a table
#   MODELS=50 MIGRATIONS=120 bash bench/compile_time/run.sh   # smaller
#
# It builds the `migrator` CLI, writes the models one table at a time and runs
# `migrator generate` after each step (the first MODELS migrations create a
# table each, the rest add a column to one), then times `cargo build` of the
# app and of a control crate with the same structs and no migrator (both after
# their dependencies are built, so only the crate itself is measured).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELS=${MODELS:-200}
MIGRATIONS=${MIGRATIONS:-500}
WORK=${WORK:-$(mktemp -d)}
export CARGO_TARGET_DIR="$WORK/target"
echo "work dir: $WORK" >&2

cargo build -q --manifest-path "$ROOT/Cargo.toml" -p migrator-cli
M="$CARGO_TARGET_DIR/debug/migrator"

mkapp() { # name, with_migrator(0|1)
  local dir="$WORK/$1"
  mkdir -p "$dir/src/models"
  if [ "$2" = 1 ]; then
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.1.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
migrator = { path = "$ROOT", features = ["sqlite"] }
TOML
    cat > "$dir/src/main.rs" <<'RS'
#![allow(dead_code)]
mod models;
static MIGRATIONS: migrator::EmbeddedMigrations = migrator::embed_migrations!("migrations");
fn main() {
    println!("{} migrations", MIGRATIONS.len());
}
RS
  else
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.1.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
TOML
    cat > "$dir/src/main.rs" <<'RS'
#![allow(dead_code)]
mod models;
fn main() {}
RS
  fi
}

# model file for table $1 with $2 extra columns
model() {
  local i=$1 extra=$2 derive=$3
  {
    [ "$derive" = 1 ] && echo "use migrator::Model;" && echo "#[derive(Model)]" && echo "#[model(table = \"t$i\")]"
    echo "pub struct T$i {"
    [ "$derive" = 1 ] && echo "    #[model(primary_key, auto_increment)]"
    echo "    pub id: i64,"
    [ "$derive" = 1 ] && echo "    #[model(max_length = 100)]"
    echo "    pub name: String,"
    for c in $(seq 1 "$extra"); do
      echo "    pub c$c: Option<i64>,"
    done
    echo "}"
  } > "$WORK/$4/src/models/t$i.rs"
}

mkapp app 1
mkapp control 0
extra=()
for i in $(seq 1 "$MODELS"); do extra[$i]=0; done
writemods() { # crate
  : > "$WORK/$1/src/models/mod.rs"
  for i in $(seq 1 "$2"); do echo "pub mod t$i;" >> "$WORK/$1/src/models/mod.rs"; done
}

(cd "$WORK/app" && "$M" init >/dev/null)
echo "generating $MIGRATIONS migrations for $MODELS models..." >&2
started=$(date +%s.%N)
n=0
for i in $(seq 1 "$MODELS"); do
  model "$i" 0 1 app
  writemods app "$i"
  (cd "$WORK/app" && "$M" generate "create_t$i" >/dev/null)
  n=$((n + 1))
done
while [ "$n" -lt "$MIGRATIONS" ]; do
  i=$(( (n % MODELS) + 1 ))
  extra[$i]=$(( extra[$i] + 1 ))
  model "$i" "${extra[$i]}" 1 app
  (cd "$WORK/app" && "$M" generate "add_c${extra[$i]}_to_t$i" >/dev/null)
  n=$((n + 1))
done
gen_total=$(awk "BEGIN{print $(date +%s.%N) - $started}")
for i in $(seq 1 "$MODELS"); do model "$i" "${extra[$i]}" 0 control; done
writemods control "$MODELS"

# one `generate` with nothing to do, on the final state (what a developer waits for)
t0=$(date +%s.%N); (cd "$WORK/app" && "$M" generate noop >/dev/null); gen_one=$(awk "BEGIN{print $(date +%s.%N) - $t0}")

timed() { # dir -> seconds of `cargo build`
  local t0; t0=$(date +%s.%N)
  (cd "$1" && cargo build -q 2>/dev/null)
  awk "BEGIN{print $(date +%s.%N) - $t0}"
}
# Dependencies first, so the timings below are the crates themselves.
(cd "$WORK/app" && cargo build -q 2>/dev/null)
(cd "$WORK/control" && cargo build -q 2>/dev/null)
touch "$WORK/app/src/main.rs" "$WORK/control/src/main.rs"
app_full=$(timed "$WORK/app"); control_full=$(timed "$WORK/control")
touch "$WORK/app/src/models/t1.rs" "$WORK/control/src/models/t1.rs"
app_touch=$(timed "$WORK/app"); control_touch=$(timed "$WORK/control")
touch "$WORK/app/migrations/schema.toml"
app_snapshot=$(timed "$WORK/app")

printf '\n| %-58s | %10s |\n' "measure ($MODELS models, $MIGRATIONS migrations, debug)" "seconds"
printf '|%s|%s|\n' "------------------------------------------------------------" "------------"
printf '| %-58s | %10.2f |\n' "all \`migrator generate\` runs (average per run)" "$(awk "BEGIN{print $gen_total / $MIGRATIONS}")"
printf '| %-58s | %10.2f |\n' "\`migrator generate\` with nothing to do" "$gen_one"
printf '| %-58s | %10.2f |\n' "build of the app crate (derive + embed), deps built" "$app_full"
printf '| %-58s | %10.2f |\n' "build of the control crate (same structs, no migrator)" "$control_full"
printf '| %-58s | %10.2f |\n' "rebuild after touching one model file: app" "$app_touch"
printf '| %-58s | %10.2f |\n' "rebuild after touching one model file: control" "$control_touch"
printf '| %-58s | %10.2f |\n' "rebuild after touching schema.toml: app" "$app_snapshot"
