"""Saved results in open formats: ``result.save(path)`` and ``bayesmixed.load(path)``.

A saved result is a zip of ``manifest.json`` (SHA-256 of every member),
``result.json`` (estimates, the model specification, the design's data
signature), NumPy ``.npy`` arrays (read with ``allow_pickle=False``) and, for a
Bayesian fit, one netCDF file per ArviZ group.  No pickle anywhere, so loading
a file never executes code; a truncated or modified file raises
:class:`ResultFileError`.
"""

from .archive import ResultFileError
from .design_json import data_signature
from .results_io import load, save
from .spec_json import parse_if_text, spec_from_dict, spec_to_dict

__all__ = [
    "ResultFileError",
    "data_signature",
    "load",
    "parse_if_text",
    "save",
    "spec_from_dict",
    "spec_to_dict",
]
