"""Developer tool: turn alt-profanity-check's pickled model into plain arrays (no pickle).

alt-profanity-check 1.9.1 ships its model only as two joblib pickles. The model is a
TF-IDF vectorizer and a sigmoid-calibrated ensemble of five linear SVMs, so everything it
computes is a vocabulary, an idf vector and five (coef, intercept, a, b) rows. This
script loads the pickles once, after checking their pinned sha256, and writes those
arrays to ``audit/safety/data/profanity_linear.npz``, which :class:`ProfanityChecker`
reads with ``np.load(allow_pickle=False)``: nothing is unpickled at run time.

Run (needs the dev extra, which installs alt-profanity-check==1.9.1)::

    python -m audit.safety._profanity_export [--out PATH]

tests/safety/test_safety_models.py re-derives the arrays from the pickles and checks the
checker's probabilities against the package's own ``predict_prob``.
"""

from __future__ import annotations

import argparse
import importlib.util
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from audit.weights import verify_weights

#: sha256 of the model files in the alt-profanity-check 1.9.1 wheel (profanity_check/data/).
PICKLE_SHA256: dict[str, str] = {
    "vectorizer.joblib": "19c5200dc6a41f026e0558e2f164f5fe8d8f58e502b46b37e4385037fcfa4831",
    "model.joblib": "aeafc04849d4d93db4721cf30a86ebf22085595294b8a07d51918e7fa98f538b",
}
#: The vectorizer settings the arrays assume (checked against the pickle on export).
VECTORIZER_PARAMS: dict[str, Any] = {
    "analyzer": "word",
    "lowercase": True,
    "token_pattern": r"(?u)\b\w\w+\b",
    "ngram_range": (1, 1),
    "stop_words": "english",
    "norm": "l2",
    "use_idf": True,
    "sublinear_tf": False,
    "binary": False,
}


def package_data_dir() -> Path:
    """The wheel's ``profanity_check/data`` folder, found without importing the package
    (its ``__init__`` unpickles the model at import time)."""
    spec = importlib.util.find_spec("profanity_check")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("exporting needs the package alt-profanity-check==1.9.1")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def linear_arrays(folder: Path | None = None) -> dict[str, np.ndarray]:
    """The model's arrays, from the hash-verified pickles in ``folder``."""
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    folder = folder or package_data_dir()
    for file, digest in PICKLE_SHA256.items():
        verify_weights(folder / file, digest)
    with warnings.catch_warnings():
        # a pickled estimator from another scikit-learn may predict wrongly
        warnings.simplefilter("error", InconsistentVersionWarning)
        vectorizer = joblib.load(folder / "vectorizer.joblib")  # verified above; dev-time only
        model = joblib.load(folder / "model.joblib")  # verified above; dev-time only
    params = vectorizer.get_params()
    for key, want in VECTORIZER_PARAMS.items():
        if params[key] != want:
            raise ValueError(f"vectorizer {key}={params[key]!r}, the arrays assume {want!r}")
    if model.method != "sigmoid" or list(model.classes_) != [0, 1]:
        raise ValueError("expected a binary sigmoid-calibrated classifier")
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    parts = model.calibrated_classifiers_
    return {
        "terms": np.asarray(terms, dtype=str),
        "idf": np.asarray(vectorizer.idf_, dtype=np.float64),
        "coef": np.stack([c.estimator.coef_[0] for c in parts]).astype(np.float64),
        "intercept": np.asarray([c.estimator.intercept_[0] for c in parts], dtype=np.float64),
        "sigmoid_a": np.asarray([c.calibrators[0].a_ for c in parts], dtype=np.float64),
        "sigmoid_b": np.asarray([c.calibrators[0].b_ for c in parts], dtype=np.float64),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the arrays (``--out``, default the package's data folder)."""
    default = Path(__file__).resolve().parent / "data" / "profanity_linear.npz"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default)
    args = parser.parse_args(argv)
    np.savez_compressed(args.out, **linear_arrays())
    print(args.out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
