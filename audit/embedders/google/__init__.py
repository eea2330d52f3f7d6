"""Google embedders: Gemini Embedding (``gemini:``) and Vertex AI multimodal (``vertex:``).

:mod:`~audit.embedders.google.gemini` and :mod:`~audit.embedders.google.vertex` are the
backends; both stand on the shared hosted-backend base :mod:`audit.embedders.hosted`.
Nothing is imported here, so reading the limits table (``audit list``) stays cheap.
"""
