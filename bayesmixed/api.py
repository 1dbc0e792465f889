"""The top-level calls: a short composition of the pipeline's stages.

``stata`` takes a whole command line, ``mixed`` the part after the word
``mixed``, ``fit`` an lme4-style formula; all three reach the same
ModelSpec -> Design -> engine -> result path, so the same model gives the
same numbers whichever syntax the user prefers.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .bayes_options import from_prefix, split_keywords
from .design import build_design
from .errors import BayesmixedError, NotSupportedError, SpecificationError
from .results.bayes import BayesResult
from .results.glmm import GLMMResult
from .results.mixed import MixedResult
from .spec.model import ModelSpec
from .syntax import formula_to_spec, stata_to_spec

Result = MixedResult | GLMMResult | BayesResult


def _check_frame(data: object) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise BayesmixedError(
            f"data must be a pandas DataFrame (got {type(data).__name__}); "
            "load one with bayesmixed.datasets.load(name_or_path)"
        )
    if data.columns.duplicated().any():
        dup = sorted(set(data.columns[data.columns.duplicated()]))
        raise BayesmixedError(f"data has duplicated column names: {', '.join(map(str, dup))}")
    return data


def fit_spec(
    spec: ModelSpec, data: pd.DataFrame, method: str | None = None, **bayes: object
) -> Result:
    """Fit a resolved specification.

    ``mixed`` -> exact ML/REML; ``me*`` -> Laplace/adaptive quadrature; the
    ``bayes:`` prefix or ``method="nuts"|"laplace"`` -> the PyMC engine, which
    is imported only then so frequentist fits never pay for PyMC.
    """
    method, bayes = split_keywords(method, bayes)
    if spec.options.get("bayes") and method == "ml":
        raise SpecificationError("the command has the bayes: prefix but method='ml' was asked")
    design = build_design(spec, data)
    if spec.options.get("bayes") or method in ("nuts", "laplace"):
        from .engines.bayes import fit_bayes

        options = {**from_prefix(spec.options.get("bayes_options", {})), **bayes}
        if spec.family != "gaussian":
            from .engines.glmm import glm_extras

            options.update(glm_extras(design, data))  # offset/exposure and binomial trials
        return fit_bayes(design, method=method or "nuts", **options)
    if spec.command == "mixed" and spec.family == "gaussian":
        from .engines.ml.fit import fit_lmm

        return fit_lmm(design, reml=spec.reml)
    if spec.residual.type != "independent" or spec.residual.by:
        raise NotSupportedError(f"{spec.command} does not take residuals(): only mixed does")
    from .engines.glmm import fit_glmm, glm_extras

    return fit_glmm(
        design,
        intmethod=spec.options.get("intmethod"),
        intpoints=spec.options.get("intpoints", 7),
        **glm_extras(design, data),
    )


def stata(
    command: str,
    data: pd.DataFrame,
    *,
    method: str | None = None,
    reml: bool | None = None,
    **bayes: object,
) -> Result:
    """Fit a whole Stata command line, e.g. ``"mixed math5 math3 || school:, reml"``.

    ``reml=True`` means the same as Stata's ``, reml`` option (so the one keyword
    set works for ``stata``, ``mixed`` and ``fit``); ``reml=False`` asks for ML and
    is refused when the command itself says ``reml``.  ``"bayes: mixed ..."`` (or
    ``method="nuts"``/``"laplace"``) fits the same model by the Bayesian engine;
    ``draws``, ``tune``, ``chains``, ``seed``, ``target_accept``, ``sampler``,
    ``priors``, ``marginalize`` go to it.
    """
    data = _check_frame(data)
    spec = _with_reml(stata_to_spec(command, data), reml)
    return fit_spec(spec, data, method, **bayes)


def _with_reml(spec: ModelSpec, reml: bool | None) -> ModelSpec:
    """Apply the ``reml=`` keyword to a spec parsed from Stata syntax."""
    if reml is None:
        return spec
    if not isinstance(reml, bool):
        raise SpecificationError(f"reml must be True or False (got {reml!r})")
    if reml == spec.reml:
        return spec
    if not reml:
        raise SpecificationError("the command has the reml option but reml=False was passed")
    if spec.command != "mixed" or spec.family != "gaussian":
        raise SpecificationError(
            f"reml=True applies to linear mixed models (mixed) only, not to {spec.command}"
        )
    return replace(spec, reml=True)


def mixed(
    command: str,
    data: pd.DataFrame,
    *,
    method: str | None = None,
    reml: bool | None = None,
    **bayes: object,
) -> Result:
    """Fit Stata's ``mixed`` given what follows the command name.

    ``bayesmixed.mixed("math5 math3 || school: math3, cov(unstructured)", data=df)``;
    ``reml=True`` is the same as appending ``, reml``.
    """
    text = command.strip()
    head = text.split(None, 1)[0] if text else ""
    if head not in ("mixed", "xtmixed") and not text.startswith("bayes"):
        text = "mixed " + text
    return stata(text, data, method=method, reml=reml, **bayes)


def fit(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = False,
    family: str = "gaussian",
    link: str | None = None,
    method: str | None = None,
    **bayes: object,
) -> Result:
    """Fit an lme4-style formula, e.g. ``"math5 ~ math3 + (math3 | school)"``.

    Unlike lme4, ML is the default (``reml=False``), as in Stata's ``mixed``.
    """
    data = _check_frame(data)
    spec = formula_to_spec(formula, data, reml=reml, family=family, link=link)
    return fit_spec(spec, data, method, **bayes)
