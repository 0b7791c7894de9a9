#!/usr/bin/env python3
"""Prints what `make deploy` created, per region.

    terraform output -json regions | deploy-summary.py

(An environment's settings are read by scripts/ecs-audit-env, the core crate's loader.)
"""
import json
import sys


def summary(outputs: dict) -> None:
    for region, values in sorted(outputs.items()):
        print(f"{region}:")
        for key in sorted(values):
            print(f"  {key:<22} {values[key]}")


def main() -> None:
    if sys.argv[1:]:
        sys.exit(__doc__)
    summary(json.load(sys.stdin))


if __name__ == "__main__":
    main()
