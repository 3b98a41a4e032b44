"""Executive scorecard for AI systems in production."""

__version__ = "0.1.0"
