"""The flit kernels' compiled code is cached per version of all kernel modules, so an
update of a module that the kernel only calls into cannot leave an old compiled kernel in use."""
from __future__ import annotations

import os
import shutil

import numba.core.config
import pytest

from simulator.noc import jit, kernel, kernel_alloc, kernel_ni, kernel_parts, kernel_uni, kernel_uni_parts


def _copy_modules(tmp_path):
    for name in jit.MODULES:
        shutil.copy(jit.HERE / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("name", jit.MODULES)
def test_the_digest_changes_with_any_kernel_module(tmp_path, name):
    folder = _copy_modules(tmp_path)
    before = jit.kernel_digest(folder)
    assert before == jit.kernel_digest(jit.HERE)  # the same bytes, another folder: the same digest
    (folder / name).write_bytes((folder / name).read_bytes() + b"\n# edited\n")
    assert jit.kernel_digest(folder) != before


def test_every_kernel_function_is_cached_in_the_folder_of_this_version():
    where = str(jit.cache_dir())
    assert where.endswith(jit.PREFIX + jit.kernel_digest())
    for fn in (kernel.simulate, kernel_alloc._va_islip, kernel_ni._inject, kernel_parts.tables,
               kernel_parts._mc_branches, kernel_uni.simulate_uni, kernel_uni_parts._va_many,
               kernel_uni_parts._inject_uni):
        assert fn._cache.cache_path.startswith(where)


def test_numba_setting_is_left_as_the_environment_gave_it():
    assert numba.core.config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")


def test_folders_of_other_versions_are_removed(tmp_path):
    current = tmp_path / f"{jit.PREFIX}{'a' * 16}"
    old = tmp_path / f"{jit.PREFIX}{'b' * 16}"
    unrelated = tmp_path / "other"
    for d in (current, old, unrelated):
        d.mkdir()
    jit._remove_other_versions(current)
    assert current.is_dir() and unrelated.is_dir() and not old.exists()
