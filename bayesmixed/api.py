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
from .results.display import attach_display
from .results.glmm import GLMMResult
from .results.mixed import MixedResult
from .spec.family import get_family
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
    is imported only then so frequentist fits never pay for PyMC.  Engines
    read only ``spec.estimation``; the spec's display settings (``level()``,
    ``or``, ``stddeviations``...) are attached to the result here.
    """
    return attach_display(_estimate(spec, data, method, **bayes), spec.display)


def _estimate(
    spec: ModelSpec, data: pd.DataFrame, method: str | None = None, **bayes: object
) -> Result:
    """The engine's result for ``spec``, before display settings are attached."""
    method, bayes = split_keywords(method, bayes)
    if spec.estimation.bayes and method == "ml":
        raise SpecificationError("the command has the bayes: prefix but method='ml' was asked")
    design = build_design(spec, data)
    # the engine follows from the model, not the command's name: random effects that
    # integrate out in closed form (Gaussian, identity link) go to the exact engine
    closed_form = get_family(spec.family, spec.link).closed_form
    est = spec.estimation
    if (est.bayes or method in ("nuts", "laplace")) and (est.robust or est.weighted):
        raise NotSupportedError(
            "the Bayesian engine does not take vce() or weights; fit by ML (without bayes:)"
        )
    if spec.estimation.bayes or method in ("nuts", "laplace"):
        from .fitting import fit_bayes

        options = {**from_prefix(spec.estimation.prefix_options), **bayes}
        if not closed_form:
            from .engines.glmm import glm_extras

            options.update(glm_extras(design, data))  # offset/exposure and binomial trials
        return fit_bayes(design, method=method or "nuts", **options)
    if closed_form:
        from .fitting import fit_lmm

        return fit_lmm(design, reml=spec.reml)
    if spec.residual.type != "independent" or spec.residual.by:
        raise NotSupportedError(f"{spec.command} does not take residuals(): only mixed does")
    if est.level_fweighted:
        raise NotSupportedError(f"{spec.command} does not take fweight() yet: only mixed does")
    from .engines.glmm import glm_extras
    from .fitting import fit_glmm

    return fit_glmm(
        design,
        intmethod=spec.estimation.intmethod,
        intpoints=spec.estimation.intpoints,
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
    ``priors``, ``marginalize`` go to it (``sampler="auto"``, the default: nutpie on the
    NumPy log density where it covers the model, otherwise PyMC's NUTS).
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
    if spec.command != "mixed" or not get_family(spec.family, spec.link).closed_form:
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


def lrtest(
    a: Result,
    b: Result,
    names: tuple[str, str] = ("A", "B"),
    *,
    bootstrap: int | None = None,
    seed: int | None = None,
    **dask_options: object,
):
    """Stata's ``lrtest`` of two nested fits (:mod:`bayesmixed.postestimation.lrtest`).

    ``bootstrap=n`` also simulates ``n`` responses under the null model and refits both
    models (parametric bootstrap, as pbkrtest and MixedModels.jl do): a p-value where
    the chi2 reference distribution is wrong (a variance tested on its boundary);
    ``seed`` and ``dask_options`` (``client=``, ``workers=``...) go to it.  The
    bootstrap lives in :mod:`bayesmixed.resampling`, which builds on the asymptotic
    test; dispatching here keeps postestimation from importing resampling.
    """
    if bootstrap:
        from .resampling import bootstrap_lrtest  # Dask: imported only when asked for

        return bootstrap_lrtest(a, b, n=bootstrap, seed=seed, **dask_options)
    from .postestimation.lrtest import lrtest as asymptotic

    return asymptotic(a, b, names)
