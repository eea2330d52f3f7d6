"""Attack speed: PGD-10 through the suite's image path, and text-attack throughput.

Image part, all in this process on the same batch (random 224x224 images, the offline
ConSE path over EfficientNet-Lite0, a 100-item gallery):

- measured: ``redteam.tensor.craft(RetrievalHead(module, gallery), x, ..., attack="pgd",
  steps=10)``, what the red-team suite runs (torchattacks PGD on the retrieval head, eval
  mode kept, seeded);
- baseline "fwd+bwd": 10 plain forward + backward passes of the same module (the gradient
  work PGD-10 cannot avoid) with a signed-gradient update, no library;
- baseline "torchattacks on the bare classifier": torchattacks PGD-10 on EfficientNet-Lite0
  itself (same preprocessing, logits over the 1000 ImageNet classes), as in issue 8.

Rounds are interleaved and the best of ``--repeats`` is kept, so machine load hits all
three alike. Text part: texts perturbed per second by each text attack (budget 4) and by the
Unicode sanitiser, against MiniLM's embedding throughput on the same texts (baseline).

Run: .venv/bin/python bench/attack_speed.py [--batch 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from audit.datasets import load_dataset
from audit.embedders.local import LocalEmbedder
from redteam.defenses import UnicodeSanitizer
from redteam.tensor import RetrievalHead, craft
from redteam.text import text_attacks

EPS = 8 / 255
STEPS = 10


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def plain_fwd_bwd(module: nn.Module, x: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """10 forward + backward passes with the PGD update and projection, nothing else."""
    adv = x.clone()
    alpha = 2.5 * EPS / STEPS
    module.eval()
    for _ in range(STEPS):
        adv.requires_grad_(True)
        loss = (module(adv) * direction).sum()
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            adv = torch.min(torch.max(adv - alpha * grad.sign(), x - EPS), x + EPS).clamp(0, 1)
    return adv.detach()


class _Classifier(nn.Module):
    """EfficientNet-Lite0 with the ConSE path's preprocessing: [0, 1] images -> logits."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.backbone(self.head.prepare(x))


def image_part(batch: int, repeats: int) -> None:
    import torchattacks

    emb = LocalEmbedder()
    module = emb.differentiable("image").module
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, 224, 224, generator=gen)
    gallery = F.normalize(torch.randn(100, emb.dim, generator=gen), dim=1).numpy()
    head = RetrievalHead(module, gallery)
    labels = np.arange(batch) % 100
    direction = F.normalize(torch.randn(batch, emb.dim, generator=gen), dim=1)
    classifier = _Classifier(module).eval()
    with torch.no_grad():
        y_cls = classifier(x).argmax(dim=1)

    def bare_torchattacks() -> torch.Tensor:
        atk = torchattacks.PGD(classifier, eps=EPS, alpha=2.5 * EPS / STEPS, steps=STEPS)
        with contextlib.redirect_stdout(io.StringIO()):
            return atk(x, y_cls)

    runs: dict[str, Callable[[], object]] = {
        "suite path: craft(pgd, 10 steps)": lambda: craft(
            head, x, labels, attack="pgd", eps=EPS, steps=STEPS, batch_size=batch
        ),
        "baseline: plain fwd+bwd x10, same module": lambda: plain_fwd_bwd(module, x, direction),
        "baseline: torchattacks PGD-10, bare classifier": bare_torchattacks,
    }
    plain_fwd_bwd(module, x[:1], direction[:1])  # warm-up (lazy init, allocator)
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, fn in runs.items():
            best[name] = min(best[name], timed(fn))
    print(f"PGD-10, eps 8/255, batch {batch} x 3 x 224 x 224, best of {repeats}")
    for name, t in best.items():
        print(f"  {name:48s}: {t:7.2f} s  {batch / t:6.2f} images/s")
    suite = best["suite path: craft(pgd, 10 steps)"]
    for name in list(runs)[1:]:
        print(
            f"  ratio images/s suite / {name.removeprefix('baseline: '):36s}: "
            f"{best[name] / suite:5.2f}"
        )


def text_part(repeats: int) -> None:
    ds = load_dataset("builtin:passages")
    texts = [str(q.content) for q in ds.queries] * 4
    emb = LocalEmbedder()
    emb.encode_texts(texts[:8])  # warm-up
    t_embed = min(timed(lambda: emb.encode_texts(texts)) for _ in range(repeats))
    embed_rate = len(texts) / t_embed
    chars = np.mean([len(t) for t in texts])
    print(f"\ntext attacks on {len(texts)} passage queries ({chars:.0f} chars on average)")
    print(f"budget 4, best of {repeats}")
    print(f"  baseline: MiniLM encode (all-MiniLM-L6-v2)        : {embed_rate:9.0f} texts/s")
    sanitizer = UnicodeSanitizer()
    for name in text_attacks.names():
        attack = text_attacks.get(name)(budget=4, seed=0)
        t = min(timed(lambda a=attack: a.perturb(texts)) for _ in range(repeats))
        attacked = attack.perturb(texts)
        t_s = min(timed(lambda a=attacked: sanitizer(a)) for _ in range(repeats))
        rate, rate_s = len(texts) / t, len(texts) / t_s
        print(
            f"  {name:17s} perturb {rate:9.0f} texts/s ({rate / embed_rate:6.1f}x embed)"
            f"  sanitise {rate_s:9.0f} texts/s ({rate_s / embed_rate:6.1f}x embed)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-image", action="store_true")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}"
    )
    if not args.skip_image:
        image_part(args.batch, args.repeats)
    text_part(args.repeats)


if __name__ == "__main__":
    main()
