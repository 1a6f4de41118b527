"""A small mutation tester for the core: do the tests notice when the code changes?

For each module it parses the source with `ast`, makes one small change at a time (a mutant:
a flipped comparison, `and`/`or` swapped, a number changed, an `if` negated, a statement
deleted, True/False swapped, a returned value dropped) and runs the tests that exercise the
module against it. A mutant is *killed* when a test fails (or the run times out), *survived*
when every test still passes: a change of behaviour no test pins, or an equivalent mutant.

Each mutant runs in a forked worker: the parent has imported pytest and the heavy third-party
libraries once (never `strategy_cli`), the worker writes the mutant into its own scratch copy of
the package, puts that copy first on `sys.path` and runs pytest in-process. Slow (minutes a
module), so it is not part of CI:

    python benchmarks/mutation.py core/timecalc.py --jobs 2
    python benchmarks/mutation.py --list core/jtd.py          # the mutants, not run
    python benchmarks/mutation.py core/engine.py --sample 150 --seed 1 --jobs 2

Exit status: 0 when every module reached `--threshold` percent killed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import py_compile
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "strategy_cli"
TESTS = ROOT / "tests"

# The tests that exercise each module (fast ones: every mutant runs them); any file in
# tests/core/ named after the module (test_<stem>*.py) is added.
MODULE_TESTS: dict[str, list[str]] = {
    "core/timecalc.py": ["tests/test_timecalc.py"],
    "core/redaction.py": ["tests/test_redaction_forms.py", "tests/sim/test_sim_redaction.py"],
    "core/jtd.py": [
        "tests/test_jtd_attributes_conformance.py",
        "tests/lint/test_jtd_conformance.py",
        "tests/lint/test_rule_fixtures.py",
    ],
    "core/lint/graph.py": ["tests/lint/test_graph.py", "tests/lint/test_rule_fixtures.py"],
    "core/attempt.py": ["tests/sim/test_sim_engine.py", "tests/sim/test_sim_scenarios.py"],
    # (tests/test_instance_ops.py drives the same operations through the CLI: too slow here)
    "core/engine.py": ["tests/sim/test_sim_engine.py", "tests/sim/test_sim_scenarios.py"],
}
PYTEST_ARGS = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--no-header"]
# Imported once by the parent so that each forked worker starts warm.
WARM_IMPORTS = (
    "pytest",
    "hypothesis",
    "pydantic",
    "httpx",
    "typer",
    "rich.console",
    "yaml",
    "sqlite_utils",
    "jtd",
    "jsonschema",
)
_FLIP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    module: str
    number: int  # position among the module's mutants: stable while the source is unchanged
    line: int
    column: int  # 1-based: which `1` of `x[1:-1]` changed
    original: str
    mutated: str
    source: str  # the whole mutated module


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | error
    seconds: float


# --- generating mutants -----------------------------------------------------------------------

# One change to a node (of a freshly parsed tree): in place, or a replacement node returned.
Change = Callable[[ast.AST], ast.AST | None]


def _sites(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """The mutations of one node: (label, change). A change returns a replacement node, or
    None after changing the node in place."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _FLIP:
                yield f"compare{i}", _flip_compare(i)
    elif isinstance(node, ast.BoolOp):
        yield "boolop", _swap_boolop
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            yield "bool", _swap_bool
        elif isinstance(node.value, int | float):
            yield "number", _change_number
    elif isinstance(node, ast.If):
        yield "negate", _negate_if
    elif isinstance(node, ast.Return) and not _is_none(node.value):
        yield "return", _drop_return
    if isinstance(node, ast.stmt) and _deletable(node):
        yield "delete", lambda _n: ast.Pass()


def _flip_compare(i: int) -> Change:
    def change(node: ast.AST) -> None:
        assert isinstance(node, ast.Compare)
        node.ops[i] = _FLIP[type(node.ops[i])]()

    return change


def _swap_boolop(node: ast.AST) -> None:
    assert isinstance(node, ast.BoolOp)
    node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()


def _swap_bool(node: ast.AST) -> None:
    assert isinstance(node, ast.Constant)
    node.value = not node.value


def _change_number(node: ast.AST) -> None:
    assert isinstance(node, ast.Constant)
    node.value = {0: 1, 1: 0}.get(node.value, node.value + 1)


def _negate_if(node: ast.AST) -> None:
    assert isinstance(node, ast.If)
    node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)


def _drop_return(node: ast.AST) -> None:
    assert isinstance(node, ast.Return)
    node.value = None


def _is_none(value: ast.expr | None) -> bool:
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _deletable(node: ast.stmt) -> bool:
    # Deleting a definition or an import only breaks the import (killed, teaching nothing); a
    # docstring or `pass` is no behaviour.
    skip = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    if isinstance(node, (*skip, ast.Pass, ast.Global, ast.Nonlocal)):
        return False
    if isinstance(node, ast.Return) and not _is_none(node.value):
        return False  # dropping its value is the mutant (deleting it is nearly the same)
    return not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Nodes never mutated: annotations (not evaluated under `from __future__ import
    annotations`), docstrings, `__all__`, and lines marked `# pragma: no mutate`."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign):
            skip(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip(node.returns)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skip(node)
    return skipped


def _numbered_sites(tree: ast.Module) -> list[tuple[ast.AST, str, Change]]:
    skipped = _skipped_nodes(tree)
    # Deleting a module or class attribute only breaks a name (killed, teaching nothing).
    top = {
        id(s) for n in ast.walk(tree) if isinstance(n, ast.Module | ast.ClassDef) for s in n.body
    }
    out = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        for label, change in _sites(node):
            if not (label == "delete" and id(node) in top):
                out.append((node, label, change))
    return out


def mutants(module: str) -> list[Mutant]:
    path = PACKAGE / module
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    count = len(_numbered_sites(ast.parse(text)))
    out = []
    for number in range(count):
        # A fresh tree for each mutant: a change is made in place.
        tree = ast.parse(text)
        node, _label, change = _numbered_sites(tree)[number]
        line = getattr(node, "lineno", 0)
        if "pragma: no mutate" in (lines[line - 1] if 0 < line <= len(lines) else ""):
            continue
        before = _show(node, text)
        replacement = change(node)
        after = "(deleted)" if replacement is not None else _show(node, None)
        if replacement is not None:
            _replace(tree, node, replacement)
        source = ast.unparse(ast.fix_missing_locations(tree))
        column = getattr(node, "col_offset", -1) + 1
        out.append(Mutant(module, number, line, column, before, after, source))
    return out


def _show(node: ast.AST, text: str | None) -> str:
    shown = (ast.get_source_segment(text, node) if text else None) or ast.unparse(node)
    first = shown.strip().splitlines()[0] if shown.strip() else shown
    return first if len(first) <= 90 else first[:87] + "..."


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(v is old for v in value):
                value[next(i for i, v in enumerate(value) if v is old)] = new
                return
            if value is old:
                setattr(parent, field, new)
                return


# --- running them -----------------------------------------------------------------------------


def tests_for(module: str) -> list[str]:
    stem = Path(module).stem
    extra = sorted(str(p.relative_to(ROOT)) for p in (TESTS / "core").glob(f"test_{stem}*.py"))
    return extra + MODULE_TESTS.get(module, [])  # the focused tests first: -x stops sooner


class Slot:
    """A worker's scratch copy of the package; one mutant at a time runs in it."""

    def __init__(self, number: int, base: Path) -> None:
        self.number = number
        self.root = base / f"slot{number}"
        shutil.copytree(PACKAGE, self.root / "strategy_cli", ignore=_no_bytecode)
        import compileall

        compileall.compile_dir(self.root, quiet=1)
        self.basetemp = base / f"pytest{number}"
        self.pid = 0
        self.started = 0.0
        self.mutant: Mutant | None = None

    def file(self, module: str) -> Path:
        return self.root / "strategy_cli" / module

    def start(self, mutant: Mutant, tests: list[str]) -> None:
        self.mutant, self.started = mutant, time.monotonic()
        target = self.file(mutant.module)
        target.write_text(mutant.source, encoding="utf-8")
        Path(importlib.util.cache_from_source(str(target))).unlink(missing_ok=True)
        self.pid = os.fork()
        if self.pid == 0:
            _child(self.root, self.basetemp, tests)

    def restore(self) -> None:
        assert self.mutant is not None
        target = self.file(self.mutant.module)
        shutil.copyfile(PACKAGE / self.mutant.module, target)
        py_compile.compile(str(target), quiet=1)
        self.pid, self.mutant = 0, None


def _no_bytecode(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__"]


def _child(root: Path, basetemp: Path, tests: list[str]) -> None:
    """In the forked worker: run the tests against the scratch package, never return."""
    code = 4
    try:
        os.setpgid(0, 0)  # its own group, so that a timeout ends what it started too
        sys.dont_write_bytecode = True  # a mutant's bytecode must never be cached
        sys.path.insert(0, str(root))
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        import pytest

        code = int(pytest.main([*PYTEST_ARGS, f"--basetemp={basetemp}", *tests]))
        import strategy_cli

        if not Path(strategy_cli.__file__).is_relative_to(root):
            code = 4  # the real package was tested, not the mutant
    finally:
        os._exit(code)


def run(
    chosen: list[Mutant], tests: list[str], jobs: int, timeout: float, base: Path
) -> Iterator[Outcome]:
    slots = [Slot(i, base) for i in range(jobs)]
    pending = list(chosen)
    try:
        while pending or any(s.pid for s in slots):
            for slot in slots:
                if not slot.pid and pending:
                    slot.start(pending.pop(0), tests)
            time.sleep(0.02)
            for slot in slots:
                if slot.pid:
                    outcome = _poll(slot, timeout)
                    if outcome is not None:
                        slot.restore()
                        yield outcome
    finally:  # interrupted: no worker outlives the command (each has its own process group)
        for slot in slots:
            if slot.pid:
                os.killpg(slot.pid, signal.SIGKILL)
                os.waitpid(slot.pid, 0)


def _poll(slot: Slot, timeout: float) -> Outcome | None:
    assert slot.mutant is not None
    pid, status = os.waitpid(slot.pid, os.WNOHANG)
    elapsed = time.monotonic() - slot.started
    if pid == 0:
        if elapsed < timeout:
            return None
        os.killpg(slot.pid, signal.SIGKILL)
        os.waitpid(slot.pid, 0)
        return Outcome(slot.mutant, "timeout", elapsed)
    code = os.waitstatus_to_exitcode(status)
    # pytest: 0 all passed, 1 a test failed, 2 interrupted (an import failed); else a problem.
    verdict = {0: "survived", 1: "killed", 2: "killed"}.get(code, "error")
    return Outcome(slot.mutant, verdict, elapsed)


# --- the command ------------------------------------------------------------------------------


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="e.g. core/timecalc.py (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="workers at once (default 1)")
    parser.add_argument("--timeout", type=float, help="seconds a mutant (default 3x baseline)")
    parser.add_argument("--sample", type=int, help="run only N mutants a module, chosen at random")
    parser.add_argument("--seed", type=int, default=0, help="for --sample (default 0)")
    parser.add_argument("--only", type=_numbers, help="mutant numbers to run, e.g. 3,17,40")
    parser.add_argument("--list", action="store_true", help="print the mutants, run none")
    parser.add_argument("--threshold", type=float, default=95.0, help="percent to reach")
    args = parser.parse_args(argv)
    for module in args.modules:
        if module not in MODULE_TESTS:
            parser.error(f"unknown module {module!r}: one of {', '.join(MODULE_TESTS)}")
    if args.jobs < 1:
        parser.error("--jobs takes a whole number from 1")
    return args


def _numbers(text: str) -> set[int]:
    try:
        return {int(n) for n in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 3,17,40") from None


def _choose(module: str, args: argparse.Namespace) -> list[Mutant]:
    every = mutants(module)
    if args.only:
        return [m for m in every if m.number in args.only]
    if args.sample is not None and args.sample < len(every):
        return sorted(random.Random(args.seed).sample(every, args.sample), key=lambda m: m.number)
    return every


def _baseline(tests: list[str], base: Path) -> float:
    """The tests must pass on the real code; how long they take sets the default timeout."""
    slot = Slot(99, base)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(slot.root, slot.basetemp, tests)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code != 0:
        sys.exit(f"error: the tests fail on the unmutated code (pytest exit {code}): {tests}")
    return time.monotonic() - started


def mutate_module(module: str, args: argparse.Namespace, base: Path) -> tuple[int, int]:
    tests = tests_for(module)
    chosen = _choose(module, args)
    started = time.monotonic()
    base = base / module.replace("/", "_")  # a scratch folder a module
    timeout = args.timeout or 3 * _baseline(tests, base) + 5
    counts = dict.fromkeys(("killed", "survived", "timeout", "error"), 0)
    survivors: list[Outcome] = []
    for outcome in run(chosen, tests, args.jobs, timeout, base):
        counts[outcome.status] += 1
        if outcome.status in ("survived", "error"):
            survivors.append(outcome)
        done = sum(counts.values())
        if sys.stderr.isatty() or done % 25 == 0:  # a progress line (a log gets one in 25)
            end = "\r" if sys.stderr.isatty() else "\n"
            print(
                f"  {done}/{len(chosen)}, {counts['survived']} survived", end=end, file=sys.stderr
            )
    total = len(chosen)
    caught = counts["killed"] + counts["timeout"]
    percent = 100.0 * caught / total if total else 100.0
    print(
        f"{module}: {total} mutants{_sampled(module, args, total)}, killed {counts['killed']}, "
        f"timeout {counts['timeout']}, survived {counts['survived']}, error {counts['error']}: "
        f"{percent:.1f}% killed in {time.monotonic() - started:.0f}s (tests: {' '.join(tests)})",
        flush=True,
    )
    for outcome in sorted(survivors, key=lambda o: o.mutant.number):
        m = outcome.mutant
        print(
            f"  {outcome.status} #{m.number} line {m.line}:{m.column}: {m.original}  ->  {m.mutated}"
        )
    return caught, total


def _sampled(module: str, args: argparse.Namespace, total: int) -> str:
    if args.sample is not None and not args.only:
        return f" (sample of {len(mutants(module))}, seed {args.seed})"
    return ""


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    modules = args.modules or list(MODULE_TESTS)
    if args.list:
        for module in modules:
            for m in _choose(module, args):
                print(
                    f"{module} #{m.number} line {m.line}:{m.column}: {m.original}  ->  {m.mutated}"
                )
        return 0
    os.chdir(ROOT)
    for name in WARM_IMPORTS:
        __import__(name)
    reached = True
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        for module in modules:
            caught, total = mutate_module(module, args, Path(scratch))
            reached &= total == 0 or 100.0 * caught / total >= args.threshold
    return 0 if reached else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted")
