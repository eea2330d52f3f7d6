"""Data files of the bias probes (word lists, templates); loaded by ``fairness.probes``."""
