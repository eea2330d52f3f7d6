"""Generators of the built-in datasets (maintainer tools; not needed at run time).

Run ``python -m audit.datasets.builtin._make [NAME ...]`` to regenerate. They need the
Debian packages ``fonts-noto-color-emoji`` and ``espeak-ng`` and the Python packages
``emoji``, ``fpdf2``, ``av``, ``soundfile``, ``scipy`` and ``scikit-image``.
"""
