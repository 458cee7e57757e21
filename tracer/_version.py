"""The tool's version, written into every recording header."""

__version__ = "0.5.0"
