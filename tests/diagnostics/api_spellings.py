#!/usr/bin/env python3
"""Compiles each case under cases/ with the build's compiler and checks what it expects.

A case's first line says what must happen:
    // expect: compiles
    // expect-error: <text the compiler's output must contain>
A good spelling must keep compiling and a bad one must keep failing with a message that names
the problem: the API's diagnostics are part of the API.

usage: api_spellings.py INCLUDE_DIR CASES_DIR COMPILER [COMPILER ARGS...]
"""
import pathlib
import subprocess
import sys


def expectation(case: pathlib.Path):
    first = case.read_text().splitlines()[0]
    if first.strip() == "// expect: compiles":
        return None
    prefix = "// expect-error:"
    if first.startswith(prefix):
        return first[len(prefix):].strip()
    raise SystemExit(f"{case}: the first line must be '// expect: compiles' or "
                     f"'// expect-error: TEXT'")


def main() -> int:
    include_dir, cases_dir, compiler = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3:]
    failures = 0
    cases = sorted(cases_dir.glob("*.cpp"))
    if not cases:
        print(f"no cases in {cases_dir}")
        return 1
    for case in cases:
        wanted = expectation(case)
        run = subprocess.run(compiler + ["-std=c++20", "-fsyntax-only", "-I", include_dir,
                                         str(case)], capture_output=True, text=True)
        output = run.stdout + run.stderr
        if wanted is None:
            ok = run.returncode == 0
            why = "does not compile" if not ok else ""
        else:
            ok = run.returncode != 0 and wanted in output
            why = ("compiles" if run.returncode == 0 else
                   f"fails without saying {wanted!r}")
        print(f"{'ok  ' if ok else 'FAIL'} {case.name}" + ("" if ok else f": {why}"))
        if not ok:
            failures += 1
            print(output[-4000:])
    print(f"{len(cases) - failures} of {len(cases)} cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
