"""Ray on the driver: import check, start or join a cluster, keep Ray's output quiet."""

from __future__ import annotations

import atexit
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

_INSTALL_HINT = "pip install 'mme-audit[ray]'"
_started_here = False


def require_ray() -> None:
    """Raise a clear ``ImportError`` when Ray Data is not installed."""
    try:
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"--engine ray needs Ray Data, which is not installed ({exc}); {_INSTALL_HINT}"
        ) from exc


def verbose() -> bool:
    """Whether the user asked for log output (``audit -v``): then Ray may talk too."""
    return logging.getLogger("audit.engines").isEnabledFor(logging.INFO)


def ensure_ray(address: str | None) -> bool:
    """Start a local Ray or join ``address``, unless this process already has Ray running.

    Returns True when this call started Ray (it is then shut down at interpreter exit).
    """
    global _started_here
    import ray

    if ray.is_initialized():
        if address is not None:
            log.info("Ray is already initialised in this process; --ray-address %s unused", address)
        return False
    loud = verbose()
    ray.init(
        address=address,
        include_dashboard=False,
        log_to_driver=loud,
        logging_level=logging.INFO if loud else logging.ERROR,
        ignore_reinit_error=True,
    )
    if not _started_here:
        atexit.register(_shutdown)
    _started_here = True
    log.info("Ray %s: %s", "joined" if address else "started locally", ray.cluster_resources())
    return True


def _shutdown() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


@dataclass(frozen=True)
class Resources:
    """What the cluster offers (``ray.cluster_resources()``)."""

    cpus: float
    gpus: float


def cluster_resources() -> Resources:
    """CPUs and GPUs of the cluster Ray is connected to."""
    import ray

    res = ray.cluster_resources()
    return Resources(cpus=float(res.get("CPU", 0.0)), gpus=float(res.get("GPU", 0.0)))


@contextlib.contextmanager
def quiet_ray_data() -> Iterator[None]:
    """Ray Data without progress bars and INFO logs, unless the user asked for -v.

    The global DataContext and the ``ray.data`` logger level are restored afterwards.
    """
    from ray.data import DataContext

    ctx = DataContext.get_current()
    loud = verbose()
    saved = {
        "enable_progress_bars": ctx.enable_progress_bars,
        "print_on_execution_start": ctx.print_on_execution_start,
        "enable_auto_log_stats": ctx.enable_auto_log_stats,
    }
    logger = logging.getLogger("ray.data")
    level = logger.level
    try:
        if not loud:
            ctx.enable_progress_bars = False
            ctx.print_on_execution_start = False
            ctx.enable_auto_log_stats = False
            logger.setLevel(logging.CRITICAL)  # job errors are re-raised, not logged twice
        yield
    finally:
        for key, value in saved.items():
            setattr(ctx, key, value)
        logger.setLevel(level)
