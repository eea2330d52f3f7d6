"""Model-hub backends: ``st:`` (sentence-transformers) and ``hf:`` (transformers CLIP,
SigLIP, CLAP), loaded from a local folder or a Hugging Face hub id.

``_spec`` parses the spec argument (options, ``#pins``), resolves and hashes the model
folder and validates options without loading anything (``check_st``, ``check_hf``);
``st`` and ``hf`` hold the backends, ``_hf_image`` / ``_hf_audio`` / ``_hf_media`` the
differentiable towers and media decoding of ``hf:``. Nothing is imported here, so checking
a spec never loads torch.
"""
