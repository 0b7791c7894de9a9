#!/usr/bin/env bash
# Checks what `make plan/deploy/destroy ENV=...` needs before Terraform runs, so a missing
# backend, credentials or build fails with one clear line instead of a provider stack trace.
set -euo pipefail
env=${1:?usage: preflight.sh ENV ARCH}
arch=${2:?usage: preflight.sh ENV ARCH}
dir=environments/$env

fail() { echo "preflight ($env): $*" >&2; exit 1; }

[ -f "$dir/terraform.tfvars.json" ] || fail "no $dir/terraform.tfvars.json; known environments: $(cd environments && ls -d */terraform.tfvars.json | cut -d/ -f1 | tr '\n' ' ')"
command -v terraform >/dev/null || fail "terraform is not installed (https://developer.hashicorp.com/terraform/install)"

declared_arch=$(scripts/ecs-audit-env "$env" architecture)
[ -z "$declared_arch" ] || [ "$declared_arch" = "$arch" ] \
  || fail "ARCH=$arch but $dir/terraform.tfvars.json says \"architecture\": \"$declared_arch\"; build and deploy one architecture"

[ "$env" = local ] && exit 0

[ -f "$dir/backend.hcl" ] || fail "no $dir/backend.hcl: the S3 state backend is not configured (see environments/README.md, 'State')"
if grep -q "REPLACE" "$dir/backend.hcl"; then
  fail "$dir/backend.hcl still holds placeholders: create the state bucket and fill it in (see environments/README.md, 'State')"
fi

if [ "${SKIP_CREDENTIALS_CHECK:-}" != 1 ]; then
  python3 - <<'PY' || fail "no usable AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run 'aws sso login'); SKIP_CREDENTIALS_CHECK=1 skips this check"
import sys
try:
    import boto3
    identity = boto3.client("sts").get_caller_identity()
except Exception as error:  # any failure means Terraform would fail the same way
    print(f"preflight: {error}", file=sys.stderr)
    sys.exit(1)
print(f"deploying as {identity['Arn']} (account {identity['Account']})")
PY
fi
