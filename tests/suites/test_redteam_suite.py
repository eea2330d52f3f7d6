"""The red-team suite against direct computations with the ``redteam`` library.

Small in-memory data: text through ``HashEmbedder`` (a query's text equals its passage's, so
clean retrieval is exact and any edit changes the vector), images through a tiny
differentiable embedder (``redteam_suite_data.TinyImageEmbedder``). With every query and
every gallery item used, the suite's sample is known, so each family's numbers can be
recomputed here with the library from the seed the suite records.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashEmbedder
from PIL import Image
from redteam_suite_data import (
    TinyImageEmbedder,
    TinyNet,
    context,
    decode,
    image_dataset,
    png,
    text_dataset,
)

from audit.config import ConfigError
from audit.items import Item, text_item
from audit.projection import ProjectedEmbedder
from audit.report import Result
from audit.suites import suite_summary
from audit.suites.redteam import RedteamSuite
from redteam.defenses import (
    CSLS,
    SqueezeDetector,
    UnicodeSanitizer,
    detection_auc,
    jpeg_squeeze,
)
from redteam.index import evaluate_poisoning, hijack, prefix_poison
from redteam.metrics import evaluate_attack
from redteam.tensor import RetrievalHead, ScoreHead, module_embed_fn, run_query_attack
from redteam.text import Homoglyph, TypoDrop, evaluate_text_attack

IMAGE_OPTS: dict[str, Any] = {
    "image_queries": 100,
    "gallery_size": 0,
    "eps_255": [0, 8],
    "pgd_steps": 5,
    "squeezers": ["jpeg"],
    "artifacts_per_attack": 1,
    "k": 1,
}


def run(tmp_path: Path, embedder: Any, families: list[str], **opts: Any) -> list[Result]:
    ctx = context(tmp_path, embedder, families=families, **opts)
    suite = RedteamSuite(text_dataset=text_dataset(), image_dataset=image_dataset())
    return suite.run(ctx)


def pick(results: list[Result], **sel: Any) -> Result:
    def ok(r: Result) -> bool:
        return all(
            (r.details.get(k[2:]) if k.startswith("d_") else getattr(r, k)) == v
            for k, v in sel.items()
        )

    hits = [r for r in results if ok(r)]
    assert len(hits) == 1, (sel, [(r.check, r.metric, r.variant, r.details) for r in hits])
    return hits[0]


def _texts_embed(emb: Any):
    def embed(texts: list[str]) -> np.ndarray:
        return emb.embed([text_item(f"t{i}", t) for i, t in enumerate(texts)], purpose="query")

    return embed


def test_text_attacks_match_the_library_raw_and_sanitised(tmp_path: Path) -> None:
    emb = HashEmbedder()
    results = run(
        tmp_path,
        emb,
        ["text"],
        text_attacks=["homoglyph", "typo-drop"],
        text_budgets=[1, 3],
        text_queries=100,
        k=1,
    )
    ds = text_dataset()
    queries = [str(q.content) for q in ds.queries]
    gallery = emb.embed(ds.corpus, purpose="index")
    relevant = np.arange(len(queries))  # p_i is corpus row i
    for name, cls in (("homoglyph", Homoglyph), ("typo-drop", TypoDrop)):
        for budget in (1, 3):
            raw = pick(
                results,
                check=f"text/{name}",
                metric="attack_success_rate",
                variant="raw",
                d_budget=budget,
            )
            dfd = pick(
                results,
                check=f"text/{name}",
                metric="attack_success_rate",
                variant="defended",
                d_budget=budget,
            )
            attack = cls(budget=budget, seed=raw.details["seed"])
            want = evaluate_text_attack(
                _texts_embed(emb), queries, gallery, attack, relevant=relevant, k=1
            )
            want_d = evaluate_text_attack(
                _texts_embed(emb),
                queries,
                gallery,
                attack,
                relevant=relevant,
                k=1,
                defense=UnicodeSanitizer(),
            )
            assert raw.value == pytest.approx(want.success_rate)
            assert dfd.value == pytest.approx(want_d.success_rate)
            assert dfd.details["defense"] == "unicode-sanitize" and raw.details["defense"] is None
            drift = pick(
                results, check=f"text/{name}", metric="cosine_drift", variant="raw", d_budget=budget
            )
            assert drift.value == pytest.approx(want.cosine_drift)
            used = pick(
                results, check=f"text/{name}", metric="queries_used", variant="raw", d_budget=budget
            )
            assert used.value == 2 * len(queries) and raw.modality == "text->text"
            rec = pick(
                results,
                check=f"text/{name}",
                metric="recall@1_attacked",
                variant="defended",
                d_budget=budget,
            )
            assert rec.value == pytest.approx(want_d.recall_attacked)
    # Hash vectors: every changed query is lost; the sanitiser undoes homoglyphs exactly
    # and cannot undo a dropped letter.
    homo = pick(
        results, check="text/homoglyph", metric="attack_success_rate", variant="raw", d_budget=3
    )
    homo_d = pick(
        results,
        check="text/homoglyph",
        metric="attack_success_rate",
        variant="defended",
        d_budget=3,
    )
    assert homo.value >= 0.8 and homo_d.value == 0.0
    drop = pick(
        results, check="text/typo-drop", variant="raw", d_budget=3, metric="attack_success_rate"
    )
    drop_d = pick(
        results,
        check="text/typo-drop",
        variant="defended",
        d_budget=3,
        metric="attack_success_rate",
    )
    assert drop_d.value == drop.value
    cost = pick(results, check="defense/unicode-sanitize", metric="clean_recall_cost")
    assert cost.value == 0.0 and cost.details["recall_without"] == 1.0


def test_prefix_poisoning_matches_the_library(tmp_path: Path) -> None:
    emb = HashEmbedder()
    results = run(
        tmp_path,
        emb,
        ["poison"],
        poison_queries=100,
        poison_k=2,
        poison_modes=["query"],
        malicious="click here",
    )
    ds = text_dataset()
    queries = [str(q.content) for q in ds.queries]
    poisons = prefix_poison(queries, "click here", mode="query")
    q = emb.embed(ds.queries, purpose="query")
    c = emb.embed(ds.corpus, purpose="index")
    p = emb.embed([text_item(f"z{i}", t) for i, t in enumerate(poisons)], purpose="index")
    want = evaluate_poisoning(q, c, p, k=2, relevant=np.arange(len(queries)))
    got = pick(results, check="index/poison-prefix", metric="attack_success_rate", variant="raw")
    assert got.value == pytest.approx(want.hit_rate) and got.n == len(queries)
    rec = pick(results, check="index/poison-prefix", metric="recall@2_poisoned", variant="raw")
    assert rec.value == pytest.approx(want.recall_poisoned)
    sanitised = pick(
        results, check="index/poison-prefix", metric="attack_success_rate", variant="defended"
    )
    assert sanitised.details["defense"] == "unicode-sanitize"
    # Plain-ASCII poisons survive sanitisation unchanged: the defense does not stop them.
    assert sanitised.value == got.value


def test_white_box_pgd_matches_the_library(tmp_path: Path) -> None:
    emb = TinyImageEmbedder()
    results = run(tmp_path, emb, ["image"], image_attacks=["pgd"], targeted=True, **IMAGE_OPTS)
    ds = image_dataset()
    x = decode(ds.corpus)
    gallery = emb.embed(ds.corpus, purpose="index")
    relevant = np.arange(len(ds.corpus))  # near-duplicate search: own copy is relevant
    head = RetrievalHead(emb.net, gallery)
    raw = pick(results, check="image/pgd", metric="attack_success_rate", variant="raw", d_eps_255=8)
    want = run_query_attack(
        head, x, relevant, attack="pgd", eps=8 / 255, steps=5, k=1, seed=raw.details["seed"]
    )
    assert raw.value == pytest.approx(want.report.success_rate)
    assert raw.value > 0.5 and raw.modality == "image->image" and raw.n == len(relevant)
    drift = pick(results, check="image/pgd", metric="cosine_drift", variant="raw", d_eps_255=8)
    assert drift.value == pytest.approx(want.report.cosine_drift)
    zero = pick(
        results, check="image/pgd", metric="attack_success_rate", variant="raw", d_eps_255=0
    )
    assert zero.value == 0.0
    # JPEG squeezing of clean and adversarial queries, scored independently
    embed = module_embed_fn(emb.net)
    adv = want.adversarial.numpy()
    want_d = evaluate_attack(
        embed(jpeg_squeeze(x)), embed(jpeg_squeeze(adv)), gallery, relevant=relevant, k=1
    )
    dfd = pick(
        results, check="image/pgd", metric="attack_success_rate", variant="defended", d_eps_255=8
    )
    assert dfd.details["defense"] == "jpeg"
    assert dfd.value == pytest.approx(want_d.success_rate)
    det = SqueezeDetector(emb.net, squeezers=[lambda a: jpeg_squeeze(a, quality=75)])
    auc = pick(results, check="image/pgd", metric="detector_auc", d_eps_255=8)
    assert auc.value == pytest.approx(detection_auc(det.scores(x), det.scores(want.adversarial)))
    targeted = pick(
        results, check="image/pgd-targeted", metric="attack_success_rate", variant="raw"
    )
    assert targeted.details["targeted"] is True and targeted.details["eps_255"] == 8
    # The replay through embed() as PNG files agrees with the tensor-level result here
    assert raw.details["success_rate_png_replay"] == pytest.approx(raw.value, abs=0.2)


def test_square_goes_through_embed_within_its_budget_and_matches_the_library(
    tmp_path: Path,
) -> None:
    emb = TinyImageEmbedder()
    results = run(
        tmp_path,
        emb,
        ["square"],
        square_queries=100,
        square_budgets=[8, 30],
        square_targeted=False,
        **(IMAGE_OPTS | {"squeezers": []}),
    )
    ds = image_dataset()
    x = decode(ds.corpus)
    gallery = emb.embed(ds.corpus, purpose="index")
    for budget in (8, 30):
        asr = pick(results, check="image/square", metric="attack_success_rate", d_budget=budget)
        used = pick(results, check="image/square", metric="queries_used", d_budget=budget)
        assert used.value <= budget * len(ds.corpus)
        assert asr.details["rows_embedded"] == used.value + 2 * len(ds.corpus)

        def embed_png(arr: np.ndarray) -> np.ndarray:
            items = []
            for i, img in enumerate(arr):
                u8 = np.round(np.transpose(img, (1, 2, 0)) * 255).astype(np.uint8)
                buf = io.BytesIO()
                Image.fromarray(u8).save(buf, format="PNG")
                items.append(Item(f"s{i}", "image", buf.getvalue()))
            return emb.embed(items, purpose="query")

        head = ScoreHead(embed_png, gallery)
        want = run_query_attack(
            head,
            x,
            np.arange(len(x)),
            attack="square",
            eps=8 / 255,
            query_budget=budget,
            seed=asr.details["seed"],
        )
        assert asr.value == pytest.approx(want.report.success_rate)
        assert used.value == want.report.queries_used


def test_hijack_matches_the_library_and_hub_defenses_are_reported(tmp_path: Path) -> None:
    emb = TinyImageEmbedder()
    results = run(
        tmp_path,
        emb,
        ["index"],
        hijack_items=3,
        hijack_steps=10,
        hub_steps=10,
        hubness_k=3,
        hub_k=[1, 3],
        **IMAGE_OPTS,
    )
    ds = image_dataset()
    raw = pick(results, check="index/hijack", metric="attack_success_rate", variant="raw")
    rows = [int(i[3:]) for i in raw.details["items"]]  # img07 -> row 7 (all images indexed)
    targets = [int(q[1:]) for q in raw.details["target_queries"]]
    q = emb.embed(ds.queries, purpose="query")
    g = emb.embed(ds.corpus, purpose="index")
    want = hijack(
        emb.net,
        decode(ds.corpus)[rows],
        q[targets],
        g,
        item_index=rows,
        eps=8 / 255,
        steps=10,
        seed=raw.details["seed"],
    )
    assert raw.value == pytest.approx(want.success_rate)
    assert raw.details["rank_after"] == want.rank_after.tolist()
    assert raw.modality == "text->image"
    # CSLS on the index with the hijacked items in place, fitted on the query log
    ranks = []
    adv = module_embed_fn(emb.net)(want.adversarial.numpy())
    for i, (r, t) in enumerate(zip(rows, targets, strict=True)):
        index = g.astype(np.float64).copy()
        index[r] = adv[i] / np.linalg.norm(adv[i])
        s = CSLS(k=3).fit(index, q).scores(q[t : t + 1])[0]
        ranks.append(int(np.sum(s > s[r]) + np.sum(s[:r] == s[r])))
    csls = pick(results, check="index/hijack", variant="defended", d_defense="csls")
    assert csls.value == pytest.approx(np.mean(np.array(ranks) == 0))
    flagged = pick(results, check="index/hub", metric="hub_flagged")
    assert flagged.value in (0.0, 1.0) and flagged.details["defense"] == "hubness"
    a1 = pick(results, check="index/hub", metric="asr@1")
    a3 = pick(results, check="index/hub", metric="asr@3")
    assert a1.value <= a3.value
    hub_raw = pick(results, check="index/hub", metric="attack_success_rate", variant="raw")
    assert hub_raw.value == a3.value and hub_raw.details["k"] == 3
    for name in ("hubness", "csls", "mutual-proximity"):
        pick(results, check="index/hub", metric="attack_success_rate", d_defense=name)
        pick(results, check=f"defense/{name}", metric="clean_recall_cost")


def test_artifacts_are_pngs_inside_the_run_dir(tmp_path: Path) -> None:
    from dashboard import resolve_artifact

    emb = TinyImageEmbedder()
    results = run(
        tmp_path,
        emb,
        ["image", "index"],
        image_attacks=["fgsm"],
        targeted=False,
        hijack_items=2,
        hijack_steps=3,
        hub_steps=3,
        hubness_k=3,
        hub_k=[3],
        **IMAGE_OPTS,
    )
    run_dir = tmp_path / "run"
    with_art = [r for r in results if "artifacts" in r.details]
    assert {r.check for r in with_art} == {"image/fgsm", "index/hijack", "index/hub"}
    for r in with_art:
        refs = r.details["artifacts"]
        assert any(k.endswith("before") for k in refs) and any(k.endswith("after") for k in refs)
        pixels = {}
        for label, rel in refs.items():
            assert not Path(rel).is_absolute() and rel.startswith("artifacts/")
            path = resolve_artifact(run_dir, rel)
            assert path.is_relative_to(run_dir.resolve())
            pixels[label.split()[-1]] = np.asarray(Image.open(path), dtype=np.int16)
        linf = np.abs(pixels["after"] - pixels["before"]).max()
        assert 0 < linf <= round(r.details["eps_255"]) + 1  # PNG rounding: one level


def test_without_a_differentiable_path_white_box_checks_are_skipped_with_a_reason(
    tmp_path: Path,
) -> None:
    emb = HashEmbedder()  # embeds text and images, exposes no gradients
    results = run(
        tmp_path,
        emb,
        ["image", "square", "index"],
        image_attacks=["pgd"],
        square_queries=3,
        square_budgets=[6],
        **IMAGE_OPTS,
    )
    skipped = {r.check: r for r in results if r.metric == "skipped"}
    assert set(skipped) == {"image/pgd", "image/pgd-targeted", "index/hijack", "index/hub"}
    for r in skipped.values():
        assert r.value is None and "differentiable" in r.details["reason"]
    # Square needs only embed(), so it still runs
    sq = pick(results, check="image/square", metric="attack_success_rate", variant="raw")
    assert sq.details["black_box"] == "embed() only"
    text = suite_summary("redteam", results)
    assert "Skipped:" in text and "image/pgd: no differentiable image path" in text


def test_a_path_that_disagrees_with_embed_is_not_attacked(tmp_path: Path) -> None:
    class Mismatched(TinyImageEmbedder):
        def differentiable(self, modality: str):  # type: ignore[no-untyped-def]
            path = super().differentiable(modality)
            return type(path)(module=TinyNet(seed=99), to_tensor=path.to_tensor)

    results = run(tmp_path, Mismatched(), ["image"], image_attacks=["fgsm"], **IMAGE_OPTS)
    reasons = {r.check: r.details["reason"] for r in results if r.metric == "skipped"}
    assert "disagrees with embed()" in reasons["image/fgsm"]
    assert not [r for r in results if r.metric == "attack_success_rate"]


def test_a_debiasing_projection_is_composed_onto_the_gradient_path(tmp_path: Path) -> None:
    from fairness.debias import PCADebiaser

    base = TinyImageEmbedder()
    vectors = base.embed([Item(f"i{i}", "image", png(i)) for i in range(40)])
    projected = ProjectedEmbedder(base, PCADebiaser(n_components=5).fit(vectors))
    results = run(
        tmp_path, projected, ["image"], image_attacks=["fgsm"], targeted=False, **IMAGE_OPTS
    )
    r = pick(results, check="image/fgsm", metric="attack_success_rate", variant="raw", d_eps_255=8)
    assert r.details["projected_path"] is True and r.details["path_min_cosine"] > 0.999


def test_raw_and_defended_side_by_side_in_results_and_summary(tmp_path: Path) -> None:
    emb = TinyImageEmbedder()
    results = run(
        tmp_path,
        emb,
        ["text", "image"],
        text_attacks=["homoglyph"],
        text_budgets=[2],
        text_queries=100,
        image_attacks=["fgsm"],
        targeted=False,
        **IMAGE_OPTS,
    )
    for check in ("text/homoglyph", "image/fgsm"):
        raw = [
            r
            for r in results
            if r.check == check and r.metric == "attack_success_rate" and r.variant == "raw"
        ]
        dfd = [
            r
            for r in results
            if r.check == check and r.metric == "attack_success_rate" and r.variant == "defended"
        ]
        assert raw and dfd and all(r.details["defense"] for r in dfd)
        assert all(r.details["family"] in ("text", "image") for r in raw + dfd)
    text = suite_summary("redteam", results)
    line = next(ln for ln in text.splitlines() if ln.startswith("text/homoglyph"))
    raw_v = pick(results, check="text/homoglyph", metric="attack_success_rate", variant="raw")
    assert f"{raw_v.value:.3f}" in line and "unicode-sanitize" in line
    assert "jpeg" in next(ln for ln in text.splitlines() if ln.startswith("image/fgsm"))


def test_runs_repeat_exactly(tmp_path: Path) -> None:
    opts = {
        "text_attacks": ["typo-swap"],
        "text_budgets": [2],
        "image_attacks": ["pgd"],
        "square_queries": 3,
        "square_budgets": [6],
        "hijack_items": 2,
        "hijack_steps": 3,
        "hub_steps": 3,
        "hubness_k": 3,
        "hub_k": [3],
        "poison_queries": 3,
    }
    fams = ["text", "image", "square", "index", "poison"]
    a = run(tmp_path / "a", TinyImageEmbedder(), fams, **(IMAGE_OPTS | opts))
    b = run(tmp_path / "b", TinyImageEmbedder(), fams, **(IMAGE_OPTS | opts))
    key = [(r.check, r.metric, r.variant, r.details.get("defense"), r.value) for r in a]
    assert key == [(r.check, r.metric, r.variant, r.details.get("defense"), r.value) for r in b]
    assert len({r.check for r in a}) >= 8


@pytest.mark.parametrize(
    ("opts", "needle"),
    [
        ({"unknown_knob": 1}, "unknown option"),
        ({"eps_255": [-1]}, "eps_255"),
        ({"text_attacks": ["homoglif"]}, "text_attacks"),
        ({"image_attacks": ["square"]}, "image_attacks"),
        ({"square_budgets": [2]}, "square_budgets"),
        ({"families": "text"}, "families"),
        ({"targeted": "yes"}, "targeted"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, opts: dict, needle: str) -> None:
    ctx = context(tmp_path, HashEmbedder(), **({"families": ["text"]} | opts))
    with pytest.raises(ConfigError, match=needle):
        RedteamSuite(text_dataset=text_dataset()).run(ctx)


@pytest.mark.slow
def test_quick_run_on_the_local_embedder(tmp_path: Path) -> None:
    """The offline default, end to end; every claim is against its own clean baseline."""
    pytest.importorskip("torchattacks")
    from audit.config import RunConfig
    from audit.runner import run_suites
    from audit.suites import SUITES, SuiteEntry

    if "redteam" not in SUITES:
        SUITES.register(
            "redteam", SuiteEntry("audit.suites.redteam:RedteamSuite", "red-team attacks")
        )
    config = RunConfig(
        suites=["redteam"], quick=True, out=tmp_path, cache=tmp_path / "c.sqlite", progress=False
    )
    outcome = run_suites(config)
    assert not outcome.failed, outcome.report.errors
    results = outcome.report.results
    assert not [r for r in results if r.metric == "skipped"]

    def asr(check: str, variant: str = "raw", **d: Any) -> Result:
        return pick(
            results,
            check=check,
            metric="attack_success_rate",
            variant=variant,
            **{f"d_{k}": v for k, v in d.items()},
        )

    # PGD at 8/255 moves most image queries off their own indexed copy; eps 0 would not
    pgd = asr("image/pgd", eps_255=8)
    assert pgd.value >= 0.5 and pgd.details["recall_clean"] == 1.0
    assert (
        pick(
            results, check="image/pgd", metric="recall@1_attacked", variant="raw", d_eps_255=8
        ).value
        < 1.0
    )
    # Sanitisation restores what homoglyphs took
    homo, homo_d = asr("text/homoglyph", budget=4), asr("text/homoglyph", "defended", budget=4)
    assert homo.value > 0 and homo_d.value < homo.value
    # The hijacked items climb toward their target queries
    hij = asr("index/hijack")
    assert all(
        a <= b for a, b in zip(hij.details["rank_after"], hij.details["rank_before"], strict=True)
    )
    # The hub reaches many more held-out top-10s than its seed image, and is flagged
    hub = pick(results, check="index/hub", metric="asr@10")
    assert hub.value > hub.details["clean_hit_rate"]["10"]
    assert pick(results, check="index/hub", metric="hub_flagged").value == 1.0
    for r in results:
        if r.metric == "queries_used" and r.check.startswith("image/square"):
            assert r.value <= r.details["max_queries"]
        for rel in r.details.get("artifacts", {}).values():
            assert (outcome.path.parent / rel).is_file()
    assert "Attack success rate by budget" in suite_summary("redteam", results)
