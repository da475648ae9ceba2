#!/usr/bin/env python3
"""The README's command blocks, run as written against the demo's stack.

Runs scripts/demo.sh (its build already done) on a stack of its own, then
every ```sh block of README.md in order, in one bash session (so `source`
and `alias` carry over, as they do for a reader at a terminal), from the
repository's directory, with `set -euo pipefail`: a command that fails
fails the test and names its block. A block the line before marks
`<!-- readme-test: skip: WHY -->` is not run, and is listed with its reason.
The one change made to the text: /tmp/giftcard-stack, the stack's default
directory, becomes this test's own.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = re.compile(r"^<!-- readme-test: skip: (.+) -->$")
# Blocks that must run (the README has more; this guards against a parser
# that finds none, which would pass vacuously).
MIN_BLOCKS_RUN = 8
PAUSE_BETWEEN_BLOCKS_S = 1


def blocks(readme):
    """(line number, text, skip reason or None) of each ```sh block."""
    lines = readme.split("\n")
    found, i = [], 0
    while i < len(lines):
        if lines[i] == "```sh":
            start = i + 1
            end = lines.index("```", start)
            previous = lines[i - 1] if i > 0 else ""
            skip = SKIP.match(previous)
            found.append((start, "\n".join(lines[start:end]), skip.group(1) if skip else None))
            i = end
        i += 1
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    args = parser.parse_args()
    stack_dir = tempfile.mkdtemp(prefix="giftcard-readme-")
    env = dict(os.environ, GIFTCARD_STACK_DIR=stack_dir, GIFTCARD_BUILD_DIR=args.build,
               GIFTCARD_DEMO_BUILT="1")
    stack = os.path.join(args.source, "deploy/local/stack.sh")
    try:
        demo = subprocess.run([os.path.join(args.source, "scripts/demo.sh")], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=300)
        if demo.returncode != 0:
            print(demo.stdout, demo.stderr, sep="\n")
            print(f"readme: the demo failed (exit {demo.returncode})", file=sys.stderr)
            return 1
        with open(os.path.join(args.source, "README.md"), encoding="utf-8") as f:
            found = blocks(f.read())
        script = ["set -euo pipefail", "shopt -s expand_aliases", f"cd {args.source}"]
        ran = 0
        for line, text, skip in found:
            if skip:
                print(f"readme: block at line {line} not run: {skip}")
                continue
            ran += 1
            # A reader takes longer than the services' log flush interval
            # (20 ms) between two blocks; the grep of the logs needs it.
            script.append(f"sleep {PAUSE_BETWEEN_BLOCKS_S}")
            script.append(f"echo '=== README.md block at line {line} ===' >&2")
            script.append(text.replace("/tmp/giftcard-stack", stack_dir))
        if ran < MIN_BLOCKS_RUN:
            print(f"readme: only {ran} blocks to run, want {MIN_BLOCKS_RUN} or more", file=sys.stderr)
            return 1
        run = subprocess.run(["bash", "-c", "\n".join(script)], env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=300)
        print(run.stdout)
        print(run.stderr, file=sys.stderr)
        if run.returncode != 0:
            markers = re.findall(r"=== README.md block at line (\d+) ===", run.stderr)
            where = markers[-1] if markers else "?"
            print(f"readme: the block at line {where} failed (exit {run.returncode})",
                  file=sys.stderr)
            return 1
        print(f"readme: {ran} blocks ran as written, {len(found) - ran} not run (listed above)")
        return 0
    finally:
        subprocess.run(["bash", stack, "down"], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True)
        shutil.rmtree(stack_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
