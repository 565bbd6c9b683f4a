"""Quire: notebook-driven reporting."""
__version__ = "0.1.0"
