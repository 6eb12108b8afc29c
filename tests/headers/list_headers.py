#!/usr/bin/env python3
"""Lists the public headers, for the check that each one compiles on its own.

    list_headers.py INCLUDE_DIR
        prints every *.hpp under INCLUDE_DIR/uredis, relative to INCLUDE_DIR, one per line,
        sorted (tests/headers/meson.build runs this at configure time);
    list_headers.py INCLUDE_DIR --check HEADER...
        exits 1, naming the difference, unless HEADER... is exactly that list: a header added
        or removed since the build directory was configured is not checked until it is
        configured again.
"""

import pathlib
import sys


def public_headers(include_dir: pathlib.Path) -> list[str]:
    return sorted(p.relative_to(include_dir).as_posix()
                  for p in (include_dir / "uredis").rglob("*.hpp"))


def main(argv: list[str]) -> int:
    include_dir = pathlib.Path(argv[1])
    headers = public_headers(include_dir)
    if len(argv) == 2:
        print("\n".join(headers))
        return 0
    if argv[2] != "--check":
        print(__doc__, file=sys.stderr)
        return 2
    configured = set(argv[3:])
    added = sorted(set(headers) - configured)
    removed = sorted(configured - set(headers))
    if not added and not removed:
        print(f"{len(headers)} public headers, all checked")
        return 0
    for h in added:
        print(f"added since configure, not checked: {h}")
    for h in removed:
        print(f"removed since configure: {h}")
    print("reconfigure the build directory (meson setup --reconfigure DIR) to check them")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
