"""Saving: a unique temporary file, fsync, atomic rename; clean failures.

Readers must only ever see a complete old or new file, a link planted under
a predictable name must not redirect the write, and a failed save must leave
nothing behind and say what failed where.
"""

from __future__ import annotations

import errno
import os
import threading

import pytest

import bayesmixed as bm
from bayesmixed.io import ResultSaveError, load
from bayesmixed.io import atomic as atomic_mod


@pytest.fixture(scope="module")
def result():
    return bm.mixed("weight female || litter:", bm.datasets.load("rats"))


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "fit.bmr")


def test_concurrent_saves_never_expose_a_bad_file(result, tmp_path):
    path = tmp_path / "fit.bmr"
    result.save(path)
    expected = str(result)
    errors: list[BaseException] = []
    done = threading.Event()

    def writer():
        try:
            for _ in range(12):
                result.save(path)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    def reader():
        loads = 0
        while not done.is_set() or loads < 3:
            try:
                assert str(load(path)) == expected
            except BaseException as exc:
                errors.append(exc)
                return
            loads += 1

    writers = [threading.Thread(target=writer) for _ in range(3)]
    reading = threading.Thread(target=reader)
    reading.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reading.join()
    assert not errors, errors[:3]
    assert _leftovers(tmp_path) == []


def test_a_link_at_the_old_part_name_is_not_followed(result, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "out.bmr"
    (tmp_path / "out.bmr.part").symlink_to(victim)
    result.save(path)
    assert victim.read_text() == "precious"
    assert not path.is_symlink() and str(load(path)) == str(result)


def test_temporary_names_are_unpredictable_and_in_the_same_folder(result, tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(os.fspath(src))
        return real(src, dst)

    monkeypatch.setattr(atomic_mod.os, "replace", spy)
    path = tmp_path / "fit.bmr"
    result.save(path)
    result.save(path)
    assert len(set(seen)) == 2
    for src in seen:
        assert os.path.dirname(src) == str(tmp_path)
        assert src != str(path) + ".part"


def test_saved_file_has_the_usual_permissions(result, tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = result.save(tmp_path / "fit.bmr")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_folder_as_path_is_a_clean_error(result, tmp_path):
    folder = tmp_path / "fit.bmr"
    folder.mkdir()
    with pytest.raises(ResultSaveError, match="it is a folder"):
        result.save(folder)
    assert list(folder.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["fit.bmr"]


def test_a_missing_folder_is_a_clean_error(result, tmp_path):
    with pytest.raises(ResultSaveError, match="no_such_dir.*folder does not exist"):
        result.save(tmp_path / "no_such_dir" / "fit.bmr")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_an_unwritable_folder_is_a_clean_error(result, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ResultSaveError, match="permission denied"):
            result.save(folder / "fit.bmr")
    finally:
        folder.chmod(0o700)


def test_permission_denied_is_a_clean_error(result, tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic_mod.tempfile, "mkstemp", denied)
    with pytest.raises(ResultSaveError, match=f"{tmp_path}.*permission denied"):
        result.save(tmp_path / "fit.bmr")


def test_disk_full_leaves_the_old_file_and_no_temporary(result, tmp_path, monkeypatch):
    path = result.save(tmp_path / "fit.bmr")
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "fsync", full)
    with pytest.raises(ResultSaveError, match="fit.bmr.*disk is full"):
        result.save(path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_an_interrupted_save_leaves_no_temporary(result, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic_mod.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path / "fit.bmr")
    assert list(tmp_path.iterdir()) == []
