#!/usr/bin/env python3
"""Checks the naming rule of tests/README.md, so a new test cannot drift from it.

    check_test_names.py SOURCE_ROOT BUILD_ROOT

- In tests/<layer>/<concept>_test.cpp every gtest suite is the concept in CamelCase, maybe
  followed by a CamelCase qualifier (pipeline_test.cpp: Pipeline, PipelineResilience); a suite
  with death tests ends in DeathTest; an INSTANTIATE_TEST_SUITE_P prefix is CamelCase.
- Every meson test is named <layer>_<concept>, in suite <layer>, and runs
  tests/<layer>/<concept>_test.cpp (a gtest program) or tests/<layer>/<concept>.<ext> (a script),
  as the build directory's meson-info/intro-tests.json records them.
Prints each violation; exits 1 if there is any.
"""

import json
import pathlib
import re
import sys

SUITE = re.compile(r"\b(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\(\s*(\w+)\s*,")
INSTANTIATE = re.compile(r"\bINSTANTIATE_TEST_SUITE_P\(\s*(\w+)\s*,\s*(\w+)\s*,")
DEATH = re.compile(r"\b(?:EXPECT|ASSERT)_(?:DEBUG_)?(?:DEATH|EXIT)\(")
CAMEL = re.compile(r"[A-Z][A-Za-z0-9]*")


def camel(snake: str) -> str:
    return "".join(w.capitalize() for w in snake.split("_"))


def check_sources(source_root: pathlib.Path) -> list[str]:
    problems = []
    for path in sorted((source_root / "tests").glob("*/*_test.cpp")):
        rel = path.relative_to(source_root)
        concept = camel(path.name.removesuffix("_test.cpp"))
        rule = re.compile(re.escape(concept) + r"(?:[A-Z][A-Za-z0-9]*)?")
        text = "\n".join(line for line in path.read_text().splitlines()
                         if not line.lstrip().startswith("//"))
        matches = list(SUITE.finditer(text))
        for i, m in enumerate(matches):
            suite = m.group(1)
            if not rule.fullmatch(suite):
                problems.append(f"{rel}: suite {suite} is not {concept} or {concept}<Qualifier>")
            body = text[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(text)]
            if DEATH.search(body) and not suite.endswith("DeathTest"):
                problems.append(f"{rel}: suite {suite} has death tests: name it ...DeathTest")
        for m in INSTANTIATE.finditer(text):
            prefix, suite = m.groups()
            if not CAMEL.fullmatch(prefix):
                problems.append(f"{rel}: instantiation prefix {prefix} is not CamelCase")
            if not rule.fullmatch(suite):
                problems.append(f"{rel}: suite {suite} is not {concept} or {concept}<Qualifier>")
    return sorted(set(problems))


def check_meson_tests(source_root: pathlib.Path, build_root: pathlib.Path) -> list[str]:
    problems = []
    tests = json.loads((build_root / "meson-info" / "intro-tests.json").read_text())
    for t in tests:
        name = t["name"]
        suites = [s.split(":", 1)[-1] for s in t["suite"]]
        layer, _, concept = name.partition("_")
        if suites != [layer] or not concept:
            problems.append(f"meson test {name} (suite {suites}): want <layer>_<concept> in "
                            "suite <layer>")
            continue
        if t["protocol"] == "gtest":
            runs = source_root / "tests" / layer / f"{concept}_test.cpp"
            ok = runs.is_file()
        else:
            runs = source_root / "tests" / layer / f"{concept}.*"
            ok = any(pathlib.Path(a).resolve().parent == runs.parent
                     and pathlib.Path(a).stem == concept for a in t["cmd"])
        if not ok:
            problems.append(f"meson test {name} does not run {runs.relative_to(source_root)}")
    return problems


def main(argv: list[str]) -> int:
    source_root, build_root = pathlib.Path(argv[1]).resolve(), pathlib.Path(argv[2])
    problems = check_sources(source_root) + check_meson_tests(source_root, build_root)
    for p in problems:
        print(p)
    if not problems:
        print("every gtest suite and meson test follows the naming rule (tests/README.md)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
