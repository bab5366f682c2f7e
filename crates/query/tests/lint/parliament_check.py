#!/usr/bin/env python3
"""Lints every IAM policy file in a directory with parliament (duo-labs, BSD-3).

Prints one JSON line per finding and exits 1 when any finding is an error: parliament's
groups ERROR, MALFORMED and INVALID (malformed JSON or statements, unknown actions or
prefixes, invalid ARNs, resources that do not match their actions). Its other groups
(NOT_IDEAL such as RESOURCE_STAR, LOGICAL_INCONSISTANCY such as privilege escalation) say
what the identity did, not whether the policy is valid; they are printed, not failed on.

Usage: python3 parliament_check.py DIR
"""
import json
import pathlib
import sys

import parliament

ERRORS = {"ERROR", "MALFORMED", "INVALID"}


def main(directory):
    files = sorted(pathlib.Path(directory).glob("*.json"))
    errors = 0
    for path in files:
        policy = parliament.analyze_policy_string(path.read_text(), filepath=str(path))
        for finding in policy.findings:
            group = parliament.config.get(finding.issue, {}).get("group", "ERROR")
            error = group in ERRORS
            errors += error
            print(json.dumps({"file": path.name, "issue": finding.issue, "group": group,
                              "error": error, "detail": str(finding.detail)[:300]}))
    print(json.dumps({"files": len(files), "errors": errors}))
    return 1 if errors or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
