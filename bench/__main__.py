"""`python -m bench [NAME...]`: run every benchmark module (or the named ones) in turn.

`python -m bench --help` lists them. A benchmark's own options are given to its module:
`python -m bench.growth --services 10,100`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).parent


def available() -> dict[str, str]:
    """``{name: first line of its docstring}`` of every benchmark module (read, not imported)."""
    found = {}
    for module in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        tree = ast.parse((HERE / f"{module.name}.py").read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree) or ""
        found[module.name] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def main(argv: list[str]) -> int:
    names = available()
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip() + "\n")
        for name, summary in names.items():
            print(f"  {name:<16} {summary}")
        return 0
    unknown = [a for a in argv if a not in names]
    if unknown:
        print(
            f"python -m bench: no benchmark {', '.join(unknown)}; one of: {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    for name in argv or names:
        print(f"== bench.{name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
