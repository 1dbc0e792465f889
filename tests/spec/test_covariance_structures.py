"""Random-effect covariance structures as parameterised instances (issue 18).

Each structure is a frozen instance carrying its dimension and effect names; the
maps between theta, the relative covariance and the working vector must invert
each other for every class, and a name becomes a class in one place only.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayesmixed import BayesmixedError
from bayesmixed.errors import SpecificationError
from bayesmixed.spec.covariance import (
    STRUCTURES,
    CovStructure,
    Exchangeable,
    Identity,
    Independent,
    UnknownStructureError,
    Unstructured,
    get_structure,
    resolve_name,
)

NAMES = ("x", "z", "_cons")
CLASSES = [Independent, Identity, Exchangeable, Unstructured]


def interior_theta(structure: CovStructure, rng: np.random.Generator) -> np.ndarray:
    """A theta strictly inside the structure's bounds."""
    theta = []
    for lo, hi in structure.theta_bounds():
        lo = -0.8 if lo is None else lo
        hi = 1.5 if hi is None else hi
        theta.append(rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo)))
    return np.array(theta)


# -- construction ------------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES)
def test_instances_carry_k_and_names(cls):
    s = cls(3, NAMES)
    assert (s.k, s.names) == (3, NAMES)
    assert s.n_theta == len(s.theta_bounds()) == len(s.theta_start())
    assert s.lam(s.theta_start()).shape == (3, 3)


def test_names_default_to_positions_and_numpy_k_is_accepted():
    s = Unstructured(np.int64(2))
    assert s.k == 2 and type(s.k) is int
    assert s.names == ("0", "1")


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "2"])
def test_a_bad_dimension_is_a_specification_error(k):
    with pytest.raises(SpecificationError, match="k"):
        Independent(k)


def test_names_must_match_the_dimension():
    with pytest.raises(SpecificationError, match="2 names"):
        Unstructured(3, ("x", "_cons"))


def test_instances_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Unstructured(2).k = 3


# -- equality and hashing ----------------------------------------------------------


def test_equal_parameters_make_equal_hashable_instances():
    a, b = Unstructured(2, ("x", "_cons")), Unstructured(2, ("x", "_cons"))
    assert a == b and hash(a) == hash(b)
    assert len({a, b, Independent(2, ("x", "_cons"))}) == 2


@pytest.mark.parametrize(
    "other",
    [Independent(2, ("x", "_cons")), Unstructured(3), Unstructured(2, ("z", "_cons"))],
)
def test_class_dimension_and_names_all_count_in_equality(other):
    assert Unstructured(2, ("x", "_cons")) != other


# -- names -> classes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "cls"),
    [
        ("ind", Independent),
        ("independent", Independent),
        ("id", Identity),
        ("ex", Exchangeable),
        ("EXCH", Exchangeable),
        ("un", Unstructured),
        ("uns", Unstructured),
    ],
)
def test_get_structure_expands_stata_abbreviations(word, cls):
    s = get_structure(word, 2, ("x", "_cons"))
    assert type(s) is cls and s == cls(2, ("x", "_cons"))


@pytest.mark.parametrize("word", ["in", "i", "e", "u", "banded", "", "identityx"])
def test_unknown_names_raise_a_user_error_listing_the_structures(word):
    with pytest.raises(UnknownStructureError) as info:
        get_structure(word, 2)
    assert isinstance(info.value, SpecificationError)
    assert isinstance(info.value, BayesmixedError)
    assert "independent, identity, exchangeable or unstructured" in str(info.value)


def test_the_registry_is_keyed_by_each_class_stata_name():
    assert list(STRUCTURES) == ["independent", "identity", "exchangeable", "unstructured"]
    for name, cls in STRUCTURES.items():
        assert cls.name == name and resolve_name(name) == name
        assert cls.label == name.capitalize()


@pytest.mark.parametrize("cls", CLASSES)
def test_a_structure_is_rebuilt_from_its_saved_name(cls):
    s = cls(3, NAMES)
    assert get_structure(s.name, s.k, s.names) == s


def test_exchangeable_with_one_effect_is_identity():
    assert get_structure("exchangeable", 1, ("_cons",)) == Identity(1, ("_cons",))
    assert get_structure("independent", 1, ("_cons",)) == Independent(1, ("_cons",))


def test_exchangeable_rho_bounds_keep_the_matrix_positive_semidefinite():
    assert Exchangeable(3).rho_bounds == (-0.5, 1.0)
    lo, _ = Exchangeable(4).rho_bounds
    assert np.linalg.eigvalsh(Exchangeable(4).lam([1.0, lo]) ** 2).min() >= -1e-12


# -- theta <-> lambda <-> working round trips --------------------------------------


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_theta_survives_the_trip_through_the_relative_covariance(cls, k):
    rng = np.random.default_rng(k)
    s = cls(k)
    for _ in range(5):
        theta = interior_theta(s, rng)
        rel = s.rel_cov(theta)
        assert np.allclose(rel, s.lam(theta) @ s.lam(theta).T)
        back = s.theta_from_cov(rel)
        assert np.allclose(s.rel_cov(back), rel, rtol=1e-10, atol=1e-12)
        if not (cls is Exchangeable and k == 1):  # rho does not exist with one effect
            assert np.allclose(back, theta, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("k", [2, 3])
def test_working_vector_survives_the_trip_through_the_covariance(cls, k):
    rng = np.random.default_rng(10 + k)
    s = cls(k)
    for _ in range(5):
        w = rng.normal(scale=0.4, size=s.n_theta)
        cov = s.cov_from_working(w)
        assert np.allclose(s.working_from_cov(cov), w, rtol=1e-9, atol=1e-10)
        theta = s.theta_from_working(w)
        assert np.allclose(s.rel_cov(theta), cov, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", CLASSES)
def test_the_start_is_the_identity_matrix(cls):
    s = cls(3)
    assert np.array_equal(s.rel_cov(s.theta_start()), np.eye(3))


# -- printed entries and boundary notes use the instance's names -------------------


@pytest.mark.parametrize(
    ("cls", "labels"),
    [
        (Independent, ["var(x)", "var(_cons)"]),
        (Identity, ["var(x _cons)"]),
        (Exchangeable, ["var(x _cons)", "cov(x _cons)"]),
        (Unstructured, ["var(x)", "var(_cons)", "cov(x,_cons)"]),
    ],
)
def test_entries_are_labelled_with_the_effect_names(cls, labels):
    assert [e.label for e in cls(2, ("x", "_cons")).entries()] == labels


def test_boundary_notes_name_the_effects():
    names = ("x", "_cons")
    assert Independent(2, names).boundary(np.array([0.0, 1.0])) == ["var(x) is zero"]
    assert Identity(2, names).boundary(np.array([0.0])) == ["var(x _cons) is zero"]
    assert Unstructured(2, names).boundary(np.array([1.0, 1.0, 0.0])) == ["corr(x,_cons) is +1"]
    assert Unstructured(2, names).boundary(np.array([1.0, 0.2, 0.9])) == []
