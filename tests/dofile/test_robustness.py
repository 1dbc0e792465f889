"""Issue 19: output folders are never clobbered, Ctrl-C stops a run, any file encoding reads.

Every user-caused failure of the CLI is one line on stderr and a non-zero status; a
report folder is replaced only when bayesmixed wrote it, and an aborted run leaves the
previous report (or nothing) behind.
"""

import os
from pathlib import Path

import pytest

import bayesmixed as bm
from bayesmixed.cli import main
from bayesmixed.dofile import model_cmds, run_do
from bayesmixed.dofile.source import decode
from bayesmixed.report.destination import MARKER, check_destination

TINY = "use jsp2, clear\nsummarize math5\n"


def write(folder: Path, text: str | bytes, name: str = "t.do") -> Path:
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def website(tmp_path):
    site = tmp_path / "site"
    (site / "photos").mkdir(parents=True)
    (site / "index.html").write_text("<h1>my home page</h1>")
    (site / "photos" / "x.jpg").write_bytes(b"\xff\xd8 a photo")
    return site


def test_a_website_given_as_out_survives_and_the_command_fails_cleanly(tmp_path, website, capsys):
    before = tree(website)
    assert main(["run", str(write(tmp_path, TINY)), "--out", str(website)]) == 2
    err = capsys.readouterr().err
    assert tree(website) == before
    assert "not written by bayesmixed" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "t.do"]


def test_the_check_comes_before_any_model_is_fitted(tmp_path, website, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted before the destination was checked")

    monkeypatch.setattr(model_cmds.api, "stata", no_fit)
    with pytest.raises(bm.BayesmixedError, match="not written by bayesmixed"):
        run_do(write(tmp_path, "use jsp2\nmixed math5 math3 || school:\n"), out=website)


def test_our_own_report_is_replaced_and_marked(tmp_path):
    out = tmp_path / "report"
    run_do(write(tmp_path, TINY), out=out)
    assert (out / MARKER).is_file()
    (out / "figures" / "stale.png").write_bytes(b"old")
    run_do(write(tmp_path, "use jsp2\ndescribe\n"), out=out)
    assert not (out / "figures" / "stale.png").exists()
    assert "Contains data from jsp2" in (out / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "t.do"]


def test_a_report_from_before_the_marker_is_still_ours(tmp_path):
    out = tmp_path / "report"
    run_do(write(tmp_path, TINY), out=out)
    (out / MARKER).unlink()
    run_do(write(tmp_path, TINY), out=out)
    assert (out / MARKER).is_file()


def test_a_forged_or_edited_marker_is_not_enough(tmp_path, website):
    (website / MARKER).write_text("anything")
    with pytest.raises(bm.BayesmixedError, match="not written by bayesmixed"):
        check_destination(website)


@pytest.mark.parametrize("where", [".", "..", "sub/.."])
def test_out_cannot_be_the_current_directory_or_above(tmp_path, monkeypatch, capsys, where):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    do = write(work, TINY)
    monkeypatch.chdir(work)
    before = tree(tmp_path)
    assert main(["run", str(do), "--out", where]) == 2
    err = capsys.readouterr().err
    assert "current directory" in err and "Traceback" not in err
    assert tree(tmp_path) == before


def test_out_that_is_a_file_or_under_a_file_fails_up_front(tmp_path, capsys):
    do = write(tmp_path, TINY)
    assert main(["run", str(do), "--out", str(do)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["run", str(do), "--out", str(do / "report")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert do.read_text() == TINY


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_unwritable_parent_fails_before_fitting(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["run", str(write(tmp_path, TINY)), "--out", str(locked / "r")]) == 2
    finally:
        locked.chmod(0o700)
    assert "not writable" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_unwritable_file_system_fails_before_fitting(tmp_path, capsys):
    assert main(["run", str(write(tmp_path, TINY)), "--out", "/proc/bayesmixed-report"]) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and "Traceback" not in err and "t.do:" not in err


def test_an_unreadable_out_folder_fails_up_front(tmp_path, monkeypatch, capsys):
    out = tmp_path / "locked"
    out.mkdir()
    real = Path.iterdir

    def iterdir(self):  # what chmod 000 does to anyone but root
        if self == out:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert main(["run", str(write(tmp_path, TINY)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot read report folder" in err and "Traceback" not in err and "t.do:" not in err


def test_an_empty_folder_is_used(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    run_do(write(tmp_path, TINY), out=out)
    assert (out / "index.html").is_file() and (out / MARKER).is_file()


# ---- Ctrl-C ---------------------------------------------------------------------------


@pytest.fixture
def interrupt_second_fit(monkeypatch):
    real, calls = model_cmds.api.stata, []

    def stata(text, data, **options):
        calls.append(text)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(text, data, **options)

    monkeypatch.setattr(model_cmds.api, "stata", stata)
    return calls


TWO_FITS = "use jsp2\nmixed math5 math3 || school:\nmixed math5 math3 || school:, reml\n"


def test_an_interrupted_run_writes_nothing_and_exits_130(tmp_path, interrupt_second_fit, capsys):
    out = tmp_path / "report"
    assert main(["run", str(write(tmp_path, TWO_FITS)), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and "done in" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.do"]


def test_an_interrupted_run_keeps_the_previous_report(tmp_path, interrupt_second_fit):
    out = tmp_path / "report"
    run_do(write(tmp_path, "use jsp2\nsummarize math5\nmixed math5 math3 || school:\n"), out=out)
    before = tree(out)
    with pytest.raises(KeyboardInterrupt):
        run_do(write(tmp_path, TWO_FITS), out=out)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "t.do"]


def test_an_interrupt_while_the_report_is_written_keeps_the_previous_one(tmp_path, monkeypatch):
    import bayesmixed.report as report

    out = tmp_path / "report"
    run_do(write(tmp_path, TINY), out=out)
    before = tree(out)

    def interrupted(tmp, out):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "swap_in", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_do(write(tmp_path, "use jsp2\ndescribe\n"), out=out)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report", "t.do"]


# ---- encodings and CLI error paths -----------------------------------------------------


def test_latin1_do_file_runs(tmp_path, capsys):
    do = write(
        tmp_path,
        "* Caf\xe9 na\xefve -- \xe9cole\nuse jsp2, clear\nsummarize math5\n".encode("latin-1"),
    )
    assert main(["run", str(do)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_cp1252_quotes_and_utf16_decode():
    assert decode("* \u201cquoted\u201d\nuse jsp2\n".encode("cp1252")).startswith("* \u201c")
    assert decode("use jsp2\n".encode("utf-16")) == "use jsp2\n"
    assert decode(b"\x81\x8d use jsp2") == "\x81\x8d use jsp2"  # bytes cp1252 leaves undefined


def test_byte_order_mark_is_dropped(tmp_path):
    session = run_do(write(tmp_path, b"\xef\xbb\xbfuse jsp2, clear\nsummarize math5\n"))
    assert session.data_name == "jsp2"


def test_nested_do_file_in_latin1(tmp_path):
    write(tmp_path, "* \xe9\nuse jsp2\n".encode("latin-1"), "inner.do")
    session = run_do(write(tmp_path, b"\xef\xbb\xbfdo inner\nsummarize math5\n"))
    assert session.data_name == "jsp2"


@pytest.mark.parametrize(
    "use, message",
    [
        ('use "nothere.dta", clear', "not found"),
        ("use nothere.dta", "not found"),
        ("use sub/nothere.csv", "not found"),
        ("use garbage.dta", "cannot read"),
        ('use "garbage.dta', "closing"),
    ],
)
def test_missing_or_broken_data_file_is_one_clean_line(tmp_path, capsys, use, message):
    write(tmp_path, b"\x00\x01 not stata", "garbage.dta")
    assert main(["run", str(write(tmp_path, use + "\n"))]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "bayesmixed: " in err


def test_use_reads_a_path_with_an_extension(tmp_path):
    bm.datasets.load("jsp2").head(50).to_csv(tmp_path / "my data.csv", index=False)
    session = run_do(write(tmp_path, 'use "my data.csv", clear\nsummarize math5\n'))
    assert len(session.data) == 50


def test_unreadable_do_file_is_one_clean_line(tmp_path, capsys):
    folder = tmp_path / "x.do"
    folder.mkdir()
    assert main(["run", str(folder)]) == 2
    assert main(["run", str(tmp_path / "missing.do")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2


def test_operating_system_errors_are_one_line_and_debug_shows_the_traceback(
    tmp_path, monkeypatch, capsys
):
    def broken(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/some/file")

    monkeypatch.setattr("bayesmixed.dofile.runner.run_file", broken)
    do = write(tmp_path, TINY)
    assert main(["run", str(do)]) == 1
    assert capsys.readouterr().err.strip() == "bayesmixed: Permission denied: /some/file"
    with pytest.raises(PermissionError):
        main(["run", str(do), "--debug"])
    with pytest.raises(PermissionError):
        main(["--debug", "run", str(do)])


def test_a_bug_is_one_line_pointing_at_debug(tmp_path, monkeypatch, capsys):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("bayesmixed.dofile.runner.run_file", bug)
    assert main(["run", str(write(tmp_path, TINY))]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "--debug" in err and "Traceback" not in err
