# Shared by .dev/run and .dev/test: install what is missing (skipping whatever is already there
# at the right version) and start a private PostgreSQL inside the project when DATABASE_URL is
# not set. Sourced, not run.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

CARGO_LEPTOS_VERSION=0.3.10
# The private cluster's folder; another one may be chosen (the test command's check of the run
# command uses a brand-new one).
PG_HOME="${ROSTER_PG_HOME:-$ROOT/target/postgres}"

# Builds check their queries against the committed offline data (.sqlx), never against a live
# database (a fresh machine has none with the tables yet). The Leptos settings are the ones
# cargo-leptos passes, so the run command, the test command and `cargo test` all see one build
# environment and reuse one another's compiled code.
export SQLX_OFFLINE=true
export LEPTOS_OUTPUT_NAME=roster LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Everything we install lands in ~/.cargo/bin or end2end/node_modules/.bin.
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/pg_ctl" ] && export PATH="$PATH:$dir"
done

# The release build: site files named by content hash (served immutable), brotli and gzip copies
# beside them, and each page's WebAssembly split into a module of its own (lazy routes).
build_release() {
  cargo leptos build --release --precompress --split
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Need root to run: $*" >&2; return 1
  fi
}

ensure_rust() {
  command -v cargo >/dev/null || { echo "Rust is not installed: see https://rustup.rs" >&2; exit 1; }
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 25 minutes on 2 cores, once per machine)"
    cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  # The wasm-bindgen CLI must be exactly the version of the library in Cargo.lock.
  local wanted
  wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wanted" ]; then
    log "Installing wasm-bindgen-cli $wanted"
    # Not --locked: one crate of its lock file is missing from the registry.
    cargo install "wasm-bindgen-cli@$wanted" --force
  fi
}

ensure_npm() {
  command -v npm >/dev/null || { echo "Node.js and npm are needed (node 20)" >&2; exit 1; }
  local stamp="$ROOT/end2end/node_modules/.installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
    log "Installing npm packages (Playwright, axe, maildev, binaryen's wasm-opt)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    touch "$stamp"
  fi
}

# schemathesis (PyPI), pinned, in its own virtual environment under target/tools.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$ROOT/target/tools/schemathesis"
  if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    log "Installing schemathesis $SCHEMATHESIS_VERSION"
    command -v python3 >/dev/null || { echo "python3 is needed for schemathesis" >&2; exit 1; }
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  SCHEMATHESIS="$venv/bin/schemathesis"
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "Installing Chromium"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Runs a PostgreSQL tool as the cluster's owner (initdb refuses root).
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts (or reuses) the private cluster in target/postgres and exports DATABASE_URL.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    return
  fi
  command -v pg_ctl >/dev/null || as_root apt-get install -y -qq postgresql >/dev/null
  local data="$PG_HOME/data"
  mkdir -p "$PG_HOME"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "Creating a private PostgreSQL cluster in ${PG_HOME#"$ROOT/"}"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$PG_HOME"
    pg_as_owner initdb -D "$data" -A trust -U roster -E UTF8 >/dev/null
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres: "$PG_HOME"
  local port
  local opts="${PG_EXTRA_OPTS:-}"
  if pg_as_owner pg_ctl status -D "$data" >/dev/null 2>&1; then
    port=$(cat "$PG_HOME/port")
    # Restart when a caller needs other server settings than the running ones (the benchmark).
    if [ "$(cat "$PG_HOME/options" 2>/dev/null)" != "$opts" ]; then
      log "Restarting PostgreSQL with: ${opts:-default settings}"
      pg_as_owner pg_ctl stop -D "$data" -m fast -w -s
      pg_as_owner pg_ctl start -D "$data" -l "$PG_HOME/server.log" -w -s \
        -o "-p $port -k $PG_HOME -c listen_addresses=127.0.0.1 -c max_connections=300 $opts"
      echo "$opts" >"$PG_HOME/options"
    fi
  else
    port=$(free_port 54329)
    echo "$port" >"$PG_HOME/port"
    log "Starting PostgreSQL on 127.0.0.1:$port"
    pg_as_owner pg_ctl start -D "$data" -l "$PG_HOME/server.log" -w -s \
      -o "-p $port -k $PG_HOME -c listen_addresses=127.0.0.1 -c max_connections=300 $opts"
    echo "$opts" >"$PG_HOME/options"
    PG_STARTED_HERE=1   # a caller that must leave nothing running stops it again (stop_postgres)
  fi
  export DATABASE_URL="postgres://roster@127.0.0.1:$port/roster"
  if ! psql "postgres://roster@127.0.0.1:$port/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'roster'" | grep -q 1; then
    psql "postgres://roster@127.0.0.1:$port/postgres" -qc "CREATE DATABASE roster" >/dev/null
  fi
}

# Stops the private cluster if this shell started it.
stop_postgres() {
  if [ "${PG_STARTED_HERE:-}" = 1 ]; then
    pg_as_owner pg_ctl stop -D "$PG_HOME/data" -m fast -w -s >/dev/null 2>&1 || true
    PG_STARTED_HERE=
  fi
}

# The database URL with another database name.
database_url_for() {
  echo "${DATABASE_URL%/*}/$1"
}

# The benchmarks' database roster_bench_N: one account ("Bench Solar", Administrator
# $BENCH_EMAIL) with N seeded customers, made once per N with the release binary.
BENCH_EMAIL=bench@roster.test
BENCH_PASSWORD=violet-kettle-onward
ensure_bench_db() {
  local n=$1 db="roster_bench_$1" url
  url="$(database_url_for "$db")"
  mkdir -p target/bench
  if ! psql "$url" -Atqc "SELECT customer_count FROM accounts" 2>/dev/null | grep -qx "$n"; then
    log "Seeding $n customers into $db"
    psql "$(database_url_for postgres)" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    echo "$BENCH_PASSWORD" | DATABASE_URL="$url" target/release/roster create-admin \
      --account "Bench Solar" --email "$BENCH_EMAIL" --name "Bench Admin" --password-stdin >/dev/null
    RUST_LOG=error DATABASE_URL="$url" target/release/roster seed --account "Bench Solar" --customers "$n" \
      | tee "target/bench/seed-$n.log"
  fi
}
