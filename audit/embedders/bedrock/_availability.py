"""Whether Bedrock can be called from here (boto3's credential chain) and which models it
serves. Named by the ``bedrock`` entry of :data:`audit.embedders.EMBEDDERS`; sends nothing.
"""

from __future__ import annotations

__all__ = ["availability", "capabilities"]


def availability() -> tuple[bool, str]:
    """``(can_run, reason)``; the credentials are never returned, logged or printed."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError:
        return False, "boto3 not installed (pip install boto3)"
    try:
        credentials = boto3.session.Session().get_credentials()
    except BotoCoreError as exc:  # e.g. a broken profile; the message holds no secret
        return False, f"AWS configuration error: {type(exc).__name__}"
    if credentials is None:
        return False, "no AWS credentials"
    # ``method`` names the provider (env, shared-credentials-file, iam-role, ...), never a key
    return True, f"credentials found ({credentials.method})"


def capabilities() -> list[str]:
    """One line per model: its modalities and the sizes it serves."""
    from audit.embedders.bedrock._families import MODELS

    return [
        f"{model_id}: {', '.join(sorted(spec.modalities))}; dims: "
        f"{'/'.join(str(d) for d in spec.dims)}"
        for model_id, spec in MODELS.items()
    ]
