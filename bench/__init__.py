"""Latent Lab benchmarks (scripts, not tests): ``python -m bench`` runs every part, prints a table per
part and records the latest results in ``bench/RESULTS.md``. Every comparison runs both sides in the
same process, interleaved or back to back, and reports their ratio. See ``bench/__main__.py``."""
