"""generate/replace/sort/summarize/estimates table through the runner."""

import numpy as np
import pytest

from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Output


def run(tmp_path, text):
    path = tmp_path / "t.do"
    path.write_text(text)
    return run_do(path)


def outputs(session):
    return {e.command: e.text for e in session.log if isinstance(e, Output)}


def test_generate_uses_stata_expressions_and_missing_values(tmp_path):
    s = run(tmp_path, "use jsp2\ngen c3 = math3 - 25 if gender == 1\nreplace c3 = 0 if c3 == .\n")
    d = s.data
    np.testing.assert_allclose(d.loc[d.gender == 1, "c3"], d.loc[d.gender == 1, "math3"] - 25)
    assert (d.loc[d.gender == 0, "c3"] == 0).all()
    out = outputs(s)
    assert (
        out["gen c3 = math3 - 25 if gender == 1"]
        == f"({(d.gender == 0).sum()} missing values generated)"
    )


def test_generate_refuses_an_existing_variable(tmp_path):
    with pytest.raises(DoFileError, match="already defined"):
        run(tmp_path, "use jsp2\ngen math3 = 1\n")


def test_summarize_matches_pandas(tmp_path):
    s = run(tmp_path, "use jsp2\nsummarize math5 if school <= 10\n")
    text = outputs(s)["summarize math5 if school <= 10"]
    sub = s.data.loc[s.data.school <= 10, "math5"]
    assert f"{len(sub)}" in text and f"{sub.mean():.4f}"[:6] in text


def test_estimates_table_puts_models_side_by_side(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\nqui mixed math5 math3 || school:\nest store a\n"
        "qui mixed math5 math3 gender || school:\nest store b\nest table a b\n",
    )
    text = outputs(s)["est table a b"]
    lines = {ln.split("|")[0].strip(): ln for ln in text.splitlines() if "|" in ln}
    assert "gender" in lines and len(lines["gender"].split("|")[1].split()) == 1  # only b has it
    assert len(lines["math3"].split("|")[1].split()) == 2


def test_predict_refuses_estimates_from_another_dataset(tmp_path):
    with pytest.raises(DoFileError, match="another dataset"):
        run(tmp_path, "use jsp2\nqui mixed math5 math3 || school:\nuse rats, clear\npredict p\n")


def test_graph_option_typos_are_errors(tmp_path):
    with pytest.raises(DoFileError, match="option 'bogus' not allowed"):
        run(tmp_path, "use jsp2\nscatter math5 math3, bogus\n")
