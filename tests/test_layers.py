"""The layers of docs/ARCHITECTURE.md, enforced.

Two kinds of check:

- the import contracts of pyproject.toml (``[tool.importlinter]``, also run by
  ``make test``) hold on this tree, and each one breaks when one bad import is planted in
  a copy of the tree, so that a contract that cannot fail (a typo in a module name, a
  rule that matches nothing) fails here instead of passing silently;
- what a static import graph cannot see (a package ``__init__`` runs on import; PEP 562
  lazy names; ``importlib`` calls) is checked at run time in a fresh interpreter:
  ``audit --help``, ``audit gate`` on a red-team report, the dashboard's pages and the
  safety filter's obfuscations load no torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("audit", "fairness", "redteam", "dashboard")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]
# Runs import-linter's own command-line entry (the one `make test` calls as lint-imports)
# in the current directory, which it puts first on sys.path.
LINT = (
    "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT/BROKEN from lint-imports' summary (names may wrap)."""
    flat = " ".join(output.split())
    verdicts = {}
    for c in CONTRACTS:
        for verdict in ("KEPT", "BROKEN"):
            if f"{c['name']} {verdict}" in flat:
                verdicts[c["id"]] = verdict
    return verdicts


def test_the_import_contracts_hold_on_this_tree() -> None:
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _verdicts(run.stdout) == {c["id"]: "KEPT" for c in CONTRACTS}
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in run.stdout


#: For each contract: a file of the tree, an import planted at its end that breaks only
#: that contract's rule, and the violation import-linter must name for it.
BAD_IMPORTS = {
    "libraries": ("redteam/metrics/_report.py", "import audit.report", "redteam.metrics._report"),
    "backends": ("audit/embedders/base.py", "import audit.gates", "audit.embedders.base"),
    "dashboard": ("dashboard/_frames.py", "import audit.config", "dashboard._frames"),
    "cli": ("audit/gates/_files.py", "import audit.cli", "audit.gates._files"),
    "summaries": (
        "audit/suites/_summaries/redteam.py",
        "import audit.suites.redteam",
        "audit.suites._summaries.redteam",
    ),
    "reporting": ("audit/reporting/_num.py", "import audit.runner", "audit.reporting._num"),
    "torch-free": ("audit/summary.py", "import torch", "audit.summary"),
}


def test_every_contract_has_a_bad_import_demonstration() -> None:
    assert set(BAD_IMPORTS) == {c["id"] for c in CONTRACTS}


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python files of the four packages and pyproject.toml, copied once."""
    base = tmp_path_factory.mktemp("tree")
    for pkg in PACKAGES:
        shutil.copytree(
            ROOT / pkg,
            base / pkg,
            ignore=lambda d, names: [
                n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir()
            ],
        )
    shutil.copy2(ROOT / "pyproject.toml", base / "pyproject.toml")
    return base


@pytest.mark.parametrize("contract", sorted(BAD_IMPORTS))
def test_a_bad_import_breaks_its_contract(contract: str, tree_copy: Path) -> None:
    path, statement, importer = BAD_IMPORTS[contract]
    target = tree_copy / path
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original + f"\n{statement}  # planted by tests/test_layers.py\n")
        run = _lint(tree_copy)
    finally:
        target.write_text(original)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    verdicts = _verdicts(run.stdout)
    assert verdicts[contract] == "BROKEN", out
    # The report names the planted import: the module and the line it sits on.
    line_no = original.count("\n") + 2
    imported = statement.split()[1]
    flat = " ".join(out.split())
    assert f"{importer} -> {imported} (l.{line_no})" in flat, out
    # The copy itself is clean: without the planted line every contract is kept.
    clean = _lint(tree_copy)
    assert clean.returncode == 0 and set(_verdicts(clean.stdout).values()) == {"KEPT"}


def test_the_dashboard_takes_only_schema_names_from_audit_compare() -> None:
    # The "dashboard" contract allows the package audit.compare, whose __init__ imports only
    # the schema; its other names load lazily, out of the import graph's sight. So every
    # name the dashboard takes from it must be a schema name.
    import ast

    import audit.compare._schema as schema

    allowed = {n for n in vars(schema) if not n.startswith("_")}
    taken = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "audit.compare":
                taken += [(path.name, a.name) for a in node.names]
            if isinstance(node, ast.Import):
                assert all(a.name != "audit.compare" for a in node.names), path
    assert taken, "the dashboard reads comparisons through audit.compare"
    assert [t for t in taken if t[1] not in allowed] == []


# -- run time: a fresh interpreter must not load torch --------------------------------


def _fresh(body: str) -> dict:
    """Run ``body`` in a new interpreter at the repository root; its last line is JSON."""
    code = "import json, sys\n" + textwrap.dedent(body)
    code += "\nprint(json.dumps({**OUT, 'torch': 'torch' in sys.modules}))\n"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


# Calls the `audit` console script's target (from the installed metadata) as the shell
# would, so the test follows the entry point wherever the CLI lives.
_CLI = """
import contextlib, io
from importlib.metadata import entry_points
main = entry_points(group="console_scripts")["audit"].load()

def cli(*argv):
    sys.argv = ["audit", *argv]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = main()
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue()
"""


def test_audit_help_imports_no_torch() -> None:
    got = _fresh(_CLI + "code, text = cli('--help')\nOUT = {'code': code, 'text': text}")
    assert got["code"] == 0 and got["text"].startswith("usage: audit")
    assert got["torch"] is False


def _redteam_report(run_dir: Path) -> tuple[float, float]:
    """A finished red-team run (report schema only): raw and defended ASR of one attack."""
    from audit.report import EmbedderInfo, Report, Result

    raw, defended = 0.25, 0.05
    common = {"suite": "redteam", "check": "text/homoglyph", "metric": "attack_success_rate"}
    details = {"budget": 2, "family": "text", "k": 10, "n_eligible": 40}
    report = Report(
        run_id="rt-layers",
        tool_version="0",
        suite="redteam",
        embedder=EmbedderInfo(spec="local", name="local", modalities=["text"], dim=8),
        results=[
            Result(**common, value=raw, n=40, modality="text", details=details),
            Result(
                **common,
                value=defended,
                variant="defended",
                n=40,
                modality="text",
                details={**details, "defense": "unicode-sanitize"},
            ),
        ],
    )
    report.save(run_dir / "report.json")
    return raw, defended


def test_audit_gate_on_a_redteam_report_imports_no_torch(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    raw, defended = _redteam_report(run_dir)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[policy]\nname = "layers"\nversion = 1\n\n[[gate]]\nname = "asr-defended"\n'
        'dimension = "robustness"\n'
        'suite = "redteam"\nmetric = "attack_success_rate"\nvariant = "defended"\nmax = 0.1\n',
        encoding="utf-8",
    )
    got = _fresh(
        _CLI
        + f"code, text = cli('gate', {str(run_dir)!r}, '--policy', {str(policy)!r})\n"
        + "OUT = {'code': code, 'text': text}"
    )
    assert got["torch"] is False
    assert got["code"] == 0, got["text"]
    # The red-team suite's own view is printed (its renderer, not the suite class):
    # the attack's row holds the raw and the defended rate of the report.
    row = next(ln for ln in got["text"].splitlines() if ln.startswith("text/homoglyph  text"))
    assert row.split()[-3:] == [f"{raw:.3f}", "unicode-sanitize", f"{defended:.3f}"]
    # the gate line names its dimension (schema 2: every gate serves one)
    line = f"gate PASS asr-defended [robustness]: attack_success_rate {defended:.3f} <= 0.1"
    assert line in got["text"]


def test_the_dashboard_pages_import_no_torch() -> None:
    got = _fresh(
        """
        import importlib, pkgutil
        import dashboard.app
        import dashboard.views
        pages = sorted(m.name for m in pkgutil.iter_modules(dashboard.views.__path__))
        for name in pages:
            importlib.import_module(f"dashboard.views.{name}")
        OUT = {'pages': pages}
        """
    )
    assert {"overview", "compare", "redteam"} <= set(got["pages"])
    assert got["torch"] is False


def test_the_safety_filter_and_its_homoglyph_table_import_no_torch() -> None:
    got = _fresh(
        """
        import audit.safety
        from audit.safety._obfuscate import OBFUSCATIONS, homoglyph
        from redteam.text import HOMOGLYPHS
        forms = {name: f("scope") for name, f in dict(OBFUSCATIONS).items()}
        expect = "".join(HOMOGLYPHS[c][0] if c in HOMOGLYPHS else c for c in "scope")
        OUT = {'forms': forms, 'homoglyph': homoglyph("scope"), 'expect': expect}
        """
    )
    assert got["homoglyph"] == got["expect"] != "scope"
    assert len(got["forms"]) > 1
    assert got["torch"] is False


def test_lazy_packages_load_only_what_is_read() -> None:
    got = _fresh(
        """
        import importlib
        import redteam
        import dashboard
        import audit.compare as compare
        loaded_compare = sorted(m for m in sys.modules if m.startswith("audit.compare."))
        loaded_dashboard = sorted(m for m in sys.modules if m.startswith("dashboard."))
        before = 'torch' in sys.modules
        same = {}
        tables = ((redteam, redteam._SOURCES), (compare, compare._LAZY),
                  (dashboard, dashboard._SOURCES))
        for pkg, table in tables:
            for name in pkg.__all__:
                value = getattr(pkg, name)
                src = table.get(name)
                if src is not None:
                    same[f"{pkg.__name__}.{name}"] = value is getattr(
                        importlib.import_module(src), name
                    )
        try:
            redteam.no_such_name
            missing = "no error"
        except AttributeError as exc:
            missing = str(exc)
        OUT = {'loaded_compare': loaded_compare, 'loaded_dashboard': loaded_dashboard,
               'before': before, 'same': same,
               'missing': missing, 'dir': sorted(set(redteam.__all__) - set(dir(redteam)))}
        """
    )
    # import alone: the comparison schema, nothing else; no torch
    assert got["loaded_compare"] == ["audit.compare._schema"]
    assert got["loaded_dashboard"] == []
    assert got["before"] is False
    # every public name resolves to the object its module defines
    assert got["same"] and all(got["same"].values()), got["same"]
    assert "no_such_name" in got["missing"] and got["dir"] == []


def test_a_loaded_subpackage_does_not_hide_the_registry_of_the_same_name() -> None:
    # redteam.defenses is both a subpackage and the registry it defines; the package name
    # must stay the registry whichever is imported first (as with the eager __init__).
    got = _fresh(
        """
        from redteam.defenses import CSLS
        import redteam
        from redteam import Registry, defenses
        OUT = {'attr': type(redteam.defenses).__name__, 'from': isinstance(defenses, Registry),
               'csls': defenses.get("csls")(k=3).__class__ is CSLS}
        """
    )
    assert got["attr"] == "Registry" and got["from"] is True and got["csls"] is True
