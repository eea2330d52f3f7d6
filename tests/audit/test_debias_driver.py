"""The one fit driver: a one-shot fit is one chunk, equal to ``fit`` on the split's fit
rows to the last bit; the report's fit-side numbers (from statistics) equal the same
numbers computed from the projected rows; the methods' table drives every list."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from fakes import HashEmbedder
from sklearn.model_selection import train_test_split

from audit.debias.fit import fit_debias, fit_debias_streaming
from audit.debias.methods import PROJECTION_METHODS, make_debiaser
from audit.items import text_item
from fairness.debias import (
    LEACE,
    METHODS,
    CorrelationRemoverDebiaser,
    FairPCA,
    PCADebiaser,
    debias_method,
    needs_groups_at_transform,
)


def _items(n: int = 600) -> list:
    groups = ["female", "male", "other"]
    return [text_item(f"i{i:04d}", f"sentence {i}", gender=groups[i % 5 % 3]) for i in range(n)]


@pytest.mark.parametrize("method", PROJECTION_METHODS)
def test_one_shot_is_the_driver_with_one_chunk_and_fit_on_the_split(method: str) -> None:
    items, emb = _items(), HashEmbedder(dim=12)
    one, rep1 = fit_debias(emb, items, attribute="gender", method=method, sizes=[12, 5], seed=3)
    chunk, rep2 = fit_debias_streaming(
        emb,
        items,
        attribute="gender",
        method=method,
        sizes=[12, 5],
        seed=3,
        chunk_size=len(items),
        max_probe=None,
    )
    # Independently: the stratified split, then a plain fit() on its fit rows in order.
    X = emb.embed(items, purpose="index").astype(np.float64)
    labels = np.asarray([it.attributes["gender"] for it in items])
    fit_idx, _ = train_test_split(
        np.arange(len(items)), test_size=0.5, stratify=labels, random_state=3
    )
    reference = make_debiaser(method, None).fit(X[fit_idx], sensitive_features=labels[fit_idx])
    probe = np.random.default_rng(0).standard_normal((40, 12))
    np.testing.assert_array_equal(one.transform(probe), reference.transform(probe))
    np.testing.assert_array_equal(chunk.transform(probe), one.transform(probe))
    a, b = rep1.to_dict(), rep2.to_dict()
    assert a.pop("streaming") is None
    assert b.pop("streaming") == {"chunk_size": 600, "max_probe": None, "rows": 600, "chunks": 1}
    assert a == b  # every number equal, not only close


@pytest.mark.parametrize("method", PROJECTION_METHODS)
def test_fit_side_numbers_equal_the_projected_rows(method: str) -> None:
    """gap(fit) and variance kept come from statistics; recompute them from the rows."""
    items, emb = _items(), HashEmbedder(dim=12)
    debiaser, rep = fit_debias(emb, items, attribute="gender", method=method, sizes=[9], seed=1)
    X = emb.embed(items, purpose="index").astype(np.float64)
    labels = np.asarray([it.attributes["gender"] for it in items])
    fit_idx, _ = train_test_split(
        np.arange(len(items)), test_size=0.5, stratify=labels, random_state=1
    )
    (size,) = rep.sizes
    Z = np.asarray(debiaser.transform(X[fit_idx]))[:, :9]
    means = np.stack([Z[labels[fit_idx] == g].mean(0) for g in ("female", "male", "other")])
    gap = max(np.linalg.norm(m1 - m2) for m1 in means for m2 in means)
    kept = ((Z - Z.mean(0)) ** 2).sum() / ((X[fit_idx] - X[fit_idx].mean(0)) ** 2).sum()
    assert size.max_group_mean_gap_fit == pytest.approx(gap, abs=1e-10)
    assert size.variance_kept == pytest.approx(kept, rel=1e-9)


def test_methods_table_drives_choices_builders_and_loading(tmp_path) -> None:
    assert PROJECTION_METHODS == ("fairpca", "fairpca-cov", "pca", "leace")
    built = {m: make_debiaser(m, 4) for m in PROJECTION_METHODS}
    assert isinstance(built["fairpca"], FairPCA) and built["fairpca"].constraint == "mean"
    assert built["fairpca-cov"].constraint == "covariance" and built["fairpca"].n_components == 4
    assert isinstance(built["pca"], PCADebiaser) and isinstance(built["leace"], LEACE)
    with pytest.raises(ValueError, match="unknown method 'correlation-remover'; use one of"):
        make_debiaser("correlation-remover", None)  # its transform needs the groups
    assert debias_method("correlation-remover").estimator_class() is CorrelationRemoverDebiaser
    X = np.random.default_rng(0).standard_normal((40, 5))
    g = ["ab"[i % 2] for i in range(40)]
    assert needs_groups_at_transform(CorrelationRemoverDebiaser().fit(X, sensitive_features=g))
    assert not needs_groups_at_transform(FairPCA(3).fit(X, sensitive_features=g))
    # Every class of the table loads back from its saved file (load_debiaser reads the table).
    from fairness.debias import load_debiaser

    for method in METHODS:
        est = method.build(3).fit(X, sensitive_features=g)
        path = est.save(tmp_path / f"{method.name}.npz")
        assert type(load_debiaser(path)) is method.estimator_class()


def test_the_method_lists_import_no_scikit_learn() -> None:
    code = (
        "import sys\n"
        "import audit.debias.methods, fairness.debias\n"
        "assert 'sklearn' not in sys.modules, 'sklearn imported'\n"
        "print(audit.debias.methods.PROJECTION_METHODS)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "fairpca" in out.stdout
