#!/usr/bin/env python3
"""Writes an environment's per-region Terraform wiring from its region list.

    gen-regions.py ENV           write environments/ENV/regions.tf.json
    gen-regions.py --check ENV   exit 1 if environments/ENV/regions.tf.json is stale

Terraform cannot create providers with for_each, so each region needs its own provider block
and module calls written out. environments/ENV/terraform.tfvars.json stays the one place that
names regions; this script derives everything else from it. The output is deterministic: the
same tfvars always give the same bytes.
"""
import json
import pathlib
import re
import sys

USAGE = "usage: gen-regions.py ENV | gen-regions.py --check ENV"

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATED = "regions.tf.json"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
TABLE_MODULE = "../../modules/audit-table"
LOGGER_MODULE = "../../modules/regional-logger"
REPLICA_MODULE = "../../modules/audit-table-replica"
# Services the deployment calls, pointed at var.aws_endpoint_url when it is set. Each name is
# the provider's canonical endpoint key (its aliases conflict with one another).
ENDPOINT_SERVICES = ["cloudwatch", "dynamodb", "events", "iam", "kms", "lambda", "logs", "sns", "sqs", "sts"]


class Invalid(Exception):
    """terraform.tfvars.json cannot be turned into regions."""


def hcl_string(value: str) -> str:
    return json.dumps(value)


def identifier(region: str) -> str:
    return region.replace("-", "_")


def read_settings(env: str) -> tuple[list[str], str]:
    path = ROOT / "environments" / env / "terraform.tfvars.json"
    if not path.is_file():
        known = sorted(p.parent.name for p in (ROOT / "environments").glob("*/terraform.tfvars.json"))
        raise Invalid(f"no {path.relative_to(ROOT)} (known environments: {', '.join(known) or 'none'})")
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise Invalid(f"{path.relative_to(ROOT)} is not valid JSON: {error}") from error
    regions = settings.get("regions")
    if not isinstance(regions, list) or not regions:
        raise Invalid(f"{path.relative_to(ROOT)}: \"regions\" must be a non-empty list of region names")
    for region in regions:
        if not isinstance(region, str) or not REGION.match(region):
            raise Invalid(f"{path.relative_to(ROOT)}: {region!r} is not a region name (like the ones in the AWS console)")
    duplicates = sorted({region for region in regions if regions.count(region) > 1})
    if duplicates:
        raise Invalid(f"{path.relative_to(ROOT)}: regions listed twice: {', '.join(duplicates)}")
    primary = settings.get("primary_region")
    if primary not in regions:
        raise Invalid(f"{path.relative_to(ROOT)}: \"primary_region\" ({primary!r}) must be one of \"regions\"")
    return regions, primary


def provider(region: str) -> dict:
    # Everything endpoint-specific is an expression, so the same file serves a real account
    # and the local API; only var.aws_endpoint_url decides.
    return {
        "alias": region,
        "region": region,
        "access_key": "${local.use_endpoint ? \"test\" : null}",
        "secret_key": "${local.use_endpoint ? \"test\" : null}",
        "skip_credentials_validation": "${local.use_endpoint}",
        "skip_metadata_api_check": "${local.use_endpoint}",
        "skip_region_validation": "${local.use_endpoint}",
        "default_tags": {"tags": "${var.tags}"},
        "dynamic": {
            "endpoints": {
                "for_each": "${local.use_endpoint ? [var.aws_endpoint_url] : []}",
                "content": {service: "${endpoints.value}" for service in ENDPOINT_SERVICES},
            }
        },
    }


def table_module(region: str) -> dict:
    key = hcl_string(region)
    return {
        "source": TABLE_MODULE,
        "providers": {"aws": f"aws.{region}"},
        "count": f"${{contains(local.table_regions, {key}) ? 1 : 0}}",
        "name": "${var.name}",
        "deletion_protection": "${var.deletion_protection}",
        "kms_key_arn": f"${{local.kms_key_arns[{key}]}}",
        "replica_regions": "${local.replica_regions}",
        "max_write_request_units": "${var.max_write_request_units}",
        "alarm_sns_topic_arn": f"${{module.logger_{identifier(region)}.alarm_topic_arn}}",
    }


def replica_module(region: str, regions: list[str]) -> dict:
    key = hcl_string(region)
    tables = ", ".join(f"module.table_{identifier(other)}[*].arn" for other in regions)
    return {
        "source": REPLICA_MODULE,
        "providers": {"aws": f"aws.{region}"},
        "count": f"${{contains(local.replica_regions, {key}) ? 1 : 0}}",
        # With a global table only the primary region's table module has a table.
        "global_table_arn": f"${{concat({tables})[0]}}",
        "deletion_protection": "${var.deletion_protection}",
        "kms_key_arn": f"${{local.kms_key_arns[{key}]}}",
    }


def logger_module(region: str) -> dict:
    key = hcl_string(region)
    return {
        "source": LOGGER_MODULE,
        "providers": {"aws": f"aws.{region}"},
        "name": "${var.name}",
        "table_arn": f"${{local.table_arns_by_region[{key}]}}",
        "package_path": "${var.package_path}",
        "architecture": "${var.architecture}",
        "memory_size": "${var.memory_size}",
        "retention_days": "${var.retention_days}",
        "log_retention_days": "${var.log_retention_days}",
        "tracing_mode": "${var.tracing_mode}",
        "reserved_concurrency": "${var.reserved_concurrency}",
        "detail_types": "${var.detail_types}",
        "kms_key_arn": f"${{local.kms_key_arns[{key}]}}",
        "alarm_sns_topic_arn": f"${{local.alarm_sns_topic_arns[{key}]}}",
        "alarm_emails": "${var.notification_emails}",
        "silence_alarm_enabled": f"${{local.silence_alarm[{key}]}}",
        "silence_period_seconds": "${var.silence_period_seconds}",
        "table_index_names": "${local.table_index_names}",
        "aws_cli_environment": "${local.aws_cli_environment}",
    }


def generate(env: str) -> str:
    regions, _primary = read_settings(env)
    tables = ", ".join(f"module.table_{identifier(region)}[*].arns_by_region" for region in regions)
    indexes = ", ".join(f"module.table_{identifier(region)}[*].index_names" for region in regions)
    document = {
        "//": f"Generated by scripts/gen-regions.py from terraform.tfvars.json. Do not edit: run python3 scripts/gen-regions.py {env}",
        "locals": {
            "environment": env,
            "generated_regions": regions,
            "table_arns_by_region": f"${{merge(concat({tables})...)}}",
            "table_index_names": f"${{distinct(flatten(concat({indexes})))}}",
            "loggers": {region: f"${{module.logger_{identifier(region)}}}" for region in regions},
        },
        "provider": {"aws": [provider(region) for region in regions]},
        "module": {},
    }
    for region in regions:
        document["module"][f"table_{identifier(region)}"] = table_module(region)
        document["module"][f"logger_{identifier(region)}"] = logger_module(region)
        document["module"][f"replica_{identifier(region)}"] = replica_module(region, regions)
    return json.dumps(document, indent=2) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [arg for arg in argv if arg != "--check"]
    if len(args) != 1 or args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    env = args[0]
    try:
        text = generate(env)
    except Invalid as error:
        print(f"gen-regions: {error}", file=sys.stderr)
        return 2
    target = ROOT / "environments" / env / GENERATED
    shown = target.relative_to(ROOT)
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        if current != text:
            state = "is missing" if current is None else "is stale"
            print(
                f"gen-regions: {shown} {state}: it does not match the regions in "
                f"environments/{env}/terraform.tfvars.json. Run: python3 scripts/gen-regions.py {env}",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != text:
        target.write_text(text, encoding="utf-8")
        print(f"gen-regions: wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
