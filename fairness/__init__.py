"""Fairness library of mme-audit: debiasing projections and bias probes.

A library of its own: it works on arrays and plain callables and never imports ``audit``.
"""
