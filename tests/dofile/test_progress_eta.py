"""Progress lines of a do-file run: one per bayes: model with the time left, and the
report writer's steps."""

from __future__ import annotations

from types import SimpleNamespace

import bayesmixed.dofile.runner as runner
from bayesmixed.dofile.runner import BayesProgress, count_bayes
from bayesmixed.dofile.session import Estimate, ModelEntry
from bayesmixed.report import write_report


def test_each_bayes_model_gets_a_line_with_the_time_left(monkeypatch):
    clock = iter([0.0, 1.0, 61.0, 62.0, 100.0, 130.0])
    monkeypatch.setattr(runner.time, "perf_counter", lambda: next(clock))
    lines: list[str] = []
    track = BayesProgress(lines.append, total=3)
    track("w.do:1: mixed y x || g:")  # t = 0
    track("w.do:2: bayes: mixed y x || g:")  # t = 1
    track("w.do:3: quietly bayes, rseed(1): mixed y x || g:")  # t = 61: first took 60 s
    track("w.do:4: estimates store b")  # t = 62: second took 1 s
    track("w.do:5: bayes: mixed y x || h:")  # t = 100
    track.finish()  # t = 130
    status = [line for line in lines if line.startswith("  bayes:")]
    assert status[0] == "  bayes: model 1 of 3; time left estimated after the first model"
    assert status[1] == (
        "  bayes: model 2 of 3; 1 done in 60 s, about 2 min left for the Bayesian models"
    )
    assert status[2] == (
        "  bayes: model 3 of 3; 2 done in 61 s, about 30 s left for the Bayesian models"
    )
    assert track.durations == [60.0, 1.0, 30.0]
    assert len(lines) == 5 + 3  # every command's own line is still passed on


def test_bayes_models_are_counted_behind_prefixes(tmp_path):
    do = tmp_path / "m.do"
    do.write_text(
        "use jsp2\nmixed y x || g:\nbayes: mixed y x || g:\ncapture noisily bayes: mixed y\n"
        "* bayes in a comment\nbayesstats ess\n"
    )
    assert count_bayes(do) == 2
    assert count_bayes(tmp_path / "missing.do") == 0


def test_the_report_writer_says_what_it_is_doing(tmp_path, monkeypatch):
    import bayesmixed.report.html as html

    monkeypatch.setattr(html, "side_by_side", lambda ml, b: [])
    monkeypatch.setattr(html, "bayes_figures", lambda b, ml, stem: ([("f.png", b"x", "c")], []))
    est = Estimate(SimpleNamespace(), "bayes: mixed y x || g:", 1, bayes=True)
    lines: list[str] = []
    log = [ModelEntry(est, "posterior table"), ModelEntry(est, "again")]
    write_report(log, tmp_path / "r", progress=lines.append)
    assert lines == [
        "  report: figures of Bayesian model 1 of 2",
        "  report: figures of Bayesian model 2 of 2",
        "  report: writing index.html and 1 figure files",
    ]
