"""``audit fit-debias``'s side of debiasing: fitting a projection on an embedder's vectors.

:mod:`fairness.debias` is the estimator library (and holds the methods' table); this
package drives it on embeddings and says how well the fit worked:

* :mod:`audit.debias.methods`: the methods that can debias an embedder (choices of
  ``--method``) and the estimator a name stands for.
* :mod:`audit.debias.fit`: the one fit driver (chunk by chunk; the one-shot fit is one
  chunk), fed by items, by an embedder in chunks, or by Ray-engine Parquet shards.
* :mod:`audit.debias.report`: the fit report (what it measures, printing, saving).

Nothing is imported here, so ``audit --help`` can read the choices without numpy.
"""
