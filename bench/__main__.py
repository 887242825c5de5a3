"""``python -m bench``: run every benchmark module and print its figures.

Each ``bench/bench_*.py`` has a ``main()`` that prints its own results (ratios against a baseline
measured in the same run) and returns them as a dict. ``python -m bench webhook routing`` runs
only the named ones.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = argv or names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}", file=sys.stderr)
        return 2
    results = {}
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.bench_{name}")
        results[name] = module.main()
        print(f"({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    print("\n" + json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
