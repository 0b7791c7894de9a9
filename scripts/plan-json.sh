#!/usr/bin/env bash
# Writes `terraform show -json` of an environment's plan, made against a local AWS API (moto
# server) instead of AWS, so that checkov scans the values an environment really sets
# (`make checkov`). Nothing of the environment's own state or backend is touched: the plan is
# made in a scratch copy whose backend is overridden to a local one.
#
#     plan-json.sh ENV OUT.json
#
# dev and prd refuse to plan without a notification target; the scan supplies a placeholder
# address (PLAN_NOTIFICATION_EMAIL). The function package only needs to exist for the plan's
# hash, so a placeholder zip stands in when none is built.
set -euo pipefail
env=${1:?usage: plan-json.sh ENV OUT.json}
out=${2:?usage: plan-json.sh ENV OUT.json}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/environments/$env/terraform.tfvars.json" ] || { echo "plan-json: no environments/$env/terraform.tfvars.json" >&2; exit 2; }
command -v moto_server >/dev/null || { echo "plan-json: moto_server not found: pip install -r tests/requirements.txt" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/plan-json-$env.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
cleanup() {
  LOCAL_API_STATE_DIR="$scratch/api" "$root/scripts/local-api.sh" stop "$endpoint" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# The same relative layout as the repository (environments/<env> next to shared/ and
# ../../modules), so the links and module sources resolve unchanged.
mkdir -p "$scratch/environments"
cp -a "$root/environments/$env" "$scratch/environments/$env"
ln -s "$root/environments/shared" "$scratch/environments/shared"
ln -s "$root/modules" "$scratch/modules"
rm -rf "$scratch/environments/$env/.terraform" "$scratch/environments/$env/terraform.tfstate"* "$scratch/environments/$env/.terraform.lock.hcl"
printf 'terraform {\n  backend "local" {}\n}\n' >"$scratch/environments/$env/backend_override.tf"

package=$root/target/lambda/ecs-state-logger/bootstrap.zip
if [ ! -f "$package" ]; then
  package=$scratch/bootstrap.zip
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("bootstrap", "")' "$package"
fi

LOCAL_API_STATE_DIR="$scratch/api" "$root/scripts/local-api.sh" start "$endpoint" >/dev/null
export TF_DATA_DIR=$scratch/tf-data TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
tf() { terraform -chdir="$scratch/environments/$env" "$@"; }
tf init -input=false -no-color >/dev/null
tf plan -input=false -no-color -lock=false -out="$scratch/plan.tfplan" \
  -var "aws_endpoint_url=$endpoint" \
  -var "package_path=$package" \
  -var "notification_emails=[\"${PLAN_NOTIFICATION_EMAIL:-alarms@example.com}\"]" >"$scratch/plan.log" \
  || { cat "$scratch/plan.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tf show -json -no-color "$scratch/plan.tfplan" >"$out"
echo "plan-json: $env -> $out"
