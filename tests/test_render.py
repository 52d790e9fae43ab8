"""The overlay renderer, on a throw-away template tree."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import jinja2
import pytest

from scaffold.generation.render import layers_for, render_layers, template_root
from scaffold.matrix import STACKS


def _file(root: Path, relative: str, content: str | bytes, mode: int | None = None) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    if mode is not None:
        path.chmod(mode)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "templates"


def test_jinja_files_are_rendered_and_lose_their_suffix(root: Path) -> None:
    _file(root, "base/pkg/hello.txt.jinja", "Hi {{ who }}!\n")
    [rendered] = render_layers(root, ["base"], {"who": "operator"})
    assert rendered.path == PurePosixPath("pkg/hello.txt")
    assert rendered.content == b"Hi operator!\n"  # trailing newline kept


def test_undefined_variable_raises(root: Path) -> None:
    _file(root, "base/a.py.jinja", "x = {{ not_in_context }}\n")
    with pytest.raises(jinja2.UndefinedError, match="not_in_context"):
        render_layers(root, ["base"], {"project_name": "demo"})


def test_undefined_attribute_in_condition_raises(root: Path) -> None:
    _file(root, "base/a.txt.jinja", "{% if missing %}yes{% endif %}\n")
    with pytest.raises(jinja2.UndefinedError):
        render_layers(root, ["base"], {})


def test_non_templates_are_copied_byte_for_byte_with_mode(root: Path) -> None:
    binary = bytes(range(256)) + b"{{ not rendered }}"
    _file(root, "base/blob.bin", binary)
    _file(root, "base/scripts/run.sh", "#!/bin/sh\necho {{ raw }}\n", mode=0o755)
    _file(root, "base/plain.txt", "plain\n", mode=0o644)
    files = {str(f.path): f for f in render_layers(root, ["base"], {})}
    assert files["blob.bin"].content == binary
    assert files["scripts/run.sh"].content == b"#!/bin/sh\necho {{ raw }}\n"
    assert files["scripts/run.sh"].executable is True
    assert files["plain.txt"].executable is False


def test_executable_template_stays_executable(root: Path) -> None:
    _file(root, "base/start.sh.jinja", "#!/bin/sh\nexec {{ cmd }}\n", mode=0o755)
    [rendered] = render_layers(root, ["base"], {"cmd": "serve"})
    assert rendered.path == PurePosixPath("start.sh")
    assert rendered.executable is True
    assert rendered.content == b"#!/bin/sh\nexec serve\n"


def test_dot_prefix_becomes_dotfile_in_every_segment(root: Path) -> None:
    _file(root, "base/dot-gitignore", ".env\n")
    _file(root, "base/dot-github/workflows/ci.yml.jinja", "name: {{ n }}\n")
    _file(root, "base/dot-env.example.jinja", "A={{ n }}\n")
    paths = {str(f.path) for f in render_layers(root, ["base"], {"n": "x"})}
    assert paths == {".gitignore", ".github/workflows/ci.yml", ".env.example"}


def test_layers_overlay_in_order_and_missing_layers_are_skipped(root: Path) -> None:
    _file(root, "base/a.txt", "a")
    _file(root, "extra/b.txt", "b")
    files = render_layers(root, ["base", "absent/layer", "extra"], {})
    assert [str(f.path) for f in files] == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("base/same.txt", "over/same.txt"),
        ("base/same.txt", "over/same.txt.jinja"),  # the rendered output path collides
        ("base/dot-env", "over/.env"),
    ],
)
def test_two_layers_providing_one_path_raise(root: Path, first: str, second: str) -> None:
    _file(root, first, "one")
    _file(root, second, "two")
    with pytest.raises(RuntimeError, match=r"both provide"):
        render_layers(root, ["base", "over"], {})


def test_pycache_in_templates_is_ignored(root: Path) -> None:
    _file(root, "base/pkg/__pycache__/mod.cpython-311.pyc", b"\0junk")
    _file(root, "base/pkg/mod.py", "x = 1\n")
    assert [str(f.path) for f in render_layers(root, ["base"], {})] == ["pkg/mod.py"]


@pytest.mark.parametrize("stack", STACKS, ids=[s.id for s in STACKS])
def test_layers_of_every_cell_name_existing_directories(stack) -> None:  # type: ignore[no-untyped-def]
    layers = layers_for(stack)
    assert layers[0] == "base"
    assert stack.design.value in layers[1]
    assert layers[-1] == f"package_manager/{stack.package_manager.value}"
    project = template_root() / "project"
    assert (project / "base").is_dir()


def test_path_key_in_the_first_segment_is_replaced(root: Path) -> None:
    _file(root, "base/__routes__/responses.py.jinja", "ok = {{ n }}\n")
    _file(root, "base/__connection__.py.jinja", "x = 1\n")
    paths = {"routes": "src/app/views", "connection": "src/app/models/database"}
    files = {str(f.path): f.content for f in render_layers(root, ["base"], {"n": 1}, paths)}
    assert files == {
        "src/app/views/responses.py": b"ok = 1\n",
        "src/app/models/database.py": b"x = 1\n",
    }


def test_python_dunder_names_and_deeper_segments_are_not_path_keys(root: Path) -> None:
    _file(root, "base/__init__.py.jinja", "")
    _file(root, "base/__main__.py", "")
    _file(root, "base/pkg/__routes__/a.py", "")
    paths = {"routes": "src/app/views"}
    rendered = {str(f.path) for f in render_layers(root, ["base"], {}, paths)}
    assert rendered == {"__init__.py", "__main__.py", "pkg/__routes__/a.py"}


def test_shared_template_colliding_with_a_cells_file_raises(root: Path) -> None:
    _file(root, "base/__routes__/responses.py", "shared")
    _file(root, "design/src/app/views/responses.py", "own")
    with pytest.raises(RuntimeError, match=r"both provide src/app/views/responses.py"):
        render_layers(root, ["base", "design"], {}, {"routes": "src/app/views"})
