"""`bayesmixed run` and `bayesmixed workshop` give a bayes: model the same chains (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest

from bayesmixed import cli
from bayesmixed.dofile import model_cmds
from bayesmixed.dofile.session import Session


@pytest.fixture
def captured(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(model_cmds.api, "stata", lambda text, frame, **kw: calls.append(kw))
    return calls


@pytest.mark.parametrize(
    ("text", "chains", "default", "want"),
    [
        ("bayes: mixed y x || g:", None, 2, 2),  # the CLI's default
        ("bayes, nchains(3): mixed y x || g:", None, 2, None),  # the do-file's own choice
        ("bayes, nchains(3): mixed y x || g:", 5, 2, 5),  # --chains overrides both
        ("mixed y x || g:", None, 2, None),  # not Bayesian
        ("bayes: mixed y x || g:", None, None, None),  # Python's run_do: the engine's 4
    ],
)
def test_chains_follow_flag_then_nchains_then_default(captured, text, chains, default, want):
    session = Session(chains=chains, default_chains=default)
    model_cmds.fit_command(text, pd.DataFrame(), session)
    assert captured[-1].get("chains") == want


def test_run_and_workshop_pass_the_same_default(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "run_dofile", lambda *a, **kw: seen.append(a[3]) or 0)
    cli.main(["run", "x.do"])
    cli.main(["workshop", "--out", "r"])
    assert seen == [None, None]  # no --chains: both fall to DEFAULT_CHAINS inside run_dofile
    assert cli.DEFAULT_CHAINS == 2
