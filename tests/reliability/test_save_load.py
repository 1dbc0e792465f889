"""Saved results round-trip exactly, in open formats, and damaged files are refused."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.io import ResultFileError, load, save, spec_from_dict, spec_to_dict
from bayesmixed.spec.options import DisplayOptions, EstimationOptions
from bayesmixed.syntax import stata_to_spec

ML_CASES = [
    ("productivity", "gsp private emp hwy water other unemp || region: || state:"),
    ("productivity", "gsp private emp || state: , residuals(ar 1, t(year))"),
    (
        "productivity",
        "gsp private emp if year > 1975 & !missing(unemp) || state: year, cov(un) reml",
    ),
    ("rats", "weight i.dose##c.size female || litter:, stddeviations"),
    ("productivity", "gsp private || _all: R.region || state:"),
]
GLMM_CASES = [
    ("bangladesh", "melogit c_use urban age child1 child2 child3 || district: urban, cov(un)"),
    ("bangladesh", "mepoisson c_use urban || district:, intpoints(3)"),
]


@pytest.fixture(scope="module")
def results():
    out = []
    for name, cmd in ML_CASES:
        out.append(bm.mixed(cmd, bm.datasets.load(name)))
    for name, cmd in GLMM_CASES:
        out.append(bm.stata(cmd, bm.datasets.load(name)))
    return out


def _same_arrays(a, b) -> None:
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def _assert_same(r, r2) -> None:
    assert type(r2) is type(r)
    assert str(r2) == str(r)
    assert r2.design.spec == r.design.spec
    assert r2.design.spec.source == r.design.spec.source
    assert r2.loglik == r.loglik
    np.testing.assert_array_equal(r2.beta, r.beta)
    np.testing.assert_array_equal(r2.vcov_beta, r.vcov_beta)
    np.testing.assert_array_equal(r2.theta, r.theta)
    np.testing.assert_array_equal(r2.working, r.working)
    _same_arrays(r2.cov_blocks, r.cov_blocks)
    np.testing.assert_array_equal(r2.design.y, r.design.y)
    np.testing.assert_array_equal(r2.design.X, r.design.X)
    assert r2.design.rows.equals(r.design.rows)
    for b, b2 in zip(r.design.blocks, r2.design.blocks, strict=True):
        assert b2.groups.equals(b.groups) and b2.effect_names == b.effect_names
        assert b2.equation == b.equation and b2.structure == b.structure
        np.testing.assert_array_equal(b2.codes, b.codes)
    pd.testing.assert_series_equal(r2.coef, r.coef)
    pd.testing.assert_frame_equal(r2.groups, r.groups)
    for key, frame in r.re_cov.items():
        pd.testing.assert_frame_equal(r2.re_cov[key], frame)
    assert r2.aic == r.aic and r2.bic == r.bic and r2.nobs == r.nobs


@pytest.mark.parametrize("i", range(len(ML_CASES) + len(GLMM_CASES)))
def test_round_trip_is_exact(results, tmp_path, i):
    r = results[i]
    path = r.save(tmp_path / "fit.bmr")
    _assert_same(r, load(path))


def test_if_qualifier_is_stored_as_text_and_reparsed(results, tmp_path):
    r = results[2]
    with zipfile.ZipFile(r.save(tmp_path / "fit.bmr")) as zf:
        doc = json.loads(zf.read("result.json"))
    spec = doc["fields"]["design"]["$design"]["spec"]["$spec"]
    assert spec["if"] == "year > 1975 & !missing(unemp)"
    assert load(tmp_path / "fit.bmr").design.spec.sample_if == r.design.spec.sample_if


def test_members_are_open_formats_without_pickle(results, tmp_path):
    path = results[1].save(tmp_path / "fit.bmr")
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            assert name.endswith((".json", ".npy", ".nc")), name
            if name.endswith(".npy"):
                arr = np.load(io.BytesIO(data), allow_pickle=False)
                assert not arr.dtype.hasobject
            else:
                assert b"pickle" not in data.lower()


def _rewrite(path, edit) -> None:
    """Re-zip ``path`` after ``edit(members)`` changes members in memory."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _fix_manifest(members) -> None:
    import hashlib

    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {
        n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n != "manifest.json"
    }
    members["manifest.json"] = json.dumps(manifest).encode()


def test_truncated_file_is_refused(results, tmp_path):
    path = results[0].save(tmp_path / "fit.bmr")
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        path.write_bytes(data[:cut])
        with pytest.raises(ResultFileError, match="not a readable|truncated|damaged"):
            load(path)


def test_edited_estimate_fails_the_checksum(results, tmp_path):
    path = results[0].save(tmp_path / "fit.bmr")

    def edit(members):
        text = members["result.json"].decode()
        members["result.json"] = text.replace('"loglik": ', '"loglik": 1', 1).encode()

    _rewrite(path, edit)
    with pytest.raises(ResultFileError, match="checksum mismatch in 'result.json'"):
        load(path)


def test_edited_design_array_fails_the_data_signature(results, tmp_path):
    r = results[0]
    path = r.save(tmp_path / "fit.bmr")
    doc = json.loads(zipfile.ZipFile(path).read("result.json"))
    y_member = doc["fields"]["design"]["$design"]["y"]["$array"]

    def edit(members):
        buf = io.BytesIO()
        np.save(buf, r.design.y * 2, allow_pickle=False)
        members[y_member] = buf.getvalue()
        _fix_manifest(members)  # a careful forger updates the checksums too

    _rewrite(path, edit)
    with pytest.raises(ResultFileError, match="does not match its data signature"):
        load(path)


def test_pickled_member_is_never_unpickled(results, tmp_path):
    path = results[0].save(tmp_path / "fit.bmr")
    doc = json.loads(zipfile.ZipFile(path).read("result.json"))
    member = doc["fields"]["beta"]["$array"]

    def edit(members):
        buf = io.BytesIO()
        np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
        members[member] = buf.getvalue()
        _fix_manifest(members)

    _rewrite(path, edit)
    with pytest.raises(ResultFileError, match="not a plain .npy array"):
        load(path)


def test_extra_member_and_foreign_files_are_refused(results, tmp_path):
    path = results[0].save(tmp_path / "fit.bmr")
    _rewrite(path, lambda m: m.__setitem__("evil.py", b"print('hi')"))
    with pytest.raises(ResultFileError, match="do not match the manifest"):
        load(path)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("a.txt", "x")
    with pytest.raises(ResultFileError, match="not a bayesmixed result file"):
        load(other)
    (tmp_path / "text.bmr").write_text("hello")
    with pytest.raises(ResultFileError, match="not a readable"):
        load(tmp_path / "text.bmr")
    with pytest.raises(ResultFileError, match="no saved result"):
        load(tmp_path / "missing.bmr")


def test_unknown_kind_and_non_results_are_refused(results, tmp_path):
    with pytest.raises(ResultFileError, match="only bayesmixed fit results"):
        save({"beta": 1}, tmp_path / "x.bmr")
    path = results[0].save(tmp_path / "fit.bmr")

    def edit(members):
        manifest = json.loads(members["manifest.json"])
        manifest["kind"] = "os.system"
        members["manifest.json"] = json.dumps(manifest).encode()

    _rewrite(path, edit)
    with pytest.raises(ResultFileError, match="does not match the manifest|unknown result kind"):
        load(path)


def test_spec_codec_refuses_a_different_model():
    df = bm.datasets.load("jsp2")
    spec = stata_to_spec("mixed math5 math3 if math3 > 0 || school: math3, cov(un)", df)
    d = json.loads(json.dumps(spec_to_dict(spec)))
    assert spec_from_dict(d) == spec
    bad = json.loads(json.dumps(d))
    bad["random"][0]["covariance"] = "banana"
    with pytest.raises(ResultFileError, match="malformed"):
        spec_from_dict(bad)
    bad = json.loads(json.dumps(d))
    bad["if"] = "math3 > 0 ) import os"
    with pytest.raises(bm.BayesmixedError):
        spec_from_dict(bad)


def test_bayes_result_round_trip(tmp_path):
    pytest.importorskip("pymc")
    xr = pytest.importorskip("xarray")
    from bayesmixed.design import build_design
    from bayesmixed.fitting import fit_bayes

    df = bm.datasets.load("rats")
    design = build_design(stata_to_spec("mixed weight female || litter:", df), df)
    r = fit_bayes(design, method="laplace", draws=50, seed=3)
    r2 = load(save(r, tmp_path / "bayes.bmr"))
    for node in r.idata.subtree:
        xr.testing.assert_identical(
            node.to_dataset(inherit=False), r2.idata[node.path].to_dataset(inherit=False)
        )
    assert str(r2) == str(r)
    assert r2.priors == r.priors and r2.mode_values.keys() == r.mode_values.keys()


def _as_previous_version(spec_json: dict, options: dict) -> None:
    """Rewrite a saved spec as versions before the typed options wrote it: one dict."""
    from bayesmixed.io.values import plain_json

    for key in ("estimation", "display", "syntax"):
        del spec_json[key]
    spec_json["options"] = plain_json(options)


@pytest.mark.parametrize(
    "i, options",
    [
        (3, {"display": "stddeviations", "level": 90.0, "base": True, "syntax": "stata",
             "bayes": False, "log": False}),
        (6, {"display": "variance", "level": 95.0, "base": False, "syntax": "stata",
             "eform": "irr", "intmethod": None, "intpoints": 3, "bayes": False}),
    ],
)  # fmt: skip
def test_file_saved_with_the_untyped_options_dict_still_loads(results, tmp_path, i, options):
    r = results[i]
    path = r.save(tmp_path / "old.bmr")

    def edit(members):
        doc = json.loads(members["result.json"])
        _as_previous_version(doc["fields"]["design"]["$design"]["spec"]["$spec"], options)
        members["result.json"] = json.dumps(doc).encode()
        _fix_manifest(members)

    _rewrite(path, edit)
    r2 = load(path)
    spec = r2.design.spec
    assert spec == r.design.spec and str(r2) == str(r)
    assert spec.display.level == options["level"] and spec.display.base == options["base"]
    assert spec.display.stddeviations == (options["display"] == "stddeviations")
    assert spec.display.eform == options.get("eform") and spec.display.log == options.get("log")
    assert spec.estimation.intpoints == options.get("intpoints", 7)
    assert spec.syntax == "stata" and not spec.estimation.bayes


def test_untyped_options_of_every_front_end_read_back_typed():
    df = bm.datasets.load("bangladesh")
    d = json.loads(json.dumps(spec_to_dict(stata_to_spec("melogit c_use urban || district:", df))))

    def read(options: dict):
        old = json.loads(json.dumps(d))
        _as_previous_version(old, options)
        return spec_from_dict(json.loads(json.dumps(old)))

    prefix = {"bayes": True, "bayes_options": {"nchains": 2, "prior": ["{a}, flat"]}}
    spec = read({"display": "variance", "level": 95.0, "base": False, "syntax": "stata", **prefix})
    assert spec.estimation.bayes_prefix == (("nchains", 2), ("prior", ("{a}, flat",)))
    formula = {
        "display": "variance",
        "level": 95.0,
        "base": False,
        "bayes": False,
        "syntax": "formula",
        "eform": None,
        "intmethod": "laplace",
        "intpoints": 1,
    }
    spec = read(formula)
    assert spec.syntax == "formula"
    assert (spec.estimation.intmethod, spec.estimation.intpoints) == ("laplace", 1)
    spec = read({})  # a spec built by hand held an empty dict: today's defaults
    assert (spec.estimation, spec.display, spec.syntax) == (
        EstimationOptions(),
        DisplayOptions(),
        "stata",
    )
    assert read({"bayes": True}).estimation.prefix_options == {}
    assert read({"dispersion": "constant"}).estimation.dispersion == "constant"
    for bad, match in [
        ({"chains": 2}, "unknown keys"),
        ({"level": 5.0}, "between 10 and 99.99"),
        ({"display": "sd"}, "saved display"),
        ({"intmethod": "quad"}, "unknown integration method"),
        ({"syntax": "sas"}, "front end"),
    ]:
        with pytest.raises(ResultFileError, match=match):
            read(bad)


def test_typed_options_round_trip_and_are_checked_on_load():
    df = bm.datasets.load("bangladesh")
    cmd = "bayes, nchains(2): melogit c_use urban || district:, or level(90) intmethod(laplace)"
    spec = stata_to_spec(cmd, df)
    d = json.loads(json.dumps(spec_to_dict(spec)))
    back = spec_from_dict(d)
    assert (back.estimation, back.display, back.syntax) == (
        spec.estimation,
        spec.display,
        spec.syntax,
    )
    for part, key, value in [
        ("display", "level", 100.0),
        ("display", "eform", "hr"),
        ("estimation", "intpoints", 0),
        ("estimation", "extra", 1),
    ]:
        bad = json.loads(json.dumps(d))
        bad[part][key] = value
        with pytest.raises(ResultFileError, match="malformed"):
            spec_from_dict(bad)
    older = json.loads(json.dumps(d))
    del older["display"]["log"], older["estimation"]["dispersion"]  # fields added later
    back = spec_from_dict(older)
    assert back.display.log is None and back.estimation.dispersion == "mean"
    both = json.loads(json.dumps(d))
    both["options"] = {"$dict": []}
    with pytest.raises(ResultFileError, match="both the old options dict"):
        spec_from_dict(both)
