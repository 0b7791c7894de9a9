#!/usr/bin/env bash
# "Questions at scale": ecs-audit (release build) against the bare index query on moto, for a
# busy day and the same day twice over. Run by `make bench` (7,000 task runs, about 21,000
# events) and `make bench-short` (BENCH_SCALE_TASKS=300, to keep it working).
# Writes build/bench/scale.md (also printed) and build/bench/scale.json.
# BENCH_SCALE_QUESTIONS=report (a comma-separated subset of cluster,service,failures,report)
# asks only those; BENCH_SCALE_BASELINE=<an ecs-audit binary> asks each question of it too,
# on the same data, for before/after rows.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tasks="${BENCH_SCALE_TASKS:-7000}"
services="${BENCH_SCALE_SERVICES:-50}"
# The numbers are the release build's; the short run may use the dev build tests share.
profile="${BENCH_SCALE_PROFILE:-release}"
command -v aws >/dev/null || { echo "bench-scale: the AWS CLI is missing (make tools)" >&2; exit 1; }
# GNU time measures each child's peak RSS.
if [[ ! -x /usr/bin/time ]]; then
  (apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time; } >/dev/null 2>&1) \
    || { echo "bench-scale: SKIPPED: GNU time (/usr/bin/time) is missing and could not be installed (apt-get install time)" >&2; exit 0; }
fi
cargo build --quiet --profile "$profile" -p ecs-audit
cargo build --quiet -p harness --bin bench-scale
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/debug/bench-scale" --tasks "$tasks" --services "$services" \
  --ecs-audit "$target_dir/$([[ $profile == dev ]] && echo debug || echo "$profile")/ecs-audit" \
  --out "$root/build/bench" \
  ${BENCH_SCALE_QUESTIONS:+--questions "$BENCH_SCALE_QUESTIONS"} \
  ${BENCH_SCALE_BASELINE:+--baseline "$BENCH_SCALE_BASELINE"}
