"""Checks that a decoded result is one that save() could have written.

Why: the checksums catch damage, not edits (anyone can recompute them), so a
loaded file is only trusted after its fields are checked against what the
result classes declare.  Two layers:

* every field against its dataclass type hint (``float``, ``list[str]``,
  ``np.ndarray | None``...), and the arrays' dtypes and shapes against the
  design (``beta`` has one entry per fixed effect, each ``cov_blocks`` entry is
  k x k for its block, ``working`` has one entry per covariance parameter);
* then the result is rendered once, as ``str(result)`` will be.  Rendering
  reads nearly every field together, so an inconsistency the first layer
  missed surfaces here, at load, as a :class:`ResultFileError` -- not later,
  when the user prints the result.
"""

from __future__ import annotations

import types
import typing
import warnings
from dataclasses import fields

import numpy as np
import pandas as pd

from ..design.types import Design
from ..engines.optsummary import OptSummary
from ..results.base import ResultKind, kind_of
from .errors import ResultFileError


def check_fields(cls: type, values: dict) -> None:
    """Refuse a value whose type does not match the field's annotation."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.name in values and not conforms(values[f.name], hints[f.name]):
            raise ResultFileError(
                f"the saved field '{f.name}' has the wrong type "
                f"({type(values[f.name]).__name__}, expected {_name(hints[f.name])})"
            )


def conforms(value: object, hint: object) -> bool:
    """Whether ``value`` is an instance of the annotation ``hint`` (generics included)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, a) for a in args)
    if hint is typing.Any:
        return True
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return type(value) is int
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items()
        )
    if origin is tuple:
        return isinstance(value, tuple)
    return isinstance(value, origin or hint)


def _name(hint: object) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def check_shapes(result: object) -> None:
    """The arrays of a likelihood result agree with its design (Bayes: see render)."""
    kind = kind_of(result)
    if kind is None or not kind.likelihood or not isinstance(result.design, Design):
        return
    design = result.design
    p, blocks = design.p, design.blocks
    _array(result.beta, (p,), "beta")
    _array(result.vcov_beta, (p, p), "vcov_beta")
    n_theta = sum(b.structure.n_theta for b in blocks)
    _array(result.theta, (n_theta,), "theta")
    if len(result.cov_blocks) != len(blocks):
        raise ResultFileError("the saved result does not have one covariance matrix per block")
    for cov, b in zip(result.cov_blocks, blocks, strict=True):
        _array(cov, (b.k, b.k), f"covariance of '{b.key}'")
    w = _vector(result.working, "working")
    if result.working_vcov is not None:
        _array(result.working_vcov, (w, w), "working_vcov")
    if getattr(result, "vcov_joint", None) is not None:  # GLMM: (beta, working) together
        _array(result.vcov_joint, (p + w, p + w), "vcov_joint")
    _check_opt(result.opt)
    if kind is ResultKind.MIXED:
        check_series(result.residual_params, "residual parameters")
    if not 0 < result.level < 100:
        raise ResultFileError(f"the saved confidence level {result.level} is not a percentage")
    modes = result.modes if kind is ResultKind.GLMM else []
    if modes and len(modes) != len(blocks):
        raise ResultFileError("the saved result does not have one set of modes per block")
    for m, b in zip(modes, blocks, strict=False):
        _array(m, (b.n_groups, b.k), f"modes of '{b.key}'")


def _check_opt(opt: object) -> None:
    check_fields(OptSummary, vars(opt))
    for name in ("theta_start", "theta_end"):
        _vector(getattr(opt, name), f"opt.{name}")


def _vector(arr: object, what: str) -> int:
    """Check ``arr`` is a 1-d float array; return its length."""
    n = len(arr) if isinstance(arr, np.ndarray) and arr.ndim == 1 else -1
    _array(arr, (n,), what)
    return n


def _array(arr: object, shape: tuple[int, ...], what: str) -> None:
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f" or arr.shape != shape:
        found = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise ResultFileError(f"the saved {what} should be a float array {shape}, found {found}")


def check_renders(result: object) -> None:
    """Render ``result`` once, as ``str(result)`` will, and refuse it if that fails.

    The deliberately broad ``except``: rendering is the whole package's
    reporting code, and any exception it raises on a result the first layer
    accepted means the file describes an impossible fit.
    """
    try:
        with warnings.catch_warnings():  # convergence warnings belong to the user's print
            warnings.simplefilter("ignore")
            text = str(result)
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise ResultFileError(
            f"the saved result is inconsistent and cannot be displayed ({exc!r})"[:300]
        ) from exc
    if not isinstance(text, str):
        raise ResultFileError("the saved result cannot be displayed")


def check_series(value: object, what: str) -> None:
    """A float Series with a unique, string-labelled index (``residual_params``)."""
    if value is None:
        return
    ok = isinstance(value, pd.Series) and value.dtype.kind == "f"
    if not ok or not all(isinstance(k, str) for k in value.index):
        raise ResultFileError(f"the saved {what} is malformed")
