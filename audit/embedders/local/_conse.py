"""ConSE (Norouzi et al., ICLR 2014) as a differentiable torch module.

An image's embedding is sum_t p(y_t | x) * s(y_t) / sum_t p(y_t | x) over the top-T
ImageNet classes y_t, where s(y) is the text embedding of the class name. ``topk`` keeps
gradients for the selected probabilities, so attacks can backpropagate through it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from audit.embedders.local._efficientnet import load_efficientnet_lite0, preprocess_tensor
from audit.weights import verify_weights


class ConSEHead(nn.Module):
    """Classifier + class-name embeddings -> L2-normalised ConSE embedding.

    Parameters
    ----------
    backbone : nn.Module
        Maps a preprocessed NCHW batch to (N, C) class logits.
    class_embeddings : torch.Tensor
        (C, D) text embeddings of the class names.
    top_t : int
        Number of top classes mixed.
    """

    def __init__(self, backbone: nn.Module, class_embeddings: torch.Tensor, top_t: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.register_buffer("class_embeddings", class_embeddings.float())
        self.top_t = top_t

    @staticmethod
    def prepare(x01: torch.Tensor) -> torch.Tensor:
        """[0, 1] NCHW image of any size -> the classifier's 224x224 normalised input."""
        return preprocess_tensor(x01)

    def embed_prepared(self, x: torch.Tensor) -> torch.Tensor:
        """Embed an already-prepared batch."""
        probs = self.backbone(x).softmax(dim=-1)
        top = probs.topk(self.top_t, dim=-1)
        mixed = torch.einsum("nt,ntd->nd", top.values, self.class_embeddings[top.indices])
        mixed = mixed / top.values.sum(dim=-1, keepdim=True)
        return nn.functional.normalize(mixed, dim=-1)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """NCHW image batch in [0, 1] -> (N, D) L2-normalised embeddings."""
        return self.embed_prepared(self.prepare(x01))


def build_conse_head(
    weights_path: Path, expected_sha256: str, *, class_embeddings: np.ndarray, top_t: int
) -> ConSEHead:
    """Verify and load EfficientNet-Lite0, then wrap it into a ConSE head in eval mode."""
    verify_weights(weights_path, expected_sha256)  # WeightsError names file and hashes
    backbone = load_efficientnet_lite0(weights_path, expected_sha256=None)  # just verified
    head = ConSEHead(backbone, torch.from_numpy(np.asarray(class_embeddings)), top_t)
    head.eval()
    for p in head.parameters():
        p.requires_grad_(False)  # attacks need input gradients only
    return head
