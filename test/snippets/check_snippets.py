#!/usr/bin/env python3
"""Compiles every C++ snippet of README.md and doc/*.md against pcj's public headers.

Usage: check_snippets.py SOURCE_ROOT BUILD_INCLUDE LIBDIR COMPILER...

Each ```cpp block is one of these (the marker, an HTML comment on the line just before the
block, does not show when the Markdown is rendered):

- A complete program (it contains "int main("): compiled with -Werror and linked against pcj
  (and libuv), as an application would build it.
- A fragment (no main, no marker): statements compiled inside a function body of the harness
  below, where `component`/`c` (pcj::Component&), `config`/`cfg` (pcj::Config&), `node`/`iq`
  (pcj::Node&) and std::chrono's literals are in scope. Fragments are checked for syntax and
  types only (-fsyntax-only); warnings about unused names are off, since a fragment shows a
  call rather than uses its result, and a fragment may declare its own `component`.
- <!-- snippet: namespace -->: a fragment compiled at namespace scope (declarations).
- <!-- snippet: quote PATH -->: lines quoted from pcj's own sources, which need internal
  headers: every non-empty line of the block must appear verbatim in PATH.
- <!-- snippet: run-unreachable --> before a complete program: besides being built, it is run
  with its port (the number in "port = N;") replaced by one where nothing listens, and must
  exit non-zero with an error line naming PCJ_CONNECTFAIL on stderr.

Prints one line per snippet and exits non-zero when any fails.
"""
import concurrent.futures
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

HARNESS_HEAD = """#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>

using namespace std::chrono_literals;

void snippet(pcj::Component& component, pcj::Component& c, pcj::Config& config,
             pcj::Config& cfg, pcj::Node& node, pcj::Node& iq) {
    {
#line 1 "SNIPPET"
"""
HARNESS_TAIL = """
    }
}
"""
NAMESPACE_HEAD = """#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <pcj/pcj.hpp>

#line 1 "SNIPPET"
"""
FRAGMENT_FLAGS = ["-Wno-unused-variable", "-Wno-unused-parameter",
                  "-Wno-unused-but-set-variable", "-Wno-shadow"]
BLOCK = re.compile(r"^```cpp\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"<!--\s*snippet:\s*(.*?)\s*-->\s*$")


def snippets(root):
    files = [root / "README.md"] + sorted((root / "doc").glob("*.md"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = MARKER.search(before)
            yield path.relative_to(root), line, (marker.group(1) if marker else ""), m.group(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compile_cmd(compiler, includes, src, out, extra):
    return compiler + ["-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror"] + \
        [f"-I{d}" for d in includes] + extra + [str(src)] + out


def check(root, includes, libdir, compiler, where, marker, code, work):
    kind, _, arg = marker.partition(" ")
    if kind == "quote":
        source = (root / arg.strip()).read_text(encoding="utf-8")
        missing = [l for l in code.splitlines() if l.strip() and l.strip() not in source]
        return "" if not missing else f"not in {arg.strip()}: {missing[0]!r}"
    name = re.sub(r"[^A-Za-z0-9]+", "_", where)
    src = work / f"{name}.cpp"
    program = "int main(" in code
    if program:
        src.write_text(f'#line 1 "{where}"\n' + code, encoding="utf-8")
        exe = work / name
        cmd = compile_cmd(compiler, includes, src, ["-o", str(exe)],
                          [f"-L{libdir}", f"-Wl,-rpath,{libdir}"]) + ["-lpcj", "-luv"]
    else:
        if kind == "namespace":
            wrapped = NAMESPACE_HEAD.replace("SNIPPET", where) + code
        elif kind == "":
            wrapped = HARNESS_HEAD.replace("SNIPPET", where) + code + HARNESS_TAIL
        else:
            return f"unknown marker '{marker}' on a fragment"
        src.write_text(wrapped, encoding="utf-8")
        cmd = compile_cmd(compiler, includes, src, [], ["-fsyntax-only"] + FRAGMENT_FLAGS)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return "does not compile:\n" + done.stderr
    if kind == "run-unreachable":
        if not program:
            return "run-unreachable needs a complete program"
        port = free_port()
        patched, n = re.subn(r"(port\s*=\s*)\d+;", rf"\g<1>{port};", code)
        if n != 1:
            return "run-unreachable: expected exactly one 'port = N;'"
        src.write_text(patched, encoding="utf-8")
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            return "with the port replaced, does not compile:\n" + done.stderr
        try:
            run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return f"still running after 60 s with nothing listening on port {port}"
        if run.returncode == 0:
            return f"exited 0 with nothing listening on port {port}"
        if not re.search(r" error: PCJ_CONNECTFAIL", run.stderr):
            return "no error line naming PCJ_CONNECTFAIL on stderr:\n" + run.stderr
    return ""


def main():
    root = Path(sys.argv[1])
    build_include, libdir, compiler = sys.argv[2], sys.argv[3], sys.argv[4:]
    includes = [str(root / "include"), build_include]
    failed = total = 0
    with tempfile.TemporaryDirectory(prefix="pcj-snippets-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs = []
        for path, line, marker, code in snippets(root):
            where = f"{path}:{line}"
            jobs.append((where, marker, pool.submit(check, root, includes, libdir, compiler,
                                                    where, marker, code, Path(tmp))))
        for where, marker, job in jobs:
            total += 1
            problem = job.result()
            if problem:
                failed += 1
                print(f"FAIL {where} {marker}\n{problem}")
            else:
                print(f"ok   {where} {marker}".rstrip())
    print(f"{total - failed} of {total} snippets ok")
    if total == 0:
        print("no snippet found: the extraction is broken")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
