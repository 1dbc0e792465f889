"""A quick Bayesian-kind result for postestimation tests: a Laplace fit with its draws."""

from __future__ import annotations

import warnings

import bayesmixed as bm


def laplace_fit(command: str, data, seed: int):
    """``command`` fitted by the Laplace mode (200 draws); its boundary notes are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # boundary-mode notes of a Laplace fit
        return bm.mixed(command, data=data, method="laplace", draws=200, seed=seed)
