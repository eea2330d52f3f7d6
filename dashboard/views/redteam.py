"""Red team: attack success vs budget (raw and defended), adversarial examples, hubs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard._artifacts import ArtifactError, artifact_refs, read_artifact
from dashboard._charts import budget_chart
from dashboard._frames import flatten_records
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
    """ASR per attack and budget, one column per variant, plus raw - defended."""
    sub = df[(df["metric"] == ASR) & df["budget"].notna()]
    if sub.empty:
        return pd.DataFrame(columns=["check", "modality", "budget"])
    wide = (
        sub.groupby(["check", "modality", "budget", "variant"], dropna=False)["value"]
        .first()
        .unstack("variant")
    )
    wide.columns = [str(c) for c in wide.columns]
    if {"raw", "defended"} <= set(wide.columns):
        wide["raw - defended"] = wide["raw"] - wide["defended"]
    return wide.reset_index()


def _is_hub(check: str, metric: str) -> bool:
    return "hub" in check.lower() or "hub" in metric.lower()


def _examples(ctx: Context, df: pd.DataFrame) -> None:
    entry = ctx.selected
    if entry is None or entry.report is None:
        return
    results = entry.report.results
    with_art = [i for i in df.index if artifact_refs(results[i].details)]
    if not with_art:
        return
    st.subheader("Adversarial examples")
    for i in with_art[:MAX_EXAMPLES]:
        r = results[i]
        budget = df.loc[i, "budget"]
        title = f"{r.check} · {r.variant}" + ("" if pd.isna(budget) else f" · budget {budget:g}")
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
    df = sidebar_filters(
        df, {"check": "Attack", "modality": "Modality", "variant": "Variant"}, key="redteam"
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
