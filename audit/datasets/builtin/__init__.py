"""Built-in datasets: BEIR folders generated offline from real content (see ``_make``).

Each ``<name>/`` folder holds ``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``,
``card.json``, ``README.md`` (the human-readable card), license notices and ``media/``.
"""
