"""Run every benchmark script in ``bench/`` in turn: ``python -m bench [--quick]``.

Each script prints its own figures; this only runs them one after the other (never in
parallel: they would measure each other) and says which one failed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} {' '.join(argv)}", flush=True)
        if subprocess.run([sys.executable, str(script), *argv]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
