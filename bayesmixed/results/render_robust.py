"""What robust standard errors change in Stata's ``mixed`` and ``me*`` output.

After ``vce(robust)``, ``vce(cluster var)`` or sampling weights Stata's tables
differ from the model-based ones in four places, kept together here so both
renderers do the same:

* the criterion is a "Log pseudolikelihood";
* a line ``(Std. err. adjusted for 48 clusters in school)`` stands above the
  coefficient table, right-aligned to its width;
* ``Robust`` is printed over the ``Std. err.`` heading of both tables;
* the LR test against the model without random effects is not printed (the
  likelihood-ratio statistic has no robust reading; the header's Wald test,
  computed with the robust covariance, is the test Stata reports).
"""

from __future__ import annotations


def is_robust(result: object) -> bool:
    return getattr(result, "vce", "oim") != "oim"


def pseudo(label: str, result: object) -> str:
    """``Log likelihood`` -> ``Log pseudolikelihood`` for a robust fit."""
    return "Log pseudolikelihood" if is_robust(result) else label


def adjusted_lines(result: object, width: int) -> list[str]:
    """Stata's ``(Std. err. adjusted for N clusters in var)``, or nothing."""
    if not is_robust(result) or result.n_clusters is None:
        return []
    text = f"(Std. err. adjusted for {result.n_clusters:,} clusters in {result.cluster_var})"
    return [f"{text:>{width}}"]


def robust_heading(result: object, stub: int, column: int) -> list[str]:
    """``             |               Robust`` over the Std. err. column (end at ``column``)."""
    if not is_robust(result):
        return []
    return [f"{'':>{stub}} |{'Robust':>{column}}"]
