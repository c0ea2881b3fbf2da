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
# table each, the rest add a column to one), then times `cargo build` and
# `cargo check` (what an editor runs) of the app and of three control crates
# with the same structs: no dependency at all; migrator as a dependency but
# no derive and no embed; and `#[derive(serde::Serialize, serde::Deserialize)]`
# on each struct, the yardstick of a cheap derive. All after their
# dependencies are built, so only the crate itself is measured; each figure
# is the median of RUNS (default 3). With SCHEMA=1 (the default) a fifth
# crate is the app plus `mod schema { migrator::schema!(); }`, diesel's
# typed-query schema of the 200 tables (SCHEMA=0 for a checkout that
# predates the macro).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELS=${MODELS:-200}
MIGRATIONS=${MIGRATIONS:-500}
RUNS=${RUNS:-3}
SCHEMA=${SCHEMA:-1}
WORK=${WORK:-$(mktemp -d)}
export CARGO_TARGET_DIR="$WORK/target"
echo "work dir: $WORK" >&2

# The CLI that writes the migrations: release, since thousands of
# `generate` runs are only the set-up (MIGRATIONS=5000 is the memory case).
cargo build -q --release --manifest-path "$ROOT/Cargo.toml" -p migrator-cli
M="$CARGO_TARGET_DIR/release/migrator"

mkapp() { # name, kind: 1 (the app), 0 (plain), linked (migrator, no derive), serde, schema (the app with schema!())
  local dir="$WORK/$1" dep=""
  mkdir -p "$dir/src/models"
  case "$2" in
    1 | linked) dep='migrator = { path = "'"$ROOT"'", features = ["sqlite"] }' ;;
    schema) dep='migrator = { path = "'"$ROOT"'", features = ["sqlite"] }
diesel = { version = "2.3", default-features = false, features = ["sqlite"] }' ;;
    serde) dep='serde = { version = "1", features = ["derive"] }' ;;
  esac
  printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n[workspace]\n[dependencies]\n%s\n' \
    "$1" "$dep" > "$dir/Cargo.toml"
  if [ "$2" = 1 ] || [ "$2" = schema ]; then
    cat > "$dir/src/main.rs" <<'RS'
#![allow(dead_code)]
mod models;
static MIGRATIONS: migrator::EmbeddedMigrations = migrator::embed_migrations!("migrations");
fn main() {
    println!("{} migrations", MIGRATIONS.len());
}
RS
    if [ "$2" = schema ]; then
      printf 'mod schema {\n    migrator::schema!();\n}\n' >> "$dir/src/main.rs"
    fi
  else
    printf '#![allow(dead_code)]\nmod models;\nfn main() {}\n' > "$dir/src/main.rs"
  fi
}

# model file for table $1 with $2 extra columns
model() {
  local i=$1 extra=$2 derive=$3 c
  {
    [ "$derive" = 1 ] && echo "use migrator::Model;" && echo "#[derive(Model)]" && echo "#[model(table = \"t$i\")]"
    [ "$derive" = serde ] && echo "#[derive(serde::Serialize, serde::Deserialize)]"
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
mkapp control_linked linked
mkapp control_serde serde
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
for crate in control control_linked; do
  for i in $(seq 1 "$MODELS"); do model "$i" "${extra[$i]}" 0 "$crate"; done
  writemods "$crate" "$MODELS"
done
for i in $(seq 1 "$MODELS"); do model "$i" "${extra[$i]}" serde control_serde; done
writemods control_serde "$MODELS"
if [ "$SCHEMA" = 1 ]; then
  # The app's models, migrations and migrator.toml, plus the schema.
  mkapp app_schema schema
  rm -rf "$WORK/app_schema/src/models"
  cp -r "$WORK/app/src/models" "$WORK/app/migrations" "$WORK/app_schema/"
  mv "$WORK/app_schema/models" "$WORK/app_schema/src/models"
  cp "$WORK/app/migrator.toml" "$WORK/app_schema/"
fi

# one `generate` with nothing to do, on the final state (what a developer waits for)
t0=$(date +%s.%N); (cd "$WORK/app" && "$M" generate noop >/dev/null); gen_one=$(awk "BEGIN{print $(date +%s.%N) - $t0}")

once() { # dir, cargo command -> seconds
  local t0; t0=$(date +%s.%N)
  (cd "$1" && cargo "$2" -q 2>/dev/null)
  awk "BEGIN{print $(date +%s.%N) - $t0}"
}
timed() { # dir, cargo command, file to touch first -> median seconds of RUNS
  local runs=()
  for _ in $(seq 1 "$RUNS"); do touch "$1/$3"; runs+=("$(once "$1" "$2")"); done
  printf '%s\n' "${runs[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}
crates=(app control control_linked control_serde)
if [ "$SCHEMA" = 1 ]; then crates+=(app_schema); fi
# Dependencies first, so the timings below are the crates themselves.
for c in "${crates[@]}"; do
  (cd "$WORK/$c" && cargo build -q 2>/dev/null && cargo check -q 2>/dev/null)
done
declare -A full touch check
for c in "${crates[@]}"; do
  full[$c]=$(timed "$WORK/$c" build src/main.rs)
  touch[$c]=$(timed "$WORK/$c" build src/models/t1.rs)
  check[$c]=$(timed "$WORK/$c" check src/models/t1.rs)
done
app_snapshot=$(timed "$WORK/app" build migrations/schema.toml)
# Peak memory of the compiler on the app (GNU time reports the largest
# resident set among cargo and the rustc processes it waited for).
touch "$WORK/app/src/main.rs"
app_mb=$(cd "$WORK/app" && /usr/bin/time -f '%M' cargo build -q 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}')
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

printf '\n| %-70s | %10s |\n' "measure ($MODELS models, $MIGRATIONS migrations, debug, median of $RUNS)" "seconds"
printf '|%s|%s|\n' "------------------------------------------------------------------------" "------------"
printf '| %-70s | %10.2f |\n' "all \`migrator generate\` runs (average per run)" "$(awk "BEGIN{print $gen_total / $MIGRATIONS}")"
printf '| %-70s | %10.2f |\n' "\`migrator generate\` with nothing to do" "$gen_one"
row() { printf '| %-70s | %10.2f |\n' "$1" "$2"; }
row "build of the app crate (derive + embed), deps built" "${full[app]}"
row "build of the control crate (same structs, no dependency)" "${full[control]}"
row "build of the control crate with migrator linked (no derive, no embed)" "${full[control_linked]}"
row "build of the control crate with serde's derives" "${full[control_serde]}"
row "rebuild after touching one model file: app" "${touch[app]}"
row "rebuild after touching one model file: control" "${touch[control]}"
row "rebuild after touching one model file: control with migrator linked" "${touch[control_linked]}"
row "rebuild after touching one model file: control with serde" "${touch[control_serde]}"
row "\`cargo check\` after touching one model file: app" "${check[app]}"
row "\`cargo check\` after touching one model file: control" "${check[control]}"
row "\`cargo check\` after touching one model file: control with serde" "${check[control_serde]}"
if [ "$SCHEMA" = 1 ]; then
  row "build of the app with \`migrator::schema!()\` (diesel's \`table!\` x $MODELS)" "${full[app_schema]}"
  row "rebuild after touching one model file: app with \`schema!()\`" "${touch[app_schema]}"
  row "\`cargo check\` after touching one model file: app with \`schema!()\`" "${check[app_schema]}"
fi
row "rebuild after touching schema.toml: app" "$app_snapshot"
printf '| %-70s | %10s |\n' "peak memory of the app's build (MB)" "$app_mb"
echo
echo "app / control with migrator linked: build $(ratio "${full[app]}" "${full[control_linked]}")x, rebuild $(ratio "${touch[app]}" "${touch[control_linked]}")x"
if [ "$SCHEMA" = 1 ]; then
  echo "app with schema!() / app: build $(ratio "${full[app_schema]}" "${full[app]}")x, rebuild $(ratio "${touch[app_schema]}" "${touch[app]}")x, check $(ratio "${check[app_schema]}" "${check[app]}")x"
fi
echo "app / control with serde: build $(ratio "${full[app]}" "${full[control_serde]}")x, rebuild $(ratio "${touch[app]}" "${touch[control_serde]}")x, check $(ratio "${check[app]}" "${check[control_serde]}")x"
