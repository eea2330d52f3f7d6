"""st: and hf: backends against tiny randomly initialised models built here (no hub)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from tiny_hub_models import SR, build_tiny_models
from tiny_hub_models import extractor as _extractor

from audit.embedders.hub._hf_audio import ClapLogMel, pad_window
from audit.embedders.hub._hf_media import _decode_soundfile, decode_audio
from audit.embedders.hub._spec import PICKLE_ENV
from audit.embedders.hub.hf import HfEmbedder
from audit.embedders.hub.st import StEmbedder
from audit.items import BadItemsError, Item, text_item
from audit.weights import WeightsError

transformers = pytest.importorskip("transformers")
st_modules = pytest.importorskip("sentence_transformers.sentence_transformer.modules")

TEXTS = ["a photo of a cat", "the sound of rain on a roof", "x"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny BERT sentence-transformer, CLIP, SigLIP and CLAP folders (save_pretrained)."""
    return build_tiny_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def emb(dirs: dict[str, Path]) -> dict[str, object]:
    """One embedder per tiny model (loading is the slow part)."""
    made: dict[str, object] = {"st": StEmbedder(str(dirs["st"]))}
    for name in ("clip", "siglip", "clap"):
        made[name] = HfEmbedder(f"{dirs[name]}?frames=4&batch_size=5")
    for e in made.values():
        e.progress = False  # type: ignore[attr-defined]
    return made


def _png(seed: int, size: tuple[int, int] = (50, 40)) -> bytes:
    """A smooth colour image (smooth, so 8-bit rounding in the resize matters little)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    arr = np.stack([np.sin(xx / (5 + seed)), np.cos(yy / (4 + seed)), np.sin((xx + yy) / 9)], -1)
    buf = io.BytesIO()
    Image.fromarray(((arr * 0.5 + 0.5) * 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _wav(wave: np.ndarray, rate: int = SR) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, wave, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=n) * 0.1).astype(np.float32)


def _norm(x: torch.Tensor) -> np.ndarray:
    return F.normalize(x.float(), dim=-1).detach().numpy()


# -- st: -----------------------------------------------------------------------------------


def test_st_matches_manual_bert_mean_pooling_with_prompts(emb, dirs):
    e = emb["st"]
    assert (e.dim, e.modalities, e.matryoshka_dims) == (32, frozenset({"text"}), ())
    assert e.weights == {"model.safetensors": _sha(dirs["st"] / "model.safetensors")}
    assert e.params["prompts"] == {
        "query": ("query", "query: "),
        "index": ("document", "passage: "),
    }
    items = [text_item(f"t{i}", t) for i, t in enumerate(TEXTS)]
    tok = transformers.AutoTokenizer.from_pretrained(dirs["st"])
    bert = transformers.BertModel.from_pretrained(dirs["st"]).eval()
    for purpose, prefix in (("query", "query: "), ("index", "passage: ")):
        enc = tok(
            [prefix + t for t in TEXTS],
            padding=True,
            truncation=True,
            max_length=24,
            return_tensors="pt",
        )
        with torch.no_grad():
            hidden = bert(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        manual = _norm((hidden * mask).sum(1) / mask.sum(1))
        np.testing.assert_allclose(e.embed(items, purpose=purpose), manual, atol=1e-5)


def test_st_without_prompts_is_symmetric_and_truncates(dirs, tmp_path):
    folder = shutil.copytree(dirs["st"], tmp_path / "plain")
    cfg_path = folder / "config_sentence_transformers.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["prompts"] = {}
    cfg_path.write_text(json.dumps(cfg))
    e = StEmbedder(f"{folder}?matryoshka=8,16,8&batch_size=2")
    assert e.matryoshka_dims == (16, 8) and e.batch_size == 2
    assert e.params["prompts"] == {"query": None, "index": None}
    items = [text_item("a", "alpha beta"), text_item("b", "gamma")]
    full = e.embed(items, purpose="query")
    np.testing.assert_allclose(full, e.embed(items, purpose="index"), atol=1e-6)
    short = e.embed(items, dim=8)
    np.testing.assert_allclose(
        short, full[:, :8] / np.linalg.norm(full[:, :8], axis=1)[:, None], rtol=1e-5
    )
    with pytest.raises(ValueError, match="outside"):
        StEmbedder(f"{folder}?matryoshka=64")


def test_st_refuses_unsupported_modality_naming_items(emb):
    with pytest.raises(BadItemsError) as info:
        emb["st"].embed(
            [
                Item("img1", "image", _png(0)),
                text_item("ok", "fine"),
                Item("au1", "audio", _wav(_noise(100))),
            ]
        )
    assert [err.item_id for err in info.value.errors] == ["img1", "au1"]


def test_pins_in_spec_and_sums_file(dirs, tmp_path):
    good = _sha(dirs["st"] / "model.safetensors")
    assert StEmbedder(f"{dirs['st']}#sha256={good}").weights["model.safetensors"] == good
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        StEmbedder(f"{dirs['st']}#model.safetensors={'0' * 64}")
    folder = shutil.copytree(dirs["st"], tmp_path / "pinned")
    cfg = _sha(folder / "config.json")
    (folder / "SHA256SUMS").write_text(f"{good}  model.safetensors\n{cfg} *config.json\n")
    StEmbedder(str(folder))
    (folder / "config.json").write_text((folder / "config.json").read_text() + "\n")
    with pytest.raises(WeightsError, match=r"config\.json"):
        StEmbedder(str(folder))  # a pinned config file changed
    (folder / "SHA256SUMS").unlink()
    shutil.copy(folder / "model.safetensors", folder / "1_Pooling" / "model.safetensors")
    with pytest.raises(WeightsError, match="single weight file but"):
        StEmbedder(f"{folder}#sha256={good}")
    with pytest.raises(WeightsError, match="not pinned"):
        StEmbedder(f"{folder}#model.safetensors={good}")


def test_pickle_weights_refused_unless_opted_in(emb, dirs, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    folder = shutil.copytree(dirs["st"], tmp_path / "pickled")
    state = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(state, folder / "pytorch_model.bin")
    monkeypatch.delenv(PICKLE_ENV, raising=False)
    with pytest.raises(WeightsError, match=r"pytorch_model\.bin.*allow_pickle"):
        StEmbedder(str(folder))
    items = [text_item("a", "same weights, other format")]
    for spec in (f"{folder}?allow_pickle=1", str(folder)):
        if spec == str(folder):
            monkeypatch.setenv(PICKLE_ENV, "1")
        e = StEmbedder(spec)
        e.progress = False
        assert e.weights == {"pytorch_model.bin": _sha(folder / "pytorch_model.bin")}
        np.testing.assert_allclose(e.embed(items), emb["st"].embed(items), atol=1e-6)


def test_spec_errors_and_hub_resolution(dirs, monkeypatch):
    with pytest.raises(ValueError, match="unknown option 'frames'"):
        StEmbedder(f"{dirs['st']}?frames=3")
    with pytest.raises(ValueError, match="not found"):
        StEmbedder("/no/such/model/folder")
    with pytest.raises(ValueError, match="bad pin"):
        StEmbedder(f"{dirs['st']}#sha256=abc")
    with pytest.raises(ValueError, match="revision applies to hub ids"):
        StEmbedder(f"{dirs['st']}?revision=main")
    with pytest.raises(ValueError, match="must be an integer"):
        StEmbedder(f"{dirs['st']}?batch_size=many")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            StEmbedder(f"{dirs['st']}?device=cuda")
    import huggingface_hub

    calls = []

    def fake_snapshot(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(dirs["st"])

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    e = StEmbedder("someone/tiny-st?revision=abc123")
    assert e.name == "st:someone/tiny-st" and e.root == dirs["st"].resolve()
    ((repo, kwargs),) = calls
    assert repo == "someone/tiny-st" and kwargs["revision"] == "abc123"
    assert "*.bin" in kwargs["ignore_patterns"]  # refused pickles are not even downloaded


# -- hf: -----------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_hf_vision_text_and_image_match_direct_model(emb, dirs, family):
    e = emb[family]
    assert e.modalities == frozenset({"text", "image", "video", "document"})
    assert e.weights == {"model.safetensors": _sha(dirs[family] / "model.safetensors")}
    model = getattr(transformers, "CLIPModel" if family == "clip" else "SiglipModel")
    model = model.from_pretrained(dirs[family]).eval()
    tok = transformers.AutoTokenizer.from_pretrained(dirs[family])
    if family == "siglip":  # SigLIP: max_length padding, no attention mask
        enc = tok(TEXTS, padding="max_length", max_length=16, return_tensors="pt")
        enc = {"input_ids": enc["input_ids"]}
    else:
        enc = tok(TEXTS, padding=True, return_tensors="pt")
        enc = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    pngs = [_png(0), _png(1, (30, 60))]
    proc = transformers.AutoImageProcessor.from_pretrained(dirs[family])
    pixels = proc(
        images=[Image.open(io.BytesIO(b)).convert("RGB") for b in pngs], return_tensors="pt"
    )["pixel_values"]
    with torch.no_grad():
        text_ref = _norm(model.get_text_features(**enc).pooler_output)
        image_ref = _norm(model.get_image_features(pixel_values=pixels).pooler_output)
    items = [text_item(f"t{i}", t) for i, t in enumerate(TEXTS)]
    items += [Item(f"i{i}", "image", b) for i, b in enumerate(pngs)]
    np.testing.assert_allclose(e.embed(items), np.vstack([text_ref, image_ref]), atol=1e-5)


@pytest.mark.parametrize("size", [(90, 140), (20, 25)])  # down- and upscaling
@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_differentiable_image_path_matches_embed_and_has_gradients(emb, family, size):
    e = emb[family]
    item = Item("img", "image", _png(2, size))
    path = e.differentiable("image")
    x = path.to_tensor(item)
    assert x.shape == (1, 3, size[1], size[0]) and 0 <= x.min() and x.max() <= 1
    img = Image.open(io.BytesIO(item.content)).convert("RGB")
    pixels = e.image_processor(images=[img], return_tensors="pt")["pixel_values"]
    std = torch.tensor(e.image_processor.image_std).view(1, -1, 1, 1)
    grey_levels = ((path.module.preprocess(x) - pixels) * std).abs().max() * 255
    assert grey_levels < 1.25  # Pillow rounds its resize output to 8 bits; torch does not
    x.requires_grad_(True)
    out = path.module(x)
    np.testing.assert_allclose(out.detach().numpy(), e.embed([item]), atol=5e-3)
    np.testing.assert_allclose(out.norm(dim=-1).item(), 1.0, rtol=1e-5)
    (out @ torch.randn(out.shape[-1])).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("truncation", ["rand_trunc", "fusion"])
@pytest.mark.parametrize("padding", ["repeatpad", "repeat", "pad"])
def test_torch_logmel_matches_feature_extractor(truncation, padding):
    fe = _extractor(truncation, padding)
    wave = _noise(7_000, seed=3) * np.linspace(0.0, 2.0, 7_000, dtype=np.float32)
    ref = fe(wave, sampling_rate=SR, return_tensors="np")["input_features"][0, 0]
    padded = pad_window(torch.from_numpy(wave)[None], int(fe.nb_max_samples), padding)
    mine = ClapLogMel.from_extractor(fe)(padded)[0].numpy()
    assert mine.shape == ref.shape == (101, 16)
    np.testing.assert_allclose(mine, ref, atol=2e-3)  # dB; float32 STFT vs float64


def test_clap_text_and_audio_match_direct_model(emb, dirs):
    e = emb["clap"]
    assert e.modalities == frozenset({"text", "audio"})
    model = transformers.ClapModel.from_pretrained(dirs["clap"]).eval()
    tok = transformers.AutoTokenizer.from_pretrained(dirs["clap"])
    fe = transformers.AutoFeatureExtractor.from_pretrained(dirs["clap"])
    waves = [_noise(12_000, 1), _noise(SR, 2)]  # within the 1 s window: no random crop
    enc = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        text_ref = _norm(
            model.get_text_features(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
            ).pooler_output
        )
        audio_ref = _norm(
            model.get_audio_features(
                **fe(waves, sampling_rate=SR, return_tensors="pt")
            ).pooler_output
        )
    items = [text_item(f"t{i}", t) for i, t in enumerate(TEXTS)]
    items += [Item(f"a{i}", "audio", _wav(w)) for i, w in enumerate(waves)]
    np.testing.assert_allclose(e.embed(items), np.vstack([text_ref, audio_ref]), atol=1e-5)


def test_clap_long_clip_averages_windows_and_has_gradients(emb, dirs):
    e = emb["clap"]
    fe = transformers.AutoFeatureExtractor.from_pretrained(dirs["clap"])
    wave = _noise(int(2.5 * SR), 4)
    windows = [wave[:SR], wave[SR : 2 * SR], wave[-SR:]]  # last window ends at the end
    with torch.no_grad():
        feats = fe(windows, sampling_rate=SR, return_tensors="pt")
        per = _norm(e.model.get_audio_features(**feats).pooler_output)
    manual = per.mean(0) / np.linalg.norm(per.mean(0))
    item = Item("long", "audio", _wav(wave))
    np.testing.assert_allclose(e.embed([item])[0], manual, atol=1e-5)
    path = e.differentiable("audio")
    x = path.to_tensor(item).requires_grad_(True)
    out = path.module(x)
    np.testing.assert_allclose(out.detach().numpy()[0], manual, atol=1e-5)
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("decode", ["av", "soundfile"])
def test_audio_is_resampled_to_the_model_rate(decode):
    t8 = np.arange(8_000) / 8_000
    item = Item("s", "audio", _wav(0.5 * np.sin(2 * np.pi * 440 * t8).astype(np.float32), 8_000))
    wave = decode_audio(item, SR, max_seconds=5) if decode == "av" else _decode_soundfile(item, SR)
    assert abs(len(wave) - SR) <= 64
    t16 = np.arange(len(wave)) / SR
    expected = 0.5 * np.sin(2 * np.pi * 440 * t16)
    np.testing.assert_allclose(wave[400:-400], expected[400:-400], atol=0.02)


def test_video_pools_evenly_sampled_frames(emb, dirs):
    import av

    buf = io.BytesIO()
    colours = [np.full((32, 48, 3), (25 * i, 255 - 20 * i, 120), np.uint8) for i in range(12)]
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=12)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        for frame in colours:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    with av.open(io.BytesIO(buf.getvalue())) as inp:
        decoded = [f.to_image() for f in inp.decode(video=0)]
    picks = [decoded[i] for i in (1, 4, 7, 10)]  # 4 frames, centred in 4 equal spans
    e = emb["clip"]
    model = transformers.CLIPModel.from_pretrained(dirs["clip"]).eval()
    with torch.no_grad():
        pixels = e.image_processor(images=picks, return_tensors="pt")["pixel_values"]
        frames = _norm(model.get_image_features(pixel_values=pixels).pooler_output)
    manual = frames.mean(0) / np.linalg.norm(frames.mean(0))
    np.testing.assert_allclose(e.embed([Item("v", "video", buf.getvalue())])[0], manual, atol=1e-5)


def test_document_embeds_rendered_padded_pages(emb, tmp_path):
    import pypdfium2 as pdfium

    pages = [Image.open(io.BytesIO(_png(i, (60, 90)))).convert("RGB") for i in range(2)]
    pdf = tmp_path / "two.pdf"
    pages[0].save(pdf, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    doc = pdfium.PdfDocument(str(pdf))
    rendered = []
    for i in range(2):
        img = doc[i].render(scale=1024 / max(doc[i].get_size())).to_pil().convert("RGB")
        rendered.append(ImageOps.pad(img, (max(img.size),) * 2, color=(255, 255, 255)))
    doc.close()
    e = emb["clip"]
    ref = e.encode_images(rendered)
    first = e.embed([Item("d", "document", pdf)])[0]
    np.testing.assert_allclose(first, ref[0], atol=1e-5)
    two = HfEmbedder(f"{e.root}?pages=2")
    two.progress = False
    both = ref.mean(0) / np.linalg.norm(ref.mean(0))
    np.testing.assert_allclose(two.embed([Item("d", "document", pdf)])[0], both, atol=1e-5)


def test_hf_bad_items_and_paths(emb, dirs):
    clip, clap = emb["clip"], emb["clap"]
    with pytest.raises(BadItemsError) as info:
        clip.embed([Item("a1", "audio", _wav(_noise(100))), text_item("t", "fine")])
    assert [err.item_id for err in info.value.errors] == ["a1"]
    with pytest.raises(BadItemsError) as info:
        clap.embed([Item("i1", "image", _png(0)), Item("v1", "video", b"\x00" * 64)])
    assert [err.item_id for err in info.value.errors] == ["i1", "v1"]
    broken = [Item(f"b{i}", "audio", b"RIFF" + bytes(range(60))) for i in range(2)]
    with pytest.raises(BadItemsError) as info:  # valid signature, undecodable body
        clap.embed([*broken, Item("ok", "audio", _wav(_noise(SR)))])
    assert [err.item_id for err in info.value.errors] == ["b0", "b1"]
    with pytest.raises(NotImplementedError):
        clip.differentiable("audio")
    with pytest.raises(NotImplementedError):
        clap.differentiable("image")
    with pytest.raises(ValueError, match="model_type 'bert'"):
        HfEmbedder(str(dirs["bert"]))
    items = [text_item("x", "one"), text_item("y", "two")]
    full = clap.embed(items)
    np.testing.assert_allclose(
        clap.embed(items, dim=4),
        full[:, :4] / np.linalg.norm(full[:, :4], axis=1)[:, None],
        rtol=1e-5,
    )
