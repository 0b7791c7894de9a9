#!/usr/bin/env python3
"""Reads an environment's settings for the Makefile and scripts, and prints deploy summaries.

    tfvars.py ENV KEY        print one key of environments/ENV/terraform.tfvars.json
                             (lists space-separated, booleans lower-case, missing -> "")
    tfvars.py --summary      read `terraform output -json regions` on stdin, print a summary
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def value_of(env: str, key: str) -> str:
    path = ROOT / "environments" / env / "terraform.tfvars.json"
    if not path.is_file():
        known = sorted(p.parent.name for p in (ROOT / "environments").glob("*/terraform.tfvars.json"))
        sys.exit(f"unknown environment {env!r}: no {path.relative_to(ROOT)} (known: {', '.join(known)})")
    value = json.loads(path.read_text()).get(key, "")
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def summary(outputs: dict) -> None:
    for region, values in sorted(outputs.items()):
        print(f"{region}:")
        for key in sorted(values):
            print(f"  {key:<22} {values[key]}")


def main() -> None:
    if sys.argv[1:] == ["--summary"]:
        summary(json.load(sys.stdin))
    elif len(sys.argv) == 3:
        print(value_of(sys.argv[1], sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
