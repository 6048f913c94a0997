#!/usr/bin/env python3
"""Offline checks `terraform validate` cannot run here (no provider download): every file
parses, every variable has a description and is used, every output has a description, and
every tfvars key is a declared variable.

    python3 deploy/terraform/check.py deploy/terraform deploy/terraform/global
"""
import pathlib
import re
import sys

import hcl2


def check(root: pathlib.Path) -> list:
    problems = []
    variables, outputs, text = {}, {}, ""
    for tf in sorted(root.glob("*.tf")):
        source = tf.read_text()
        text += source
        try:
            parsed = hcl2.loads(source)
        except Exception as e:  # the parser's own errors name line and column
            problems.append(f"{tf}: does not parse: {e}")
            continue
        for block in parsed.get("variable", []):
            for name, body in block.items():
                variables[name.strip('"')] = body
        for block in parsed.get("output", []):
            for name, body in block.items():
                outputs[name.strip('"')] = body
    for name, body in variables.items():
        if not body.get("description"):
            problems.append(f"variable {name} has no description")
        if not re.search(rf"var\.{re.escape(name)}\b", text):
            problems.append(f"variable {name} is declared but never used")
    for name, body in outputs.items():
        if not body.get("description"):
            problems.append(f"output {name} has no description")
    # envs/global.tfvars belongs to the global stack; the others to the environment stack.
    if root.name == "global":
        var_files = [root.parent / "envs" / "global.tfvars"]
    else:
        var_files = [f for f in sorted((root / "envs").glob("*.tfvars")) if f.stem != "global"]
    for tfvars in var_files:
        for key in hcl2.loads(tfvars.read_text()):
            if key not in variables:
                problems.append(f"{tfvars}: {key} is not a declared variable")
    return problems


def main() -> int:
    roots = [pathlib.Path(p) for p in sys.argv[1:]] or [pathlib.Path(__file__).parent]
    problems = [p for root in roots for p in check(root)]
    for p in problems:
        print(f"terraform check: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
