"""Saved results in open formats: ``result.save(path)`` and ``bayesmixed.load(path)``.

A saved result is a zip of ``manifest.json`` (SHA-256 of every member),
``result.json`` (estimates, the model specification, the design's data
signature), NumPy ``.npy`` arrays (read with ``allow_pickle=False``) and, for a
Bayesian fit, one netCDF file per ArviZ group.  No pickle anywhere, so loading
a file never executes code.

The checksums catch accidental damage (a truncated download, a flipped bit);
they are not a signature, and anyone who edits a file can recompute them.  A
crafted file is handled by validation instead: size limits
(:class:`ReadLimits`) checked before anything is read, only members the
result refers to, and every field checked for type and shape.  Either way a
bad file raises :class:`ResultFileError` and never runs code or exhausts
memory.  Saving writes a fresh temporary file and renames it into place, so
readers never see a half-written file; a failed save raises
:class:`ResultSaveError`.
"""

from .design_json import data_signature
from .errors import ResultFileError, ResultSaveError
from .limits import ReadLimits
from .results_io import load, save
from .spec_json import parse_if_text, spec_from_dict, spec_to_dict

__all__ = [
    "ReadLimits",
    "ResultFileError",
    "ResultSaveError",
    "data_signature",
    "load",
    "parse_if_text",
    "save",
    "spec_from_dict",
    "spec_to_dict",
]
