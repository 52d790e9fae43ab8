"""The template tree itself: each template exists once, and its path keys name real places."""

from __future__ import annotations

import ast
import hashlib
import re
from collections import defaultdict
from importlib.resources.abc import Traversable
from pathlib import Path

from scaffold.generation.field_types import FIELD_TYPES, entity_imports, list_fields
from scaffold.generation.render import template_root
from scaffold.matrix import Design
from scaffold.project.entities import FieldType, parse_fields
from scaffold.project.layout import DEFAULT_ADD_PATHS, module_name, project_modules
from scaffold.project.layout import TEMPLATE_PATHS as PATHS

TEMPLATES = Path(str(template_root()))
# A segment ``__name__`` (with or without suffixes) that Python itself gives meaning to.
PYTHON_DUNDERS = {"__init__", "__main__"}
# Entity templates' own placeholders (scaffold/generation/entity.py).
ENTITY_PLACEHOLDERS = {"__entity__", "__plural__"}


def _files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    )


def identical_groups(root: Path) -> list[list[str]]:
    """Groups of two or more template files under ``root`` with the same bytes.

    Empty files are left out on purpose: they are placeholders that keep a directory in git
    (``migrations/.gitkeep`` of each ORM), carry nothing that could drift apart, and giving
    them one shared home would take a path key for an empty file.
    """
    by_digest: dict[str, list[str]] = defaultdict(list)
    for path in _files(root):
        data = path.read_bytes()
        if data:
            by_digest[hashlib.sha256(data).hexdigest()].append(str(path.relative_to(root)))
    return [group for group in by_digest.values() if len(group) > 1]


def test_no_two_template_files_are_identical() -> None:
    assert identical_groups(TEMPLATES) == []


def test_identical_files_are_found(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py.jinja").write_text("same\n")
    (tmp_path / "y.py.jinja").write_text("same\n")
    (tmp_path / "z.py.jinja").write_text("other\n")
    (tmp_path / "dot-gitkeep").write_bytes(b"")
    (tmp_path / "a" / "dot-gitkeep").write_bytes(b"")
    assert identical_groups(tmp_path) == [["a/x.py.jinja", "y.py.jinja"]]


def _layer_files(layer: Traversable) -> list[Path]:
    return [path.relative_to(Path(str(layer))) for path in _files(Path(str(layer)))]


def _project_layers() -> list[Path]:
    project = TEMPLATES / "project"
    return [path for path in project.glob("*/*") if path.is_dir()] + [project / "base"]


def _dunders(segment: str) -> list[str]:
    # ``test___entity___api`` holds ``__entity__``: a name starts with a letter.
    return re.findall(r"__[a-z][a-z0-9_]*?[a-z0-9]__", segment.partition(".")[0])


def test_project_path_keys_are_keys_of_every_design() -> None:
    keys = {key for design in Design for key in PATHS[design]}
    for design in Design:
        assert set(PATHS[design]) == keys, f"{design}: every path key needs a place"
    used = set()
    for layer in _project_layers():
        for relative in _layer_files(layer):
            first, *rest = relative.parts
            for dunder in _dunders(first):
                assert dunder in PYTHON_DUNDERS or dunder[2:-2] in keys, f"{layer}/{relative}"
                used.add(dunder[2:-2])
            for segment in rest:
                assert set(_dunders(segment)) <= PYTHON_DUNDERS, f"{layer}/{relative}: not first"
    assert used >= {"routes", "connection", "tables"}


def test_entity_placeholders_are_known() -> None:
    for relative in _layer_files(TEMPLATES / "entity"):
        for segment in relative.parts:
            assert set(_dunders(segment)) <= PYTHON_DUNDERS | ENTITY_PLACEHOLDERS, relative


def test_module_names_are_the_dotted_paths_below_src() -> None:
    assert {key: module_name(path) for key, path in PATHS[Design.MVC].items()} == {
        "routes": "app.views",
        "connection": "app.models.database",
        "tables": "app.models.models",
        "listing": "app.models.listing",
        "queries": "app.models.queries",
    }
    assert module_name("src/app/urls.py") == "app.urls"


def test_project_modules_move_with_the_add_path_they_are_in() -> None:
    root = Path("/project")
    paths = {key: root / path for key, path in DEFAULT_ADD_PATHS[Design.DDD].items()}
    assert project_modules(Design.DDD, root, paths) == {
        "routes": "app.presentation",
        "connection": "app.infrastructure.database.connection",
        "tables": "app.infrastructure.database.tables",
        "listing": "app.domain.listing",
        "queries": "app.infrastructure.database.queries",
    }
    paths["domain_path"] = root / "src/app/core"
    paths["database_table_path"] = root / "src/app/infrastructure/database/schema.py"
    moved = project_modules(Design.DDD, root, paths)
    assert (moved["listing"], moved["tables"]) == (
        "app.core.listing",
        "app.infrastructure.database.schema",
    )


# --- the field-type table and the templates that use it ----------------------------------


def test_every_field_type_has_one_row() -> None:
    assert list(FIELD_TYPES) == list(FieldType)


def test_entity_templates_take_type_facts_from_the_table_only() -> None:
    # A template that looks at a field's type carries its own mapping of types.
    for path in _files(TEMPLATES / "entity"):
        source = path.read_text()
        for pattern in (r"\bfield\.type\b", r'attribute="type"', r"\.type\.value"):
            assert not re.search(pattern, source), f"{path.relative_to(TEMPLATES)}: {pattern}"


def test_types_from_the_fields_module_are_defined_there() -> None:
    fields_py = TEMPLATES / "project" / "base" / "__routes__" / "fields.py.jinja"
    defined = {
        target.id
        for node in ast.parse(fields_py.read_text()).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for kind, spec in FIELD_TYPES.items():
        assert set(spec.fields_module_types()) <= defined, kind


def test_entity_imports_follow_first_use_and_leave_out_the_timestamps() -> None:
    imports = entity_imports(parse_fields("when:datetime price:decimal? meta:json name:str d:date"))
    # Dates are written dt.date, under the timestamps' own import, which templates write.
    assert imports.annotations == ("from decimal import Decimal", "from typing import Any")
    assert imports.contracts == ("import datetime as dt",)
    assert imports.fields_module == ("Numeric12_2", "DecimalValue", "JsonObject", "String255")
    assert imports.columns == ("DateTime", "Numeric", "JSON", "String", "Date")
    assert imports.tortoise == ("from typing import Any",)


def test_returned_value_of_a_datetime_is_in_utc() -> None:
    assert FIELD_TYPES[FieldType.DATETIME].returned("2024-05-17T10:30:00") == (
        "2024-05-17T10:30:00Z"
    )
    assert FIELD_TYPES[FieldType.JSON].returned({"a": 1}) == {"a": 1}


def test_list_fields_are_the_id_the_fields_and_the_timestamps() -> None:
    columns = list_fields(parse_fields("name:str price:decimal? meta:json"))
    assert [column.name for column in columns] == [
        "id",
        "name",
        "price",
        "meta",
        "created_at",
        "updated_at",
    ]
    assert [column.parser for column in columns] == [
        "row_id",
        "short_text",
        "decimal_12_2",
        None,  # json: neither filtered nor sorted on
        "utc_datetime",
        "utc_datetime",
    ]


def test_every_filter_parser_is_defined_in_list_query_and_has_a_refused_value() -> None:
    list_query = TEMPLATES / "project" / "base" / "__routes__" / "list_query.py.jinja"
    defined = set(re.findall(r"^def ([a-z][a-z0-9_]*)\(", list_query.read_text(), re.MULTILINE))
    every_type = parse_fields(" ".join(f"f_{kind.value}:{kind.value}" for kind in FieldType))
    for column in list_fields(every_type):
        if column.parser is not None:
            assert column.parser in defined, column
            assert column.invalid_filter is not None, column
