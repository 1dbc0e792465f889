"""Issue 17: do-files as Stata users write them -- their own data, macros, loops, by-groups.

Every number is checked against the Python API or pandas on the same data.
"""

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.cli import main
from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Output


def run(tmp_path, text, **kwargs):
    path = tmp_path / "t.do"
    path.write_text(text)
    return run_do(path, **kwargs)


def printed(session):
    """Output of each command, by command text (the last one wins)."""
    return {e.command: e.text for e in session.log if isinstance(e, Output)}


@pytest.fixture
def csv(tmp_path):
    """The user's own data: jsp2 as a CSV with capitalised headers, as Excel writes them."""
    data = bm.datasets.load("jsp2")[["school", "math3", "math5", "gender"]]
    data.rename(columns=str.capitalize).to_csv(tmp_path / "ss.csv", index=False)
    return data


def test_import_delimited_then_mixed_equals_the_api(tmp_path, csv):
    s = run(tmp_path, 'import delimited using "ss.csv", clear\nmixed math5 math3 || school:\n')
    expected = bm.mixed(
        "mixed math5 math3 || school:", pd.read_csv(tmp_path / "ss.csv").rename(columns=str.lower)
    )
    np.testing.assert_allclose(s.current.result.coef, expected.coef, rtol=1e-8)
    assert s.current.result.loglik == pytest.approx(expected.loglik, rel=1e-10)
    assert list(s.data.columns) == ["school", "math3", "math5", "gender"]  # case(lower)
    assert printed(s)['import delimited using "ss.csv", clear'] == f"(4 vars, {len(csv)} obs)"


def test_import_delimited_case_preserve_and_refuses_changed_data(tmp_path, csv):
    s = run(tmp_path, "import delimited ss.csv, case(preserve)\n")
    assert list(s.data.columns) == ["School", "Math3", "Math5", "Gender"]
    with pytest.raises(DoFileError, match="changed since last saved") as info:
        run(tmp_path, "use jsp2\ngen z = 1\nimport delimited ss.csv\n")
    assert info.value.line == 3


def test_forvalues_fits_on_subsets_equal_the_api(tmp_path, csv):
    s = run(
        tmp_path,
        "import delimited ss.csv, clear\n"
        "forvalues g = 0/1 {\n"
        "    quietly mixed math5 math3 if gender == `g' || school:\n"
        "    estimates store m`g'\n"
        "}\n",
    )
    data = pd.read_csv(tmp_path / "ss.csv").rename(columns=str.lower)
    for g in (0, 1):
        expected = bm.mixed("mixed math5 math3 || school:", data[data.gender == g])
        got = s.stored[f"m{g}"].result
        np.testing.assert_allclose(got.coef, expected.coef, rtol=1e-8)
        assert got.nobs == (data.gender == g).sum()


def test_egen_by_equals_pandas_groupby(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\n"
        "egen mm = mean(math5), by(school)\n"
        "egen sm = sum(math5), by(school gender)\n"
        "egen n = count(math3), by(school)\n"
        "egen hi = max(math3 - 1), by(school)\n"
        "egen lo = min(math3), by(school)\n"
        "egen s = sd(math5), by(school)\n"
        "egen all = mean(math5)\n"
        "bysort gender: egen gm = mean(math5)\n"
        "egen gid = group(gender school)\n"
        "egen m10 = mean(math5) if school <= 10, by(school)\n",
    )
    d = s.data
    by = d.groupby("school")
    np.testing.assert_allclose(d.mm, by.math5.transform("mean"))
    np.testing.assert_allclose(d.sm, d.groupby(["school", "gender"]).math5.transform("sum"))
    np.testing.assert_allclose(d.n, by.math3.transform("count"))
    np.testing.assert_allclose(d.hi, by.math3.transform("max") - 1)
    np.testing.assert_allclose(d.lo, by.math3.transform("min"))
    np.testing.assert_allclose(d.s, by.math5.transform("std"))
    np.testing.assert_allclose(d["all"], d.math5.mean())
    np.testing.assert_allclose(d.gm, d.groupby("gender").math5.transform("mean"))
    expected_id = d.groupby(["gender", "school"]).ngroup() + 1
    np.testing.assert_array_equal(d.gid, expected_id)
    small = d.school <= 10
    np.testing.assert_allclose(d.m10[small], d[small].groupby("school").math5.transform("mean"))
    assert d.m10[~small].isna().all()


def test_by_generate_counts_within_groups_and_needs_sorted_data(tmp_path):
    s = run(tmp_path, "use jsp2\nbysort school (math3): gen k = _n\nby school: gen big = _N\n")
    d = s.data
    np.testing.assert_array_equal(d.k, d.groupby("school").cumcount() + 1)
    np.testing.assert_array_equal(d.big, d.groupby("school").school.transform("size"))
    assert d.groupby("school").math3.apply(lambda x: x.is_monotonic_increasing).all()
    with pytest.raises(DoFileError, match="not sorted"):
        run(tmp_path, "use jsp2\nby gender: gen k = _n\n")


def test_by_summarize_prints_each_group(tmp_path):
    s = run(tmp_path, "use jsp2\nbysort gender: summarize math5\n")
    text = printed(s)["bysort gender: summarize math5"]
    assert "-> gender = 0" in text and "-> gender = 1" in text
    for g in (0, 1):
        assert f"{s.data.math5[s.data.gender == g].mean():.4f}"[:6] in text


def test_macros_and_loops(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\n"
        "local covs math3 gender\n"
        'global dep "math5"\n'
        "local n = 2 * 3 + 1\n"
        "local k 0\n"
        "foreach v of local covs {\n"
        "    local ++k\n"
        "    local name`k' `v'\n"
        "}\n"
        "foreach x in a b c {\n"
        "    local word `word'`x'\n"
        "}\n"
        "local total 0\n"
        "forvalues i = 1(2)9 {\n"
        "    local total = `total' + `i'\n"
        "}\n"
        "foreach v of varlist math* {\n"
        "    local seen `seen' `v'\n"
        "}\n"
        "foreach t of numlist 10/8 {\n"
        "    local down `down' `t'\n"
        "}\n"
        "local count : word count `covs'\n"
        "qui regress $dep `covs'\n"
        "display `n' + `=1+1'\n",
    )
    loc = s.locals
    assert loc["n"] == "7" and loc["k"] == "2"
    assert loc["name1"] == "math3" and loc["name2"] == "gender"
    assert loc["word"] == "abc" and loc["total"] == "25" and loc["count"] == "2"
    assert loc["seen"].split() == [c for c in s.data if c.startswith("math")]
    assert loc["down"].split() == ["10", "9", "8"]
    assert list(s.current.result.coef.index[:2]) == ["math3", "gender"]
    assert printed(s)["display 7 + 2"] == "9"  # the report shows it expanded


def test_display_strings_expressions_and_results(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\nmixed math5 math3 || school:\n"
        'display "slope: " _b[math3] " ll: " e(ll) " N = " e(N)\n'
        "display 1/4\n"
        "display math5\n"
        "summarize math5\n"
        "display r(mean)\n",
    )
    out = printed(s)
    fit = bm.mixed("mixed math5 math3 || school:", bm.datasets.load("jsp2"))
    slope, ll = out['display "slope: " _b[math3] " ll: " e(ll) " N = " e(N)'].split(" ll: ")
    assert float(slope.removeprefix("slope: ")) == pytest.approx(fit.coef["math3"], rel=1e-7)
    assert float(ll.split(" N = ")[0]) == pytest.approx(fit.loglik, rel=1e-7)
    assert ll.endswith(f"N = {fit.nobs}")
    assert out["display 1/4"] == ".25"
    assert out["display math5"] == str(int(s.data.math5.iloc[0]))  # first observation
    assert float(out["display r(mean)"]) == pytest.approx(s.data.math5.mean(), rel=1e-7)


def test_save_use_export_and_overwrite_rules(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\nkeep school math3 math5\nkeep if school <= 5\n"
        'save "small.dta"\n'
        "export delimited using small.csv\n"
        "drop math3\n"
        "save small, replace\n"
        "export delimited school using small.csv, replace\n"
        "use small, clear\n",
    )
    jsp = bm.datasets.load("jsp2")
    sub = jsp[jsp.school <= 5]
    back = pd.read_stata(tmp_path / "small.dta")
    np.testing.assert_allclose(back.math5, sub.math5)
    assert list(back.columns) == ["school", "math5"] and list(s.data.columns) == list(back.columns)
    assert list(pd.read_csv(tmp_path / "small.csv").columns) == ["school"]
    for line in ('save "small.dta"\n', "export delimited using small.csv\n"):
        with pytest.raises(DoFileError, match="already exists") as info:
            run(tmp_path, "use jsp2\n" + line)
        assert info.value.line == 2


def test_keep_drop_rename_preserve_restore(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\npreserve\ndrop if gender == 1\ndrop in 1/3\nrename math5 y\n"
        "local n = _N\nrestore\nrename math3 x\ndrop gender\n",
    )
    jsp = bm.datasets.load("jsp2")
    assert int(s.locals["n"]) == (jsp.gender == 0).sum() - 3
    assert len(s.data) == len(jsp) and "x" in s.data and "gender" not in s.data
    out = printed(s)
    assert out["drop if gender == 1"] == f"({(jsp.gender == 1).sum():,} observations deleted)"
    with pytest.raises(DoFileError, match="nothing to restore"):
        run(tmp_path, "use jsp2\nrestore\n")


def test_capture_quietly_and_if_blocks(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\ncapture summarize nothere\nlocal rc1 = _rc\n"
        "capture summarize math5\nlocal rc2 = _rc\n"
        "capture {\n  gen a = 1\n  gen a = 2\n}\nlocal rc3 = _rc\n"
        "capture frobnicate\nlocal rc4 = _rc\n"
        "quietly {\n  summarize math3\n  mixed math5 math3 || school:\n}\n"
        "if `rc1' == 111 {\n  local branch yes\n}\nelse {\n  local branch no\n}\n"
        "forvalues i = 1/10 {\n  if `i' > 3 {\n    continue, break\n  }\n  local last `i'\n}\n",
    )
    loc = s.locals
    assert (loc["rc1"], loc["rc2"], loc["rc3"], loc["rc4"]) == ("111", "0", "110", "199")
    assert "a" in s.data and (s.data.a == 1).all()  # the block stopped at its failure
    assert "summarize math3" not in printed(s) and s.current is not None
    assert loc["branch"] == "yes" and loc["last"] == "3"


def test_list_tabulate_label_xtset(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\nlabel define sex 0 boy 1 girl\nlabel values gender sex\n"
        'label variable math5 "Maths at 11"\n'
        "list school math5 in 1/3\ntabulate gender\ntabulate gender school if school <= 2\n"
        "xtset school\nset seed 123\n",
    )
    out = printed(s)
    rows = [ln for ln in out["list school math5 in 1/3"].splitlines() if ". |" in ln]
    assert [r.split("|")[1].split() for r in rows] == [
        [str(int(v)) for v in s.data.loc[k, ["school", "math5"]]] for k in range(3)
    ]
    counts = s.data.gender.value_counts()
    tab = out["tabulate gender"]
    assert f"boy |{counts[0]:>11,}" in tab and f"girl |{counts[1]:>11,}" in tab
    assert f"Total |{len(s.data):>11,}" in tab
    assert s.var_labels == {"math5": "Maths at 11"} and s.seed == 123
    assert out["xtset school"] == "Panel variable: school"


def test_log_using_writes_the_log(tmp_path):
    run(tmp_path, "log using out, text\nuse jsp2\ndisplay 2 + 2\nlog close\ndisplay 5\n")
    text = (tmp_path / "out.log").read_text()
    assert ". display 2 + 2\n4\n" in text and "display 5" not in text
    with pytest.raises(DoFileError, match="already exists"):
        run(tmp_path, "log using out\n")


def test_unsupported_command_lists_what_is_supported(tmp_path):
    with pytest.raises(DoFileError) as info:
        run(tmp_path, "use jsp2\n\nreshape long x, i(school)\n")
    assert info.value.line == 3
    assert "'reshape' is not supported" in str(info.value)
    assert "foreach" in str(info.value) and "import" in str(info.value)


def test_estat_icc_in_a_do_file(tmp_path):
    s = run(tmp_path, "use jsp2\nqui mixed math5 math3 || school:\nestat icc\n")
    assert "intraclass correlation" in printed(s)["estat icc"]
    with pytest.raises(DoFileError, match="mixed-model fits only"):
        run(tmp_path, "use jsp2\nregress math5 math3\nestat icc\n")


DOFILE = """\
use jsp2, clear
local x math3
quietly mixed math5 `x' || school:
display "ll = " e(ll)
forvalues i = 1/2 {
    display `i'
}
summarize math5
"""


def test_cli_run_prints_the_log_on_stdout(tmp_path, capsys):
    path = tmp_path / "x.do"
    path.write_text(DOFILE)
    assert main(["run", str(path), "--log", str(tmp_path / "x.log")]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert out.startswith(". use jsp2, clear\n\n. local x math3\n")
    assert ". quietly mixed math5 `x' || school:\n\n" in out  # echoed as typed, no output
    assert "Mixed-effects" not in out
    assert '. display "ll = " e(ll)\nll = -2612.0401\n' in out
    # a loop is echoed once, its lines numbered; its commands then print output only
    assert ". forvalues i = 1/2 {\n  2. display `i'\n  3. }\n1\n2\n\n" in out
    assert "    Variable |        Obs" in out and out.rstrip().endswith("end of do-file")
    assert (tmp_path / "x.log").read_text() == out
    assert "x.do:1: use jsp2, clear" in captured.err  # progress stays on stderr
    assert ". use" not in captured.err


def test_cli_error_is_one_line_and_logged(tmp_path, capsys):
    path = tmp_path / "x.do"
    path.write_text("use jsp2\ngen y = nothere + 1\n")
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "line 2" in captured.err
    assert ". gen y = nothere + 1\n" in captured.out and "r(111);" in captured.out


def test_display_directives_count_and_meanonly(tmp_path):
    s = run(
        tmp_path,
        "use jsp2\nqui regress math5 math3\n"
        'display as text "b = " as result %9.3f _b[math3] _n "x" _col(5) "y"\n'
        "quietly summarize math5 if school <= 3, meanonly\nlocal m = r(mean)\n"
        "count if school <= 3\nlocal n = r(N)\n",
    )
    d = s.data[s.data.school <= 3]
    slope = s.current.result.coef["math3"]
    out = printed(s)
    assert out['display as text "b = " as result %9.3f _b[math3] _n "x" _col(5) "y"'] == (
        f"b = {slope:9.3f}\nx   y"
    )
    assert float(s.locals["m"]) == pytest.approx(d.math5.mean(), rel=1e-12)
    assert int(s.locals["n"]) == len(d) and out["count if school <= 3"].strip() == str(len(d))


def test_forvalues_counting_up_past_the_end_runs_no_times(tmp_path):
    s = run(tmp_path, "local k 0\nforvalues i = 5/1 {\n  local ++k\n}\n")
    assert s.locals["k"] == "0" and "i" not in s.locals


def test_set_seed_reaches_every_bayes_fit(tmp_path, monkeypatch):
    from bayesmixed.dofile import model_cmds

    seen = {}
    fitted = bm.mixed("mixed math5 math3 || school:", bm.datasets.load("jsp2"))

    def fake_stata(command, data, **options):
        seen[command] = options
        return fitted

    monkeypatch.setattr(model_cmds.api, "stata", fake_stata)
    run(tmp_path, "use jsp2\nset seed 2024\nmixed math5 math3 || school:\nbayes: mixed y\n")
    assert seen["bayes: mixed y"]["seed"] == 2024
    assert "seed" not in seen["mixed math5 math3 || school:"]


def test_preserved_data_come_back_when_the_do_file_ends(tmp_path):
    (tmp_path / "inner.do").write_text("preserve\nkeep if school == 1\nlocal n = _N\n")
    s = run(tmp_path, "use jsp2\ndo inner\nlocal after = _N\n")
    jsp = bm.datasets.load("jsp2")
    assert int(s.locals["n"]) == (jsp.school == 1).sum()
    assert int(s.locals["after"]) == len(jsp) == len(s.data)
