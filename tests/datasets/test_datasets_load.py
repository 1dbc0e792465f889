"""The bundled workshop datasets and loading a user's own files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmixed.datasets import list_datasets, load
from bayesmixed.errors import BayesmixedError, DataError

# name -> (rows, columns in order, {grouping variable: number of groups})
FACTS = {
    "jsp2": (
        887,
        ["school", "class", "id", "gender", "social", "raven", "math3", "math4", "math5"],
        {"school": 48, "id": 887},
    ),
    "productivity": (
        816,
        ["state", "region", "year", "public", "hwy", "water", "other", "private", "gsp", "emp"]
        + ["unemp"],
        {"state": 48, "region": 9, "year": 17},
    ),
    "grunfeld": (
        200,
        ["company", "year", "invest", "mvalue", "cstock"],
        {"company": 10, "year": 20},
    ),
    "rats": (322, ["litter", "weight", "female", "dose", "size"], {"litter": 27}),
    "bangladesh": (
        1934,
        ["district", "c_use", "urban", "age", "child1", "child2", "child3"],
        {"district": 60},
    ),
}
INTEGER_CODED = {
    "jsp2": ["school", "class", "id", "gender", "social", "raven", "math3", "math4", "math5"],
    "productivity": ["state", "region", "year"],
    "grunfeld": ["company", "year"],
    "rats": ["litter", "female", "dose", "size"],
    "bangladesh": ["district", "c_use", "urban", "child1", "child2", "child3"],
}


def test_list_datasets_names_the_five_sets():
    assert list_datasets() == ["jsp2", "productivity", "grunfeld", "rats", "bangladesh"]


@pytest.mark.parametrize("name", list(FACTS))
def test_bundled_shape_columns_and_groups(name):
    rows, columns, groups = FACTS[name]
    frame = load(name)
    assert frame.shape == (rows, len(columns))
    assert list(frame.columns) == columns
    assert not frame.isna().any().any()
    for col, n in groups.items():
        assert frame[col].nunique() == n, col


@pytest.mark.parametrize("name", list(FACTS))
def test_categorical_variables_are_integer_codes(name):
    frame = load(name)
    for col in INTEGER_CODED[name]:
        assert frame[col].dtype == np.int64, col
    for col in set(frame.columns) - set(INTEGER_CODED[name]):
        assert frame[col].dtype == np.float64, col


def test_jsp2_is_one_row_per_pupil_with_class_nested_in_school():
    jsp = load("jsp2")
    assert jsp["id"].is_unique
    assert set(jsp["gender"]) == {0, 1}
    assert jsp.groupby("id")["school"].nunique().max() == 1
    assert jsp[["math3", "math4", "math5"]].min().min() >= 0
    assert jsp[["math3", "math4", "math5"]].max().max() <= 40


def test_productivity_is_a_balanced_panel_of_logs():
    prod = load("productivity")
    assert (prod.groupby("state").size() == 17).all()
    assert prod.groupby("state")["region"].nunique().max() == 1
    assert prod["year"].min() == 1970 and prod["year"].max() == 1986
    # gsp is ln(gross state product in $m): every state is between e^7 and e^14 $m
    assert prod["gsp"].between(7, 14).all()


def test_grunfeld_is_ten_firms_by_twenty_years():
    grun = load("grunfeld")
    assert (grun.groupby("company").size() == 20).all()
    assert grun["year"].min() == 1935 and grun["year"].max() == 1954


def test_rats_codes_match_provenance():
    rats = load("rats")
    assert set(rats["female"]) == {0, 1}
    assert rats["dose"].value_counts().to_dict() == {0: 131, 1: 126, 2: 65}
    assert rats["female"].sum() == 151
    assert rats.groupby("litter")[["dose", "size"]].nunique().max().max() == 1


def test_bangladesh_children_dummies_are_exclusive():
    bang = load("bangladesh")
    dummies = bang[["child1", "child2", "child3"]]
    assert dummies.isin([0, 1]).all().all()
    assert (dummies.sum(axis=1) <= 1).all()
    assert dummies.sum().to_dict() == {"child1": 356, "child2": 305, "child3": 743}
    assert bang["c_use"].sum() == 759 and bang["urban"].sum() == 562
    assert abs(bang["age"].mean()) < 0.01  # age is already centred


def test_load_returns_a_fresh_copy():
    first = load("rats")
    first.loc[0, "weight"] = -1.0
    assert load("rats").loc[0, "weight"] != -1.0


def test_load_csv_path(tmp_path):
    frame = pd.DataFrame({"y": [1.5, 2.5], "g": [1, 2]})
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    pd.testing.assert_frame_equal(load(path), frame)
    pd.testing.assert_frame_equal(load(str(path)), frame)


def test_load_dta_keeps_integer_codes_of_value_labels(tmp_path):
    frame = pd.DataFrame({"weight": [6.6, 7.4, 5.1], "dose": np.array([0, 1, 2], dtype=np.int8)})
    path = tmp_path / "rats.dta"
    frame.to_stata(
        path, write_index=False, value_labels={"dose": {0: "Control", 1: "Low", 2: "High"}}
    )
    loaded = load(path)
    assert list(loaded["dose"]) == [0, 1, 2]
    assert np.allclose(loaded["weight"], frame["weight"])


def test_bundled_name_wins_over_a_local_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("rats").write_text("not,the,rats\n")
    assert load("rats").shape == (322, 5)


@pytest.mark.parametrize("bad", ["jsp", "JSP2", "", "rats.xlsx", 3])
def test_unknown_name_raises_data_error_listing_names(bad):
    with pytest.raises(DataError) as info:
        load(bad)
    assert "jsp2, productivity, grunfeld, rats, bangladesh" in str(info.value)


def test_missing_file_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load(tmp_path / "absent.dta")


def test_unreadable_dta_raises_data_error(tmp_path):
    path = tmp_path / "broken.dta"
    path.write_bytes(b"this is not a Stata file")
    with pytest.raises(BayesmixedError, match="cannot read"):
        load(path)


@pytest.mark.slow
def test_a_built_wheel_carries_the_canonical_files(tmp_path):
    """A regular (non-editable) install must ship real copies of data/*.csv."""
    import shutil
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parents[2]
    src = tmp_path / "src"
    src.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for item in ("bayesmixed", "data"):
        shutil.copytree(root / item, src / item, symlinks=True, ignore=skip)
    for item in ("pyproject.toml", "README.md"):
        if (root / item).exists():
            shutil.copy(root / item, src / item)
    wheels = tmp_path / "wheels"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*cmd, "-w", str(wheels), str(src)], check=True, capture_output=True)
    (wheel,) = wheels.glob("bayesmixed-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in list_datasets():
            shipped = archive.read(f"bayesmixed/datasets/files/{name}.csv")
            assert shipped == (root / "data" / f"{name}.csv").read_bytes(), name
        assert "bayesmixed/datasets/files/PROVENANCE.md" in archive.namelist()
