"""Fixed-effects X: Stata's names, order, base levels, empty cells, collinearity.

Expected matrices are written out by brute force from the raw columns, one
indicator at a time, independently of the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_helpers import c, i, spec, term

from bayesmixed.design import build_design
from bayesmixed.errors import SpecificationError, VariableError


@pytest.fixture
def df():
    # dose: 0,1,2 with 1 the most frequent; b: 1,2; x, z continuous
    dose = [0, 1, 1, 2, 0, 1, 2, 1, 1, 0, 2, 1]
    b = [1, 2, 1, 2, 2, 1, 1, 2, 1, 1, 2, 2]
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "y": rng.normal(size=12),
            "dose": dose,
            "b": b,
            "x": rng.normal(size=12),
            "z": rng.normal(size=12),
        }
    )


def design(df, *fixed, **kw):
    return build_design(spec(fixed=fixed, **kw), df)


def ind(values, level):
    return (np.asarray(values) == level).astype(float)


def test_continuous_then_constant_last(df):
    d = design(df, term("x"), term("z"))
    assert d.fixed_names == ["x", "z", "_cons"]
    np.testing.assert_array_equal(d.X, np.column_stack([df.x, df.z, np.ones(12)]))


def test_factor_base_first(df):
    d = design(df, term(i("dose")))
    assert d.fixed_names == ["1.dose", "2.dose", "_cons"]
    assert d.base_levels == ["0b.dose"]
    expected = np.column_stack([ind(df.dose, 1), ind(df.dose, 2), np.ones(12)])
    np.testing.assert_array_equal(d.X, expected)


@pytest.mark.parametrize(
    ("base", "names", "basename"),
    [
        (2, ["0.dose", "1.dose"], "2b.dose"),
        ("last", ["0.dose", "1.dose"], "2b.dose"),
        ("freq", ["0.dose", "2.dose"], "1b.dose"),
        (1, ["0.dose", "2.dose"], "1b.dose"),
    ],
)
def test_factor_base_choices(df, base, names, basename):
    d = design(df, term(i("dose", base)))
    assert d.fixed_names == [*names, "_cons"]
    assert d.base_levels == [basename]
    levels = [int(n.split(".")[0]) for n in names]
    expected = np.column_stack([ind(df.dose, lv) for lv in levels] + [np.ones(12)])
    np.testing.assert_array_equal(d.X, expected)


def test_ibn_without_constant_keeps_all_levels(df):
    d = design(df, term(i("dose", "none")), constant=False)
    assert d.fixed_names == ["0.dose", "1.dose", "2.dose"]
    assert d.base_levels == [] and d.omitted == []
    np.testing.assert_array_equal(d.X, np.column_stack([ind(df.dose, k) for k in (0, 1, 2)]))


def test_ibn_with_constant_omits_the_last_level(df):
    d = design(df, term(i("dose", "none")))
    assert d.fixed_names == ["0.dose", "1.dose", "_cons"]
    assert d.omitted == ["2.dose"]
    assert "note: 2.dose omitted because of collinearity." in d.notes


def test_factor_factor_interaction_omits_base_cells(df):
    d = design(df, term(i("dose")), term(i("b")), term(i("dose"), i("b")))
    assert d.fixed_names == ["1.dose", "2.dose", "2.b", "1.dose#2.b", "2.dose#2.b", "_cons"]
    assert d.base_levels == [
        "0b.dose",
        "1b.b",
        "0b.dose#1b.b",
        "0b.dose#2o.b",
        "1o.dose#1b.b",
        "2o.dose#1b.b",
    ]
    dose, b = df.dose.to_numpy(), df.b.to_numpy()
    expected = np.column_stack(
        [
            ind(dose, 1),
            ind(dose, 2),
            ind(b, 2),
            ind(dose, 1) * ind(b, 2),
            ind(dose, 2) * ind(b, 2),
            np.ones(12),
        ]
    )
    np.testing.assert_array_equal(d.X, expected)


def test_factor_continuous_interaction(df):
    d = design(df, term(i("dose"), c("x")))
    assert d.fixed_names == ["1.dose#c.x", "2.dose#c.x", "_cons"]
    assert d.base_levels == ["0b.dose#co.x"]
    expected = np.column_stack([ind(df.dose, 1) * df.x, ind(df.dose, 2) * df.x, np.ones(12)])
    np.testing.assert_allclose(d.X, expected)


def test_continuous_first_then_factor(df):
    d = design(df, term(c("x"), i("b")))
    assert d.fixed_names == ["c.x#2.b", "_cons"]
    np.testing.assert_allclose(d.X[:, 0], df.x * ind(df.b, 2))


def test_continuous_interactions_and_squares(df):
    d = design(df, term("x"), term(c("x"), c("z")), term(c("x"), c("x")))
    assert d.fixed_names == ["x", "c.x#c.z", "c.x#c.x", "_cons"]
    expected = np.column_stack([df.x, df.x * df.z, df.x**2, np.ones(12)])
    np.testing.assert_allclose(d.X, expected)


def test_empty_cell_is_omitted_with_stata_note():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 7], "a": [0, 0, 1, 1, 2, 2], "b": [0, 1, 0, 1, 0, 0]})
    d = build_design(spec(fixed=[term(i("a"), i("b"))]), df)
    assert d.fixed_names == ["1.a#1.b", "_cons"]
    assert d.omitted == ["2.a#1.b"]
    assert "note: 2.a#1.b identifies no observations in the sample." in d.notes


def test_levels_absent_from_sample_do_not_make_columns(df):
    d = build_design(spec(fixed=[term(i("dose"))], sample_if=_Not(df.dose == 2)), df)
    assert d.fixed_names == ["1.dose", "_cons"]


class _Not:
    def __init__(self, mask):
        self.mask = ~np.asarray(mask)

    def evaluate(self, frame):
        return self.mask


def test_stata_factor_must_be_nonnegative_integer(df):
    df["neg"] = df.dose - 1
    df["half"] = df.dose / 2
    with pytest.raises(VariableError, match="neg: factor variables may not contain negative"):
        design(df, term(i("neg")))
    with pytest.raises(VariableError, match="half: factor variables may not contain noninteger"):
        design(df, term(i("half")))


def test_stata_factor_on_text_sorts_levels_as_encode_does(df):
    """``i.grade`` on text: levels in Stata's ``encode`` order (by code point), base first."""
    df["grade"] = np.array(["Low", "Mid", "High"])[df.dose]
    d = design(df, term(i("grade")))
    assert d.fixed_names == ["Low.grade", "Mid.grade", "_cons"]
    assert d.base_levels == ["Highb.grade"]
    expected = np.column_stack([ind(df.grade, "Low"), ind(df.grade, "Mid"), np.ones(12)])
    np.testing.assert_array_equal(d.X, expected)


def test_stata_factor_on_string_dtype_and_uppercase_first(df):
    df["grade"] = pd.Series(np.array(["b", "a", "B"])[df.dose], dtype="string")
    d = design(df, term(i("grade")))
    assert d.base_levels == ["Bb.grade"]  # encode: "B" < "a" < "b"
    assert d.fixed_names == ["a.grade", "b.grade", "_cons"]


def test_stata_factor_on_text_categorical_keeps_category_order(df):
    cats = ["High", "Low", "Control", "Unused"]
    df["grade"] = pd.Categorical(np.array(["Control", "Low", "High"])[df.dose], categories=cats)
    d = design(df, term(i("grade")), term(i("grade"), c("x")))
    assert d.base_levels[0] == "Highb.grade"
    assert d.fixed_names[:2] == ["Low.grade", "Control.grade"]
    np.testing.assert_array_equal(d.X[:, 1], ind(df.dose, 0))


def test_base_level_not_in_sample(df):
    with pytest.raises(SpecificationError, match=r"ib7.dose: level 7 .*levels: 0, 1, 2"):
        design(df, term(i("dose", 7)))


def test_formula_path_names_text_levels_by_label_sorted(df):
    df["grade"] = np.array(["Low", "Mid", "High"])[df.dose]
    d = design(df, term(i("grade")), command="formula", source="y ~ grade")
    assert d.fixed_names == ["Low.grade", "Mid.grade", "_cons"]
    assert d.base_levels == ["Highb.grade"]
    expected = np.column_stack([ind(df.grade, "Low"), ind(df.grade, "Mid"), np.ones(12)])
    np.testing.assert_array_equal(d.X, expected)


def test_formula_path_categorical_uses_category_order_and_drops_unused(df):
    cats = ["Control", "Low", "High", "Unused"]
    df["grade"] = pd.Categorical(np.array(cats)[df.dose], categories=cats)
    d = design(df, term(i("grade")), term(i("grade"), c("x")), command="formula")
    assert d.fixed_names == ["Low.grade", "High.grade", "Low.grade#c.x", "High.grade#c.x", "_cons"]
    np.testing.assert_allclose(d.X[:, 3], ind(df.dose, 2) * df.x)


def test_formula_path_text_variable_without_i_is_a_factor_as_in_r(df):
    df["grade"] = np.array(["a", "b", "c"])[df.dose]
    d = design(df, term("grade"), command="formula")
    assert d.fixed_names == ["b.grade", "c.grade", "_cons"]


def test_stata_path_rejects_categorical_text_as_continuous(df):
    df["grade"] = pd.Categorical(np.array(["a", "b", "c"])[df.dose])
    with pytest.raises(VariableError, match="grade is categorical"):
        design(df, term("grade"))


def test_stata_path_accepts_categorical_of_integers_as_factor(df):
    df["dc"] = pd.Categorical(df.dose)
    d = design(df, term(i("dc")))
    assert d.fixed_names == ["1.dc", "2.dc", "_cons"]


def test_constant_variable_is_collinear_with_cons(df):
    df["k"] = 5.0
    d = design(df, term("x"), term("k"))
    assert d.fixed_names == ["x", "_cons"]
    assert d.omitted == ["k"]
    assert d.notes == ["note: k omitted because of collinearity."]


def test_later_collinear_column_is_the_one_omitted(df):
    df["w"] = 2 * df.x - 3 * df.z + 1
    d = design(df, term("x"), term("w"), term("z"))
    assert d.fixed_names == ["x", "w", "_cons"]
    assert d.omitted == ["z"]
    np.testing.assert_array_equal(d.X[:, 1], df.w)


def test_duplicate_term_is_omitted(df):
    d = design(df, term("x"), term("x"))
    assert d.fixed_names == ["x", "_cons"]
    assert d.omitted == ["x"]


def test_noconstant_keeps_constant_variable(df):
    df["k"] = 5.0
    d = design(df, term("x"), term("k"), constant=False)
    assert d.fixed_names == ["x", "k"]


def test_no_fixed_columns_at_all(df):
    d = design(df, constant=False)
    assert d.X.shape == (12, 0) and d.fixed_names == []
