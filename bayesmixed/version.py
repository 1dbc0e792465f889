"""The package version, in a leaf module so that io can stamp saved files without
importing the package root (keep it equal to ``version`` in pyproject.toml)."""

__version__ = "0.1.0"
