#!/usr/bin/env bash
# `make demo`: no AWS account needed. Starts the local AWS API (moto server), deploys
# environments/local (every region), replays a realistic day of ECS events through the real
# handler binary, and answers the five audit questions with ecs-audit, why the memory-killed task
# stopped (ecs-audit why), an HTML timeline, and the crash-loop message a subscriber of the
# failures topic received.
#
# Re-runnable: the day's events are kept in build/demo/events and replayed as they are for six
# hours (the handler's idempotent writes then answer "duplicate" to every one of them); after
# that a new day is generated and the previous demo's items are removed first.
# Exits non-zero on the first failure. Logs of every step are in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

ENV_NAME=local
# The Makefile's LOCAL_ENDPOINT: AWS_ENDPOINT_URL if set, else moto's default address.
ENDPOINT=${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}
DEMO_DIR=build/demo
EVENTS_DIR=$DEMO_DIR/events
REUSE_SECONDS=$((6 * 3600))
TARGET_DIR=${CARGO_TARGET_DIR:-target}
MAKE=(make --no-print-directory)
STEPS=6
started_at=$(date +%s)
current_step="setup"

mkdir -p "$DEMO_DIR"

step() {
  current_step="$2"
  printf '\n[%s/%s] %s ...\n' "$1" "$STEPS" "$2"
}
note() { printf '      %s\n' "$*"; }
heading() { printf '\n=== %s\n$ %s\n' "$1" "$2"; }
fail() { echo "demo: $*" >&2; exit 1; }
trap 'status=$?; [ $status -eq 0 ] || echo "demo: failed while ${current_step} (exit $status); logs in $DEMO_DIR/" >&2' EXIT

# Every AWS call of the demo goes to the local API with moto's test credentials, whatever the
# caller's AWS settings are.
local_aws=(env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_DEFAULT_PROFILE
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true)

# --------------------------------------------------------------------------------------------
step 1 "starting the local AWS API"
command -v terraform >/dev/null || fail "terraform is not installed (https://developer.hashicorp.com/terraform/install)"
command -v cargo >/dev/null || fail "cargo is not installed (https://rustup.rs)"
if ! command -v moto_server >/dev/null || ! command -v cargo-lambda >/dev/null; then
  note "installing the Python tools (make tools)"
  "${MAKE[@]}" tools
fi
AWS_ENDPOINT_URL=$ENDPOINT "${MAKE[@]}" local-api | sed 's/^/      /'
read -r -a REGIONS <<<"$(scripts/ecs-audit-env "$ENV_NAME" regions)"
TABLE=$(scripts/ecs-audit-env "$ENV_NAME" name)
[ "${#REGIONS[@]}" -ge 1 ] || fail "environments/$ENV_NAME/terraform.tfvars.json lists no regions"
note "environment $ENV_NAME: table $TABLE in ${REGIONS[*]}"

# --------------------------------------------------------------------------------------------
step 2 "building the handler (make build) and the ecs-audit, lambda-replay and demo-events tools"
# A bootstrap that another process (a test, a replay) is running cannot be overwritten
# ("Text file busy"): wait a little and try again before giving up.
for attempt in 1 2 3 4; do
  if "${MAKE[@]}" build >"$DEMO_DIR/build.log" 2>&1; then break; fi
  if [ "$attempt" -lt 4 ] && grep -q 'Text file busy' "$DEMO_DIR/build.log"; then
    note "the bootstrap is in use by another process; trying again in 10 s"
    sleep 10
    continue
  fi
  tail -30 "$DEMO_DIR/build.log" >&2
  fail "make build failed; see $DEMO_DIR/build.log"
done
# The dev profile: the tests build the same binaries, and compiling it is twice as fast.
cargo build --quiet -p ecs-audit --bin ecs-audit -p harness --bin lambda-replay --bin demo-events 2>>"$DEMO_DIR/build.log" \
  || { tail -30 "$DEMO_DIR/build.log" >&2; fail "cargo build failed; see $DEMO_DIR/build.log"; }
BOOTSTRAP=target/lambda/ecs-state-logger/bootstrap
AUDIT=$TARGET_DIR/debug/ecs-audit
REPLAY=$TARGET_DIR/debug/lambda-replay
# The day's events: a scenario of the harness's event generator (tests/harness/src/synthetic/demo_day.rs).
DEMO_EVENTS=$TARGET_DIR/debug/demo-events
for binary in "$BOOTSTRAP" "$AUDIT" "$REPLAY" "$DEMO_EVENTS"; do [ -x "$binary" ] || fail "$binary was not built"; done
note "bootstrap $(wc -c <"$BOOTSTRAP" | tr -d ' ') bytes ($(cat target/lambda/ecs-state-logger/ARCH)); $AUDIT; $REPLAY"

# --------------------------------------------------------------------------------------------
step 3 "deploying environments/$ENV_NAME to the local AWS API (make deploy ENV=$ENV_NAME, ${#REGIONS[@]} regions)"
if ! AWS_ENDPOINT_URL=$ENDPOINT "${local_aws[@]}" "${MAKE[@]}" deploy ENV="$ENV_NAME" >"$DEMO_DIR/deploy.log" 2>&1; then
  tail -40 "$DEMO_DIR/deploy.log" >&2
  fail "make deploy ENV=$ENV_NAME failed; see $DEMO_DIR/deploy.log"
fi
grep -E '^Apply complete|^No changes' "$DEMO_DIR/deploy.log" | sed 's/^/      /' || true
terraform -chdir="environments/$ENV_NAME" output -json regions 2>>"$DEMO_DIR/deploy.log" >"$DEMO_DIR/deployed.json" \
  || fail "terraform output failed; see $DEMO_DIR/deploy.log"
python3 - "$DEMO_DIR/deployed.json" <<'PY'
import json, sys
for region, out in sorted(json.load(open(sys.argv[1])).items()):
    print(f"      {region}: table {out['table_name']}, function {out['function_name']}, rule {out['rule_name']}")
PY

# A queue subscribed to each region's failures topic, as a person's e-mail or chat channel
# would be: after the replay it holds what they would have received.
declare -A FAILURES_TOPIC SUBSCRIBER_QUEUE
for region in "${REGIONS[@]}"; do
  FAILURES_TOPIC[$region]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["failures_topic_arn"])' \
    "$DEMO_DIR/deployed.json" "$region")
  queue_url=$("${local_aws[@]}" aws --endpoint-url "$ENDPOINT" --region "$region" sqs create-queue \
    --queue-name "$TABLE-demo-subscriber" --query QueueUrl --output text)
  # Kept across reruns: a rerun that replays the same day records only duplicates, which
  # announce nothing again, so the first run's messages are what there is to show.
  queue_arn=$("${local_aws[@]}" aws --endpoint-url "$ENDPOINT" --region "$region" sqs get-queue-attributes \
    --queue-url "$queue_url" --attribute-names QueueArn --query Attributes.QueueArn --output text)
  "${local_aws[@]}" aws --endpoint-url "$ENDPOINT" --region "$region" sns subscribe --topic-arn "${FAILURES_TOPIC[$region]}" \
    --protocol sqs --notification-endpoint "$queue_arn" >/dev/null
  SUBSCRIBER_QUEUE[$region]=$queue_url
done
note "a queue subscribed to each region's failures topic (${FAILURES_TOPIC[${REGIONS[0]}]}, ...)"

# --------------------------------------------------------------------------------------------
step 4 "generating a day of ECS events for ${#REGIONS[@]} regions"
now=$(date +%s)
anchor=""
# A changed scenario makes a different day: the kept one is reused only if it made it.
generator=$("$DEMO_EVENTS" fingerprint)
if [ -f "$EVENTS_DIR/anchor" ] && [ -f "$EVENTS_DIR/manifest.json" ] \
    && [ "$(cat "$EVENTS_DIR/generator" 2>/dev/null)" = "$generator" ]; then
  previous=$(cat "$EVENTS_DIR/anchor")
  same_regions=$(python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["regions"]) == sorted(sys.argv[2:]))' \
    "$EVENTS_DIR/manifest.json" "${REGIONS[@]}")
  if [ "$same_regions" = True ] && [ $((now - previous)) -lt "$REUSE_SECONDS" ]; then
    anchor=$previous
    note "reusing the day generated $(((now - previous) / 60)) min ago in $EVENTS_DIR (same files: replaying them again must be all duplicates)"
  fi
fi
if [ -z "$anchor" ]; then
  anchor=$now
  "$DEMO_EVENTS" purge --endpoint "$ENDPOINT" --table "$TABLE" "${REGIONS[@]}" \
    || fail "removing the previous demo's items failed"
  "$DEMO_EVENTS" generate --anchor "$anchor" --out "$EVENTS_DIR" "${REGIONS[@]}" \
    || fail "generating the day's events failed"
  echo "$anchor" >"$EVENTS_DIR/anchor"
  echo "$generator" >"$EVENTS_DIR/generator"
fi
# shellcheck disable=SC1091
source "$EVENTS_DIR/scenario.env"
note "the day ends at $DEMO_ANCHOR; cluster $DEMO_CLUSTER in every region"
note "a web deployment that fails and rolls back, a Fargate Spot interruption, an image that cannot be pulled,"
note "an out-of-memory kill (exit 137), placement failures (RESOURCE:FARGATE, RESOURCE:MEMORY), a task replaced"
note "for failing its load balancer's health checks, healthy tasks, duplicate and out-of-order deliveries"

# --------------------------------------------------------------------------------------------
step 5 "replaying the events through the real handler (lambda-replay → $BOOTSTRAP)"
replay() { # pass region: replays the region's files, prints the summary, sets $written
  local pass=$1 region=$2
  local log="$DEMO_DIR/replay-$region-$pass.log" logs="$DEMO_DIR/function-logs/$region-$pass"
  mkdir -p "$logs"
  # The function publishes to the region's failures topic, as deployed (FAILURES_TOPIC_ARN).
  if ! "${local_aws[@]}" "$REPLAY" --bootstrap "$BOOTSTRAP" --environment "$ENV_NAME" --endpoint "$ENDPOINT" \
    --region "$region" --events "$EVENTS_DIR/$region" --log-dir "$logs" \
    --env "FAILURES_TOPIC_ARN=${FAILURES_TOPIC[$region]}" >"$log" 2>&1; then
    tail -20 "$log" >&2
    fail "replaying $EVENTS_DIR/$region failed; see $log"
  fi
  local summary
  summary=$(grep -m1 '^replayed ' "$log") || fail "no summary in $log"
  note "$region ($pass pass): ${summary}"
  written=$(sed -nE 's/.* ([0-9]+) written.*/\1/p' <<<"$summary")
  written=${written:-0}
}
written=0
for region in "${REGIONS[@]}"; do
  read -r events duplicates < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["regions"][sys.argv[2]]; print(m["events"], m["duplicates"])' \
    "$EVENTS_DIR/manifest.json" "$region")
  note "$region: $events deliveries, $duplicates of them an event delivered again"
  replay first "$region"
done
note "the same files once more: the handler writes an item only if its key is new, so all must be duplicates"
for region in "${REGIONS[@]}"; do
  replay second "$region"
  [ "$written" = 0 ] || fail "the second replay in $region wrote $written items: the writes are not idempotent"
done
note "per-event lines: $DEMO_DIR/replay-<region>-<pass>.log"

# --------------------------------------------------------------------------------------------
step 6 "asking the five audit questions, and why a task stopped, with ecs-audit"
audit() {
  AWS_ENDPOINT_URL=$ENDPOINT "${local_aws[@]}" "$AUDIT" --env "$ENV_NAME" "$@"
}
show() { # title, args...
  local title=$1
  shift
  heading "$title" "ecs-audit --env $ENV_NAME $*"
  audit "$@"
}
show "(a) A task's lifecycle: the task killed for memory, in version order although its events arrived out of order and twice" \
  --region "$OOM_REGION" task "$OOM_TASK"
show "(b) A task definition's runs: every finished run of the scheduled job 'report' (revision 13 could not pull its image)" \
  --region "$PULL_REGION" definition report --since 1d
show "(c) A cluster's events, newest first: cluster $DEMO_CLUSTER in $OOM_REGION (EC2: the memory kill, the placement failure, a new instance)" \
  --region "$OOM_REGION" cluster "$DEMO_CLUSTER" --since 1d
show "(d) A cluster's failures, every region at once (--all-regions), merged by time" \
  --all-regions cluster "$DEMO_CLUSTER" --since 1d --failures
show "(e) A service's events: the deployment of $DEMO_CLUSTER/web that failed and rolled back" \
  --region "$DEPLOY_REGION" service "$DEMO_CLUSTER/web" --since 1d
show "(f) Why did it stop? The memory kill: its ending explained, its images, the deployment that started it, the service around the stop, the runs that ended the same way" \
  why "$OOM_TASK"
show "The timeline report: every region's tasks as bars per service, failures explained" \
  --all-regions report --cluster "$DEMO_CLUSTER" --since 1d --html "$DEMO_DIR/timeline.html"

heading "The crash-loop message the failures topic sent for the failing rollout of web (what an e-mail or chat subscriber received)" \
  "aws sqs receive-message --queue-url ${SUBSCRIBER_QUEUE[$DEPLOY_REGION]}"
current_step="reading the failures topic's messages"
"${local_aws[@]}" python3 - "$ENDPOINT" "$DEPLOY_REGION" "${SUBSCRIBER_QUEUE[$DEPLOY_REGION]}" <<'PY' \
  || fail "no crash-loop message for web arrived on the failures topic"
import json, sys
import boto3  # installed with moto (tests/requirements.txt)

endpoint, region, queue_url = sys.argv[1:4]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
kinds, loop, seen = {}, None, []
while True:
    # Hidden while read, so that every message comes once; shown again below for a rerun.
    batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
    if not batch:
        break
    for message in batch:
        seen.append(message["ReceiptHandle"])
        envelope = json.loads(message["Body"])
        attributes = envelope.get("MessageAttributes", {})
        kind = attributes.get("notification", {}).get("Value", "")
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "crash-loop-started" and attributes.get("service", {}).get("Value") == "web":
            if loop is None or envelope["Timestamp"] > loop["Timestamp"]:
                loop = envelope
for handle in seen:
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
print("received: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
if loop is None:
    sys.exit(1)
chat = json.loads(loop["Message"])
print(f"subject:    {loop['Subject']}")
print("attributes: " + ", ".join(f"{k}={v['Value']}" for k, v in sorted(loop["MessageAttributes"].items())))
print(f"chat card:  {chat['content']['title']}")
print(f"            {chat['content']['description']}")
PY

current_step="finishing"
printf '\ndemo finished in %ss. Open %s in a browser; the local AWS API keeps running at %s\n' \
  "$(($(date +%s) - started_at))" "$(pwd)/$DEMO_DIR/timeline.html" "$ENDPOINT"
printf '(ask more: AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test %s --env %s --all-regions cluster %s --since 1d; stop it: make local-api-stop)\n' \
  "$ENDPOINT" "$AUDIT" "$ENV_NAME" "$DEMO_CLUSTER"
