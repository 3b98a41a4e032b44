"""The metric families: one module each, listed in `catalog.py`."""
