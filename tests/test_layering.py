"""Imports point one way: the layer order of docs/architecture.md, checked over the source's AST.

Every ``import clinfusion.X`` / ``from clinfusion.X import ...`` (relative ones too, at module
level, inside functions and under ``TYPE_CHECKING``) and every ``importlib.import_module`` of a
literal ``"clinfusion.X..."`` in a subpackage Y counts as an edge Y -> X. A subpackage may import
only subpackages of strictly lower layers: same-layer imports are forbidden as well, so members
of one layer stay independent and no cycle can form. A new subpackage fails the test until it is
given a layer in :data:`LAYERS` (and a line in docs/architecture.md).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "platform" / "clinfusion"

# Low -> high. A top-level module (``configio.py``) is its own entry, named without ``.py``;
# ``clinfusion`` itself (``__version__``) is the root. Keep in step with docs/architecture.md.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("clinfusion", "errors"),                 # root package, exception hierarchy
    ("configio",),                             # YAML -> pydantic configs, NoOptions
    ("privacy", "synth", "tabular", "coxmath"),  # pseudonyms/PHI scrubbing; synthetic cohorts; column encoder; Breslow
    ("cohort",),                               # cohort.yaml schema, the modality list, discovery, splits
    ("workspace",),                            # catalog, artifacts, atomic writes, lineage
    ("featurize",),                            # TokenSet, Encoder contract, token cache, runner
    ("modalities",),                           # readers, encoders, exports per modality; the registry
    ("pacs",),                                 # DICOMweb / PACS sources feeding ingest
    ("ingest", "executors"),                   # ingest runner + cohort validation; local/Ray executors
    ("graph", "models", "evaluation", "importers"),  # patient graphs; networks; metrics; public-layout adapters
    ("training",),                             # CV, trainer, baselines, attribution
    ("tracking",),                             # MLflow: runs, pyfunc, registry (the only mlflow importer)
    ("experiment",),                           # train_workspace: CV + final model (training) logged to MLflow (tracking)
    ("review",),                               # users, audit, review store, data behind the app
    ("retrain",),                              # scheduled retraining cycle, gate, drift, Prefect flow
    ("cli", "testing"),                        # entry points and test helpers: nothing imports them
)

# (importer file relative to PACKAGE, imported subpackage) -> why it is tolerated for now. Each
# entry must still be needed (a stale one fails), so the list only shrinks. Empty: every import
# points down (the last entry, training/pipeline.py -> tracking, became clinfusion/experiment.py).
KNOWN_BACK_REFERENCES: dict[tuple[str, str], str] = {}

RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _owner(rel: Path) -> str:
    """Subpackage (or top-level module) a file belongs to."""
    if len(rel.parts) == 1:
        return "clinfusion" if rel.name == "__init__.py" else rel.stem
    return rel.parts[0]


def _target(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "clinfusion":
        return None
    return parts[1] if len(parts) > 1 else "clinfusion"


def imported_modules(tree: ast.AST, rel: Path) -> list[tuple[str, int]]:
    """``(absolute module, line)`` of every clinfusion import in a parsed file."""
    package = ["clinfusion", *rel.parts[:-1]]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "clinfusion":  # from clinfusion import cohort -> clinfusion.cohort
                out += [(f"clinfusion.{a.name}", node.lineno) for a in node.names]
            else:
                out.append((mod, node.lineno))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and _call_name(node.func) in ("import_module", "__import__")):
            out.append((node.args[0].value, node.lineno))
    return out


def _call_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def import_edges(root: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """``{(importer subpackage, imported subpackage): ["file:line", ...]}`` over ``root``."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        src = _owner(rel)
        for module, line in imported_modules(ast.parse(path.read_text(), str(path)), rel):
            dst = _target(module)
            if dst is not None and dst != src:
                if not (root / dst).is_dir() and not (root / f"{dst}.py").is_file():
                    dst = "clinfusion"  # a name defined in clinfusion/__init__.py (``__version__``)
                edges[(src, dst)].append(f"{rel}:{line}")
    return edges


def violations(edges: dict[tuple[str, str], list[str]]) -> list[str]:
    """Edges that do not point to a strictly lower layer, minus the known ones."""
    bad = []
    for (src, dst), where in sorted(edges.items()):
        if RANK[dst] < RANK[src]:
            continue
        left = [w for w in where if (w.split(":")[0], dst) not in KNOWN_BACK_REFERENCES]
        if left:
            kind = "same layer" if RANK[dst] == RANK[src] else "back-reference"
            bad.append(f"{src} -> {dst} ({kind}): {', '.join(left)}")
    return bad


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of a directed graph as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def _subpackages() -> set[str]:
    names = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return names | {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"} | {"clinfusion"}


def test_every_subpackage_has_a_layer() -> None:
    missing = sorted(_subpackages() - set(RANK))
    assert not missing, f"give {missing} a layer in tests/test_layering.py LAYERS and docs/architecture.md"


def test_imports_point_down_the_layers() -> None:
    bad = violations(import_edges())
    assert not bad, "imports against docs/architecture.md's layer order:\n" + "\n".join(bad)


def test_no_cycle_between_subpackages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for (src, dst), where in import_edges().items():
        if any((w.split(":")[0], dst) not in KNOWN_BACK_REFERENCES for w in where):
            graph[src].add(dst)
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


def test_known_back_references_are_still_needed() -> None:
    edges = import_edges()
    stale = [k for k in KNOWN_BACK_REFERENCES
             if not any(w.split(":")[0] == k[0] for w in edges.get((_owner(Path(k[0])), k[1]), []))]
    assert not stale, f"remove fixed entries from KNOWN_BACK_REFERENCES: {stale}"


# DESIGN: "models know nothing of files"; evaluation is pure functions on arrays. Both may use
# only these (no cohort, workspace, featurize cache or modalities), a stricter rule than LAYERS.
ARRAY_ONLY: dict[str, set[str]] = {
    "models": {"clinfusion", "errors", "configio", "tabular", "coxmath"},
    "evaluation": {"clinfusion", "errors", "configio", "tabular", "coxmath"},
}


def test_models_and_evaluation_know_nothing_of_files() -> None:
    bad = [f"{src} -> {dst}: {', '.join(where)}" for (src, dst), where in sorted(import_edges().items())
           if src in ARRAY_ONLY and dst not in ARRAY_ONLY[src]]
    assert not bad, "\n".join(bad)


def test_only_tracking_imports_mlflow_and_apps_stay_thin() -> None:
    """DESIGN: tracking is the only mlflow importer; the library imports none of the consumers
    (pipelines, apps, bench, tests); apps never import training code or torch."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        tops = {m.split(".")[0] for m in _all_imports(path)}
        if _owner(rel) != "tracking" and "mlflow" in tops:
            found.append(f"{rel} imports mlflow")
        found += [f"{rel} imports {t}" for t in sorted(tops & {"pipelines", "apps", "bench", "tests"})]
    for path in sorted((REPO / "apps").rglob("*.py")):
        for m in _all_imports(path):
            if m.split(".")[0] == "torch" or _target(m) in ("training", "models", "graph", "retrain", "cli"):
                found.append(f"{path.relative_to(REPO)} imports {m}")
    assert not found, "\n".join(found)


def _all_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.append(node.module)
    return out


# The checker itself, on hand-made trees (so that a passing suite means the scan sees imports).
@pytest.mark.parametrize(("code", "expected"), [
    ("import clinfusion.cli.app\n", "cli"),
    ("def f():\n    from clinfusion.cli import app\n", "cli"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from clinfusion.cli.app import main\n", "cli"),
    ("from ..cli import app\n", "cli"),
    ("from clinfusion import cli\n", "cli"),
    ("import importlib\nimportlib.import_module('clinfusion.cli.app')\n", "cli"),
])
def test_scan_sees_every_form_of_import(tmp_path: Path, code: str, expected: str) -> None:
    (tmp_path / "cohort").mkdir()
    (tmp_path / "cli").mkdir()
    (tmp_path / "cohort" / "x.py").write_text(code)
    edges = import_edges(tmp_path)
    assert ("cohort", expected) in edges
    assert violations(edges) == [f"cohort -> cli (back-reference): cohort/x.py:{edges[('cohort', 'cli')][0].split(':')[1]}"]


def test_cycle_finder_on_small_graphs() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y"}}) == ["y", "y"]
