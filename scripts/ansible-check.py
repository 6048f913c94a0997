#!/usr/bin/env python3
"""Runs each playbook in check mode on a local connection (an extra var, which outranks the
inventory's SSM connection), against the example inventory:
    python3 scripts/ansible-check.py [PLAYBOOK ...]
A variable that is undefined when a task runs fails it (the way a real run would fail with
"VARIABLE IS NOT DEFINED!"). A module that cannot work here (no cluster, no network, not a
bastion) is allowed to fail: each play runs with ignore_errors, which Ansible applies to a
task's result but never to an undefined variable or a missing vars file.
"""
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "ansible"
# Placeholders for what an operator supplies at run time (the Vault file).
EXTRA = next(ROOT.rglob("vault.yml.example"))


def check(playbook: pathlib.Path) -> int:
    plays = yaml.safe_load(playbook.read_text())
    if any("import_playbook" in p or "ansible.builtin.import_playbook" in p for p in plays):
        return 0  # site.yml: only imports, each checked on its own
    for play in plays:
        play["ignore_errors"] = True
    copy = playbook.with_name(f".check-{playbook.name}")
    copy.write_text(yaml.safe_dump(plays, sort_keys=False))
    try:
        run = subprocess.run(
            ["ansible-playbook", "--check", "--connection", "local", "-i", str(ROOT / "inventory" / "example.yml"),
             "-e", f"@{EXTRA}", "-e", "ansible_connection=local",
             "-e", "ansible_python_interpreter=" + sys.executable, str(copy)],
            cwd=ROOT, capture_output=True, text=True, env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                                                           "ANSIBLE_NOCOLOR": "1", "PATH": __import__("os").environ["PATH"],
                                                           "HOME": __import__("os").environ.get("HOME", "/tmp")})
    finally:
        copy.unlink()
    out = run.stdout + run.stderr
    undefined = [l for l in out.splitlines() if "is undefined" in l or "VARIABLE IS NOT DEFINED" in l]
    if run.returncode != 0 or undefined:
        print(f"{playbook.name}: ansible-playbook --check failed ({run.returncode})")
        print("\n".join(undefined) or out[-3000:])
        return 1
    print(f"{playbook.name}: every task templated in check mode")
    return 0


def main() -> int:
    books = [pathlib.Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "playbooks").glob("*.yml"))
    return 1 if sum(check(b) for b in books) else 0


if __name__ == "__main__":
    sys.exit(main())
