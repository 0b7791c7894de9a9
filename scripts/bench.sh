#!/usr/bin/env bash
# Side-by-side benchmark: ecs-state-logger's bootstrap against the Python recipe it replaces.
# Run by `make bench` / `make bench-short`, after `make build` made the package.
#
#   BENCH_EVENTS       events per run (default 2000)
#   BENCH_REPETITIONS  runs per implementation; medians are reported (default 5)
#   BENCH_SEED         seed of the generated event stream (default 20261120)
#   BENCH_PROFILE      cargo profile of the driver: release for timed runs; a one-repetition
#                      smoke run uses dev, the build `make test` has already made (default)
#   BENCH_COLD_RUNS    cold path: fresh processes per implementation and memory size, against
#                      the local API over TLS, in a CPU quota of Lambda's share (default 5;
#                      0 skips it)
#   BENCH_COLD_MEMORY  cold path: memory sizes in MB (default 128,256,512)
#   BENCH_COLD_ONLY    1: only the cold path
#   BASELINE_DIR       the Python recipe (default ../shared/baseline/python-recipe)
#   ENV                environment whose tfvars name the region and table (default local)
#
# Writes build/bench/results.md (also printed) and build/bench/results.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

events="${BENCH_EVENTS:-2000}"
repetitions="${BENCH_REPETITIONS:-5}"
seed="${BENCH_SEED:-20261120}"
if [[ -z "${BENCH_PROFILE:-}" ]]; then
  if [[ "$repetitions" -le 1 ]]; then BENCH_PROFILE=dev; else BENCH_PROFILE=release; fi
fi
baseline_src="${BASELINE_DIR:-$root/../shared/baseline/python-recipe}"
out="$root/build/bench"
lambda_dir="$root/target/lambda/ecs-state-logger"

die() { echo "bench: $*" >&2; exit 1; }

[[ -f "$lambda_dir/bootstrap" && -f "$lambda_dir/bootstrap.zip" ]] ||
  die "no $lambda_dir/bootstrap(.zip): run 'make build' first"
[[ -f "$baseline_src/handler.py" ]] || die "no $baseline_src/handler.py: set BASELINE_DIR to the Python recipe"
command -v moto_server >/dev/null || die "moto_server is not on PATH: run 'make tools'"

# The interpreter itself, not a shim (pyenv's shims are shell scripts that would add their
# own start-up to the recipe's init time).
python="$(${PYTHON:-python3} -c 'import sys; print(sys.executable)')"
"$python" -c 'import awslambdaric, boto3' 2>/dev/null ||
  die "$python lacks awslambdaric or boto3: run 'make tools'"

# A snapshot of the package, taken when it is whole: a build running meanwhile (another
# checkout's `make build`) must neither change what is measured nor find our running
# bootstrap in its way ("Text file busy").
mkdir -p "$out/package"
check_package='
import os, sys, zipfile
archive, binary = sys.argv[1:]
with zipfile.ZipFile(archive) as z:
    whole = z.testzip() is None and z.getinfo("bootstrap").file_size == os.path.getsize(binary)
sys.exit(0 if whole else 1)'
for attempt in 1 2 3 4 5 6; do
  cp "$lambda_dir/bootstrap" "$out/package/bootstrap.new"
  cp "$lambda_dir/bootstrap.zip" "$out/package/bootstrap.zip"
  if "$python" -c "$check_package" "$out/package/bootstrap.zip" "$out/package/bootstrap.new" 2>/dev/null; then
    mv "$out/package/bootstrap.new" "$out/package/bootstrap"
    break
  fi
  [[ "$attempt" -lt 6 ]] || die "$lambda_dir/bootstrap.zip does not hold $lambda_dir/bootstrap: run 'make build' again"
  sleep 5
done

# The recipe's task root and package: handler.py alone (the Python runtime provides boto3).
mkdir -p "$out/python-recipe"
cp "$baseline_src/handler.py" "$out/python-recipe/handler.py"
rm -f "$out/python-recipe.zip"
"$python" -m zipfile -c "$out/python-recipe.zip" "$out/python-recipe/handler.py"

versions="$("$python" - <<'EOF'
import importlib.metadata as m, platform
names = ["boto3", "botocore", "awslambdaric", "moto"]
print(", ".join([f"Python {platform.python_version()}"] + [f"{n} {m.version(n)}" for n in names]))
EOF
)"
rust_version="$(rustc --version 2>/dev/null | cut -d' ' -f1-2 || true)"
lambda_version="$(cargo lambda --version 2>/dev/null | awk '{print $2}' || true)"
versions="$versions, $rust_version, cargo-lambda $lambda_version, driver built with the $BENCH_PROFILE profile"

profile_flag=()
[[ "$BENCH_PROFILE" == dev ]] || profile_flag=(--profile "$BENCH_PROFILE")

cargo build --quiet -p harness --bin bench "${profile_flag[@]}"
target_dir="$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
profile_dir="$BENCH_PROFILE"; [[ "$BENCH_PROFILE" == dev ]] && profile_dir=debug

PYTHON="$python" "$target_dir/$profile_dir/bench" \
  --bootstrap "$out/package/bootstrap" \
  --package "$out/package/bootstrap.zip" \
  --baseline-dir "$out/python-recipe" \
  --baseline-package "$out/python-recipe.zip" \
  --events "$events" \
  --repetitions "$repetitions" \
  --seed "$seed" \
  --environment "${ENV:-local}" \
  --out "$out" \
  --versions "$versions" \
  --cold-runs "${BENCH_COLD_RUNS:-5}" \
  --cold-memory "${BENCH_COLD_MEMORY:-128,256,512}" \
  --moto-tls "$root/scripts/moto-tls.py" \
  ${BENCH_COLD_ONLY:+--cold-only}
