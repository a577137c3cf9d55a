"""The build stamp: a digest of the simulator's source files, independent of listing order."""
import hashlib
import re

from simulator import __version__, build


def _tree(root, files):
    for name, data in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return str(root)


def _digest(root):
    build._digest_of.cache_clear()
    return build._digest_of(str(root))


def test_digest_of_one_file_is_the_documented_hash(tmp_path):
    _tree(tmp_path, [("a.py", b"x = 1\n")])
    expected = hashlib.sha256(b"a.py\0" + b"6\0" + b"x = 1\n").hexdigest()  # path NUL length NUL bytes
    assert _digest(tmp_path) == expected


def test_digest_does_not_depend_on_creation_order(tmp_path):
    files = [("b.py", b"2"), ("a.py", b"1"), ("sub/c.py", b"3"), ("sub/a.py", b"4")]
    one = _tree(tmp_path / "one", files)
    two = _tree(tmp_path / "two", list(reversed(files)))
    assert _digest(one) == _digest(two)


def test_digest_changes_with_content_names_and_boundaries(tmp_path):
    base = _digest(_tree(tmp_path / "base", [("a.py", b"xy"), ("b.py", b"")]))
    assert _digest(_tree(tmp_path / "edit", [("a.py", b"xz"), ("b.py", b"")])) != base
    assert _digest(_tree(tmp_path / "moved", [("a.py", b"x"), ("b.py", b"y")])) != base   # same bytes, other split
    assert _digest(_tree(tmp_path / "renamed", [("a.py", b"xy"), ("c.py", b"")])) != base
    assert _digest(_tree(tmp_path / "added", [("a.py", b"xy"), ("b.py", b""), ("n/d.py", b"")])) != base


def test_only_python_sources_outside_pycache_count(tmp_path):
    base = _digest(_tree(tmp_path / "base", [("a.py", b"1")]))
    other = _tree(tmp_path / "other", [("a.py", b"1"), ("notes.txt", b"x"), ("__pycache__/a.py", b"y"),
                                       ("a.cpython-311.pyc", b"z")])
    assert _digest(other) == base


def test_stamp_of_the_running_simulator():
    stamp = build.build_stamp()
    assert stamp["version"] == __version__
    assert re.fullmatch(r"[0-9a-f]{64}", stamp["source_sha256"])
    assert build.short(stamp) == f"{__version__}+{stamp['source_sha256'][:12]}"
