"""The layout's import rules, read from the code's own imports (ast; nothing is imported or run).

- no import circles among product modules (monitor/, collectors/, simulator/), type-only imports included;
- collectors/ imports nothing of monitor/ or simulator/; monitor/ and simulator/ never import each other;
- monitor/domain/ imports nothing of the runtime (store, exposition, polling, report, cli, app, HTTP,
  SQLAlchemy, APScheduler);
- at most 8 modules loose at the top of monitor/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "collectors", "simulator")
NEVER = [
    ("collectors", "monitor"), ("collectors", "simulator"), ("monitor", "simulator"), ("simulator", "monitor"),
]
DOMAIN_MAY_NOT = ("monitor.store", "monitor.exposition", "monitor.polling", "monitor.report", "monitor.cli",
                  "monitor.app", "monitor.alerting.delivery", "monitor.alerting.channels", "sqlalchemy",
                  "apscheduler", "aiohttp", "httpx")


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    found: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


MODULES = _modules()
IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def test_no_import_circles():
    graph = {name: {m for m in raw if m in MODULES and m != name} for name, raw in IMPORTS.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_lines_between_packages_are_kept():
    crossings = [f"{name} imports {m}" for name, raw in IMPORTS.items() for src, dst in NEVER
                 if _within(name, src) for m in raw if _within(m, dst)]
    assert not crossings, "\n".join(crossings)


def test_the_domain_does_no_io():
    leaks = [f"{name} imports {m}" for name, raw in IMPORTS.items() if _within(name, "monitor.domain")
             for m in raw if any(_within(m, f) for f in DOMAIN_MAY_NOT)]
    assert not leaks, "\n".join(leaks)


def test_few_modules_loose_at_the_top_of_monitor():
    loose = sorted(p.name for p in (ROOT / "monitor").glob("*.py"))
    assert len(loose) <= 8, loose
