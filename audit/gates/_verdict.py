"""The verdict: judged gates -> one status per responsible-AI dimension and an overall one.

Computed once, in :func:`audit.gates.apply_policy`, and stored in report.json (``verdict``);
the terminal, gates.md and the dashboard read the stored block. Rules (docs/ci.md,
"The verdict"):

- a dimension **fails** when one of its gates fails;
- it **passes** when at least one of its gates judged a result and none failed;
- it is **not assessed** when no gate serves it, or every gate it has selected nothing
  (its suite was not in the run, or an ``allow_empty`` gate found nothing);
- provenance is assessed from the report itself as well: it passes only when the embedder's
  fingerprint (or weight hashes), the datasets' cards and hashes
  (``reproducibility.datasets``: ``[{"name", "card", "sha256"}]``), the configuration and
  the seed are recorded; otherwise it is not assessed, naming what is missing;
- overall: fail when any dimension (or a gate without a dimension) fails, pass when at least
  one dimension passes, else not assessed.

A sign reversal between the raw and the debiased reading of the same check (the effect
changes sign and the debiased one is significant by its stored ``p_adjusted``) is named in
the fairness reason and added to its evidence: an over-corrected projection is biased the
other way, even when a gate lets it through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from audit.report import (
    DIMENSIONS,
    DimensionVerdict,
    GateResult,
    Report,
    Result,
    Verdict,
    evidence_key,  # defined with the schema, so the dashboard reads keys the same way
)

_MAX_NAMED = 3  # gates or findings named in one reason


def _names(items: list[str]) -> str:
    more = f" and {len(items) - _MAX_NAMED} more" if len(items) > _MAX_NAMED else ""
    return ", ".join(items[:_MAX_NAMED]) + more


def _keys(entries: Iterable[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(evidence_key(e) for e in entries))


def sign_reversals(report: Report) -> list[tuple[Result, Result, str]]:
    """(raw, debiased, "p_adjusted 0.004") for each over-correction the suite stored.

    The bias suite decides once whether a debiased association flipped sign and is
    significant (``details.sign_reversed`` on its ``delta`` result, judged on the stored
    ``p_adjusted``); this reads that flag and finds the two results it compares. A report
    without the flag (schema version 1) names no reversal.
    """
    by_key = {
        (r.suite, r.check, r.metric, r.variant, r.dim, r.modality, r.group): r
        for r in report.results
    }
    out = []
    for delta in report.results:
        if delta.variant != "delta" or not delta.details.get("sign_reversed"):
            continue
        where = (delta.suite, delta.check, delta.metric)
        raw = by_key.get((*where, "raw", delta.details.get("raw_dim"), delta.modality, None))
        deb = by_key.get((*where, "debiased", delta.dim, delta.modality, None))
        if raw is None or deb is None or deb.p_adjusted is None:
            continue
        out.append((raw, deb, f"p_adjusted {deb.p_adjusted:.3g}"))
    return out


def _gate_verdict(dim: str, gates: list[GateResult]) -> DimensionVerdict:
    names = [g.name for g in gates]
    if not gates:
        return DimensionVerdict(
            dimension=dim, status="not_assessed", reason=f"No gate of the policy serves {dim}."
        )
    failed = [g for g in gates if not g.passed]
    if failed:
        evidence = _keys(e for g in failed for e in g.evidence if not e.get("passed", True))
        return DimensionVerdict(
            dimension=dim,
            status="fail",
            reason=f"{len(failed)} of {len(gates)} {dim} gate(s) fail: "
            f"{_names([g.name for g in failed])}.",
            gates=names,
            evidence=evidence,
        )
    judged = [g for g in gates if g.selected != 0]
    if not judged:
        return DimensionVerdict(
            dimension=dim,
            status="not_assessed",
            reason=f"None of its {len(gates)} gate(s) judged a result: "
            f"{gates[0].message.rstrip('.')}.",
            gates=names,
        )
    skipped = len(gates) - len(judged)
    note = f" ({skipped} not assessed)" if skipped else ""
    return DimensionVerdict(
        dimension=dim,
        status="pass",
        reason=f"All {len(judged)} judged {dim} gate(s) pass{note}: "
        f"{_names([g.name for g in judged])}.",
        gates=names,
        evidence=_keys(e for g in judged for e in g.evidence),
    )


def _datasets_recorded(datasets: Any) -> bool:
    """True when ``reproducibility.datasets`` lists each dataset with its card and sha256."""
    if not isinstance(datasets, list) or not datasets:
        return False
    return all(isinstance(d, dict) and d.get("sha256") and d.get("card") for d in datasets)


def provenance_gaps(report: Report) -> list[str]:
    """What the report lacks to say which model, data and settings produced it ([] when
    everything is recorded)."""
    gaps = []
    repro = report.reproducibility
    if not (repro.get("embedder_fingerprint") or report.embedder.weights):
        gaps.append("the embedder's fingerprint or weight hashes")
    if not _datasets_recorded(repro.get("datasets")):
        gaps.append("the datasets' cards and content hashes (reproducibility.datasets)")
    if not report.config:
        gaps.append("the run configuration")
    if not isinstance(report.config.get("seed", repro.get("seed")), int):
        gaps.append("the seed")
    if not report.tool_version:
        gaps.append("the tool version")
    return gaps


def _provenance(gates: list[GateResult], report: Report) -> DimensionVerdict:
    verdict = _gate_verdict("provenance", gates)
    if verdict.status == "fail":
        return verdict
    gaps = provenance_gaps(report)
    if gaps:
        return DimensionVerdict(
            dimension="provenance",
            status="not_assessed",
            reason=f"The report does not record {', '.join(gaps)}, so the numbers cannot be "
            "traced to a model and data.",
            gates=verdict.gates,
        )
    fp = report.reproducibility.get("embedder_fingerprint") or report.embedder.spec
    return DimensionVerdict(
        dimension="provenance",
        status="pass",
        reason=f"The report records the embedder ({fp}, {len(report.embedder.weights)} weight "
        f"hash(es)), {len(report.reproducibility['datasets'])} dataset(s) with card and hash, "
        f"the configuration, seed {report.config.get('seed')} and tool version "
        f"{report.tool_version}"
        + (
            f"; {verdict.reason[0].lower()}{verdict.reason[1:]}"
            if verdict.status == "pass"
            else "."
        ),
        gates=verdict.gates,
        evidence=verdict.evidence,
    )


def _with_reversals(v: DimensionVerdict, reversals: list) -> DimensionVerdict:
    if not reversals:
        return v
    found = [
        f"{d.suite}/{d.check} {d.metric} [{d.modality or '-'}, dim {d.dim}] "
        f"{r.value:+.3g} raw -> {d.value:+.3g} debiased ({p})"
        for r, d, p in reversals
    ]
    reason = (
        f"{v.reason.rstrip('.')}; sign reversal after debiasing (over-correction, biased the "
        f"other way): {_names(found)}."
    )
    keys = [evidence_key(x) for r, d, _ in reversals for x in (r, d)]
    return v.model_copy(
        update={"reason": reason, "evidence": list(dict.fromkeys(v.evidence + keys))}
    )


def compute_verdict(report: Report, gates: list[GateResult]) -> Verdict:
    """The per-dimension and overall verdict of ``report`` judged by ``gates``.

    Parameters
    ----------
    report : Report
        The run (its results and provenance fields are read).
    gates : list of GateResult
        The judged gates, each naming its ``dimension``.

    Returns
    -------
    Verdict
    """
    by_dim: dict[str, list[GateResult]] = {d: [] for d in DIMENSIONS}
    for g in gates:
        if g.dimension is not None:
            by_dim[g.dimension].append(g)
    dims = []
    for d in DIMENSIONS:
        v = _provenance(by_dim[d], report) if d == "provenance" else _gate_verdict(d, by_dim[d])
        if d == "fairness":
            v = _with_reversals(v, sign_reversals(report))
        dims.append(v)
    failed = [v.dimension for v in dims if v.status == "fail"]
    loose = [g.name for g in gates if g.dimension is None and not g.passed]
    # Provenance alone (recorded from the report itself) does not make a run fit to deploy.
    passed = [v.dimension for v in dims if v.status == "pass" and v.dimension != "provenance"]
    if failed or loose:
        what = failed + [f"gate {n} (no dimension)" for n in loose]
        overall, reason = "fail", f"Not fit to deploy under this policy: {_names(what)} fail."
    elif passed:
        open_ = [v.dimension for v in dims if v.status == "not_assessed"]
        rest = f"; not assessed: {', '.join(open_)}" if open_ else ""
        ok = ", ".join(v.dimension for v in dims if v.status == "pass")
        overall, reason = "pass", f"Every assessed dimension passes ({ok}){rest}."
    else:
        overall, reason = "not_assessed", "No dimension was assessed: no gate judged a result."
    return Verdict(overall=overall, reason=reason, dimensions=dims)
