"""Red team: attack success vs budget (raw and defended), adversarial examples, hubs."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard._artifacts import ArtifactError, artifact_refs, read_artifact
from dashboard._charts import budget_chart
from dashboard._frames import attack_series, flatten_records
from dashboard._ui import (
    Context,
    entry_report,
    evidence_banner,
    md,
    page_header,
    show_chart,
    show_table,
    sidebar_filters,
    suite_frame,
)

ASR = "attack_success_rate"
MAX_EXAMPLES = 8


def asr_table(df: pd.DataFrame) -> pd.DataFrame:
    """ASR per attack and budget, one column per series (variant, and defense when
    defended: ``defended · jpeg``), plus ``raw - <series>`` for each defended series.

    ``df`` comes from :func:`dashboard._frames.attack_series`; an L-inf budget also shows
    as ``eps (/255)``.
    """
    sub = df[(df["metric"] == ASR) & df["budget"].notna()]
    if sub.empty:
        return pd.DataFrame(columns=["check", "modality", "budget"])
    sub = sub.assign(eps_255=sub["eps_255"].map(lambda e: None if pd.isna(e) else f"{e:g}/255"))
    index = ["check", "modality", "budget", "eps_255"]
    wide = sub.groupby([*index, "series"], dropna=False)["value"].first().unstack("series")
    wide.columns = [str(c) for c in wide.columns]
    if "raw" in wide.columns:
        for col in [c for c in wide.columns if c != "raw" and not c.startswith("raw - ")]:
            wide[f"raw - {col}"] = wide["raw"] - wide[col]
    out = wide.reset_index().rename(columns={"eps_255": "eps (/255)"})
    return out.dropna(axis=1, how="all")


def _is_hub(check: str, metric: str) -> bool:
    return "hub" in check.lower() or "hub" in metric.lower()


def example_rows(results: list, index: list[int]) -> list[int]:
    """Of the results at ``index`` that carry artifacts, one per distinct set of files.

    An attack writes its before/after files once and every metric of that attack
    (success rate, recall, drift) points at them: shown once, not once per metric.
    """
    seen: set[str] = set()
    keep = []
    for i in index:
        refs = artifact_refs(results[i].details)
        key = json.dumps(refs, default=str)  # paths may be any JSON value
        if refs and key not in seen:
            seen.add(key)
            keep.append(i)
    return keep


def _examples(ctx: Context, df: pd.DataFrame) -> None:
    entry = ctx.selected
    if entry is None or entry.report is None:
        return
    results = entry.report.results
    with_art = example_rows(results, list(df.index))
    if not with_art:
        return
    st.subheader("Adversarial examples")
    for i in with_art[:MAX_EXAMPLES]:
        r = results[i]
        budget = df.loc[i, "budget"]
        eps = df.loc[i, "eps_255"]
        where = "" if pd.isna(budget) else f" · budget {budget:g}"
        if not pd.isna(eps):
            where = f" · eps {eps:g}/255"
        title = f"{r.check} · {df.loc[i, 'series']}" + where
        st.markdown(f"**{md(title)}**")
        refs = artifact_refs(r.details)
        cols = st.columns(len(refs))
        for col, (label, path) in zip(cols, refs, strict=True):
            with col:
                try:
                    art = read_artifact(entry.path, path, label=label)
                except ArtifactError as exc:
                    st.warning(f"Artifact not shown: {md(exc)}")
                    continue
                # Bytes, never a path or URL, go to the browser; captions are escaped.
                if art.kind == "image":
                    st.image(art.data, caption=md(art.label))
                else:
                    st.caption(md(art.label))
                    st.audio(art.data, format=art.mime)
    if len(with_art) > MAX_EXAMPLES:
        st.caption(f"{len(with_art) - MAX_EXAMPLES} more example(s) not shown.")


def render() -> None:
    """The Red team page."""
    ctx = page_header("Red team")
    if ctx is None:
        return
    df = suite_frame(ctx, "redteam")
    if df is None:
        return
    evidence_banner(ctx, df)
    df = attack_series(
        sidebar_filters(
            df, {"check": "Attack", "modality": "Modality", "variant": "Variant"}, key="redteam"
        )
    )
    swept = df[(df["metric"] == ASR) & df["budget"].notna()]
    st.subheader("Attack success vs budget")
    if swept.empty:
        st.caption("No attack-success results with a budget for these filters.")
    else:
        attacks = list(dict.fromkeys(swept["check"]))
        for start in range(0, len(attacks), 2):
            for col, attack in zip(st.columns(2), attacks[start : start + 2], strict=False):
                with col:
                    show_chart(budget_chart(swept[swept["check"] == attack], attack))
        show_table(asr_table(df), key="redteam-asr")

    hub_mask = pd.Series(
        [_is_hub(c, m) for c, m in zip(df["check"], df["metric"], strict=True)],
        index=df.index,
        dtype=bool,
    )
    hubs = df[hub_mask]
    other = df[~df.index.isin(swept.index) & ~df.index.isin(hubs.index)]
    if not other.empty:
        st.subheader("Other attack results")
        cols = ["check", "metric", "variant", "modality", "value", "n", "details"]
        show_table(other[cols], key="redteam-other")

    _examples(ctx, df)

    if not hubs.empty:
        st.subheader("Flagged hubs")
        cols = ["check", "metric", "variant", "modality", "value"]
        show_table(hubs[cols], key="redteam-hubs")
        results = entry_report(ctx.selected).results
        for i in hubs.index:
            listed = results[i].details.get("hubs")
            if isinstance(listed, list) and listed:
                st.caption(f"Items flagged by {md(df.loc[i, 'check'])}")
                show_table(flatten_records(listed), key=f"redteam-hubs-{i}")


if __name__ == "__main__":
    render()
