"""The environment every benchmark runs `strategy` in: like a real install's.

PYTHONDONTWRITEBYTECODE (set on some machines) would make every run, and every worker process,
compile the package from source; the bytecode goes to a private prefix instead, so the source
tree stays untouched. NO_COLOR and no remote mode keep the output plain and local.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "strategy-bench-pycache"


def installed_env(cache: Path = DEFAULT_CACHE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for name in ("STRATEGY_API_URL", "GITHUB_ACTIONS"):
        env.pop(name, None)
    return {**env, "PYTHONPYCACHEPREFIX": str(cache), "NO_COLOR": "1"}
