"""Torch helpers shared by the attack packages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` and every submodule in eval mode, then restore each one's own flag.

    ``module.train(flag)`` would set all children to the parent's flag, turning an
    embedder's BatchNorm layers to training mode (batch statistics, running-stat updates)
    when it sits inside a freshly built wrapper; restoring per submodule avoids that.
    """
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, flag in flags:
            m.training = flag
