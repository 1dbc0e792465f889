"""The benchmark's models, written once for both sides.

Each model carries the Stata command we fit (``bayesmixed.stata``), the lme4 formula we fit
(``bayesmixed.fit``) and the formula R's ``lmer`` fits.  The list is handed to
``lme4_bench.R`` as JSON so that R and Python can never disagree about what was timed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

PROD_X = "gsp private emp hwy water other unemp"
PROD_F = "gsp ~ private + emp + hwy + water + other + unemp"
LARGE_F = "y ~ service + lectage + (1 | s) + (1 | d) + (1 | dept)"
LARGE_STATA = "mixed y service lectage || _all: R.s || dept: || d:"


@dataclass(frozen=True)
class BenchModel:
    """One timed fit.

    ``prefer`` names the bayesmixed entry point tried first (``"stata"`` or ``"fit"``); the
    other is the fallback.  ``factors`` are the columns R must turn into factors (grouping
    variables and factor covariates); ``large`` fits run in a process of their own so that
    their peak memory can be measured.
    """

    name: str
    dataset: str
    stata: str
    formula: str
    r_formula: str
    reml: bool
    factors: tuple[str, ...]
    prefer: str = "stata"
    large: bool = False


def _jsp(name: str, re_stata: str, re_r: str, reml: bool) -> BenchModel:
    opts = (" reml" if "," in re_stata else ", reml") if reml else ""
    return BenchModel(
        name=name,
        dataset="jsp2",
        stata=f"mixed math5 math3 || school:{re_stata}{opts}",
        formula=f"math5 ~ math3 + {re_r}",
        r_formula=f"math5 ~ math3 + {re_r}",
        reml=reml,
        factors=("school",),
    )


WORKSHOP: tuple[BenchModel, ...] = (
    _jsp("jsp2 ri ML", "", "(1 | school)", False),
    _jsp("jsp2 ri REML", "", "(1 | school)", True),
    _jsp("jsp2 slope indep ML", " math3", "(math3 || school)", False),
    _jsp("jsp2 slope uns ML", " math3, cov(uns)", "(math3 | school)", False),
    _jsp("jsp2 slope uns REML", " math3, cov(uns)", "(math3 | school)", True),
    BenchModel(
        name="productivity nested ML",
        dataset="productivity",
        stata=f"mixed {PROD_X} || region: || state:",
        formula=f"{PROD_F} + (1 | region/state)",
        r_formula=f"{PROD_F} + (1 | region/state)",
        reml=False,
        factors=("region", "state"),
    ),
    BenchModel(
        name="productivity crossed ML",
        dataset="productivity",
        stata=f"mixed {PROD_X} || _all: R.year || region: || state:",
        formula=f"{PROD_F} + (1 | year) + (1 | region/state)",
        r_formula=f"{PROD_F} + (1 | year) + (1 | region/state)",
        reml=False,
        factors=("region", "state", "year"),
    ),
    BenchModel(
        name="grunfeld ri ML",
        dataset="grunfeld",
        stata="mixed invest mvalue cstock || company:",
        formula="invest ~ mvalue + cstock + (1 | company)",
        r_formula="invest ~ mvalue + cstock + (1 | company)",
        reml=False,
        factors=("company",),
    ),
    BenchModel(
        name="grunfeld crossed ML",
        dataset="grunfeld",
        stata="mixed invest mvalue cstock || _all: R.company || year:",
        formula="invest ~ mvalue + cstock + (1 | company) + (1 | year)",
        r_formula="invest ~ mvalue + cstock + (1 | company) + (1 | year)",
        reml=False,
        factors=("company", "year"),
    ),
    BenchModel(
        name="rats ri ML",
        dataset="rats",
        stata="mixed weight i.dose size female || litter:",
        formula="weight ~ C(dose) + size + female + (1 | litter)",
        r_formula="weight ~ factor(dose) + size + female + (1 | litter)",
        reml=False,
        factors=("litter",),
    ),
)

LARGE: tuple[BenchModel, ...] = tuple(
    BenchModel(
        name=f"crossed large {'REML' if reml else 'ML'}",
        dataset="crossed",
        stata=LARGE_STATA + (", reml" if reml else ""),
        formula=LARGE_F,
        r_formula=LARGE_F,
        reml=reml,
        factors=("s", "d", "dept"),
        prefer="fit",
        large=True,
    )
    for reml in (False, True)
)

MODELS: tuple[BenchModel, ...] = WORKSHOP + LARGE


def by_name(names: list[str]) -> list[BenchModel]:
    """The models called ``names``, in the order given; unknown names are an error."""
    table = {m.name: m for m in MODELS}
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"unknown benchmark model(s): {unknown}; known: {list(table)}")
    return [table[n] for n in names]


def write_json(models: list[BenchModel], path: Path) -> None:
    """Write ``models`` for ``lme4_bench.R`` (tuples become JSON arrays)."""
    path.write_text(json.dumps([asdict(m) for m in models], indent=1))
