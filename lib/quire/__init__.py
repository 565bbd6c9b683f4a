"""Quire: notebook-driven reporting."""

import sys

# jsonschema (imported by nbformat, papermill and nbconvert) imports rfc3987-syntax when it is
# installed, which builds a grammar at import: ~1 s of every CLI start (python-jsonschema#1428).
# Its only use is the "iri" format check, which the notebook schema does not use; jsonschema
# skips that check when the import fails.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
