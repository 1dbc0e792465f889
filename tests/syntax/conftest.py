"""A small frame holding every variable the syntax tests name."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 24
    cols = {
        "math5": rng.normal(size=n),
        "math3": rng.normal(size=n),
        "school": rng.integers(1, 5, n),
        "gsp": rng.normal(size=n),
        "private": rng.normal(size=n),
        "emp": rng.normal(size=n),
        "hwy": rng.normal(size=n),
        "water": rng.normal(size=n),
        "other": rng.normal(size=n),
        "unemp": rng.normal(size=n),
        "year": np.arange(n) % 12 + 1970,
        "region": rng.integers(1, 5, n),
        "state": rng.integers(1, 9, n),
        "weight": rng.normal(size=n),
        "dose": np.arange(n) % 3,
        "size": rng.normal(size=n),
        "female": rng.integers(0, 2, n).astype(bool),
        "litter": rng.integers(1, 6, n),
        "c_use": rng.integers(0, 2, n),
        "age": rng.normal(size=n),
        "urban": rng.integers(0, 2, n),
        "child1": rng.integers(0, 2, n),
        "child2": rng.integers(0, 2, n),
        "child3": rng.integers(0, 2, n),
        "district": rng.integers(1, 7, n),
        "y": rng.normal(size=n),
        "x": rng.normal(size=n),
        "z": rng.normal(size=n),
        "g": np.arange(n) % 3 + 1,
        "id": np.arange(n) // 4,
        "label": np.array(["a", "b", "c"] * 8, dtype=object),
        "time": np.arange(n) % 4,
    }
    return pd.DataFrame(cols)
