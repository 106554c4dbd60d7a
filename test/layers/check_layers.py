#!/usr/bin/env python3
"""Builds each layer's probes with ninja: the control (a header the layer may include) must
compile, the upward one (a header of a layer above) must fail because that header is not found.

Usage: check_layers.py NINJA BUILD_ROOT (NAME OK_TARGET UP_TARGET UP_HEADER)...
The targets are the probes' output paths; they are not dependencies of the test, so meson does
not try (and fail) to build the upward ones before running it."""
import os
import subprocess
import sys


def build(ninja, root, target):
    rel = os.path.relpath(target, root)
    run = subprocess.run([ninja, '-C', root, rel], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    return run.returncode, run.stdout


def main(argv):
    ninja, root, rest = argv[1], argv[2], argv[3:]
    if not rest or len(rest) % 4 != 0:
        print('usage: check_layers.py NINJA BUILD_ROOT (NAME OK_TARGET UP_TARGET UP_HEADER)...')
        return 2
    failed = 0
    for i in range(0, len(rest), 4):
        name, ok_target, up_target, up_header = rest[i:i + 4]
        rc, out = build(ninja, root, ok_target)
        if rc != 0:
            print(f'FAIL {name}: the control probe does not compile:\n{out}')
            failed += 1
            continue
        rc, out = build(ninja, root, up_target)
        not_found = up_header in out and ('No such file' in out or 'file not found' in out)
        if rc == 0 or not not_found:
            print(f'FAIL {name}: including "{up_header}" from this layer '
                  f'{"compiled" if rc == 0 else "failed for another reason"}:\n{out}')
            failed += 1
            continue
        print(f'ok   {name}: "{up_header}" is out of reach')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
