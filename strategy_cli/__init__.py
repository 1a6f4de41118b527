"""strategy: author, lint, simulate and operate execution strategies."""

__version__ = "0.1.0"
