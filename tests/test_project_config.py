"""`[tool.robyn-config]` of a generated project: read, checked, updated (docs/design.md §3 add)."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from scaffold.errors import UsageError
from scaffold.matrix import Design, Orm, PackageManager
from scaffold.project.config import load_project
from scaffold.project.entities import IdType
from scaffold.project.layout import DEFAULT_ADD_PATHS
from tests.conftest import ProjectFactory


def write_pyproject(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def robyn_config(design: str = "ddd", orm: str = "sqlalchemy", manager: str = "uv") -> str:
    return (
        f'[project]\nname = "demo"\n\n[tool.robyn-config]\ndesign = "{design}"\n'
        f'orm = "{orm}"\npackage_manager = "{manager}"\ntemplate_version = "1"\n'
    )


def refused(root: Path) -> str:
    with pytest.raises(UsageError) as caught:
        load_project(root)
    message = caught.value.message
    assert "\n" not in message
    assert caught.value.exit_code == 2
    return message


# --- not a project --------------------------------------------------------------------------


def test_no_pyproject_is_not_a_robyn_config_project(tmp_path: Path) -> None:
    message = refused(tmp_path)
    assert "is not a robyn-config project" in message
    assert "no pyproject.toml" in message


def test_pyproject_without_the_table_is_not_a_robyn_config_project(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[project]\nname = "other"\n\n[tool.ruff]\nline-length = 100\n')
    message = refused(tmp_path)
    assert "is not a robyn-config project" in message
    assert "[tool.robyn-config]" in message


def test_missing_directory(tmp_path: Path) -> None:
    assert "is not a directory" in refused(tmp_path / "missing")


def test_malformed_pyproject_names_line_and_column(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[project]\nname = "demo"\nversion = = "1"\n')
    message = refused(tmp_path)
    assert "not valid TOML" in message
    assert "line 3" in message
    assert "column" in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[tool]\nrobyn-config = "ddd"\n', "[tool.robyn-config] in"),
        (robyn_config() + "add = 1\n", "[tool.robyn-config.add] in"),
        (robyn_config() + 'entities = "product"\n', "[tool.robyn-config.entities] in"),
    ],
    ids=["section", "add", "entities"],
)
def test_tables_that_are_not_tables(tmp_path: Path, text: str, where: str) -> None:
    write_pyproject(tmp_path, text)
    message = refused(tmp_path)
    assert where in message
    assert "must be a table" in message


# --- bad values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"design": "hexagonal"}, ["design", "'hexagonal'", "ddd, mvc"]),
        ({"orm": "django"}, ["orm", "'django'", "sqlalchemy, tortoise"]),
        ({"manager": "pip"}, ["package_manager", "'pip'", "uv, poetry"]),
    ],
)
def test_unknown_values_list_the_choices(
    tmp_path: Path, kwargs: dict[str, str], fragments: list[str]
) -> None:
    write_pyproject(tmp_path, robyn_config(**kwargs))
    message = refused(tmp_path)
    assert "[tool.robyn-config]" in message
    for fragment in fragments:
        assert fragment in message


def test_missing_design_is_refused_with_the_choices(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.robyn-config]\norm = "sqlalchemy"\npackage_manager = "uv"\n')
    assert "ddd, mvc" in refused(tmp_path)


@pytest.mark.parametrize(
    ("design", "key"),
    [("ddd", "views_path"), ("mvc", "presentation_path"), ("ddd", "typo_path")],
)
def test_unknown_key_in_the_add_table(tmp_path: Path, design: str, key: str) -> None:
    write_pyproject(tmp_path, robyn_config(design) + f'\n[tool.robyn-config.add]\n{key} = "x"\n')
    message = refused(tmp_path)
    assert f"Unknown key {key!r}" in message
    assert "[tool.robyn-config.add]" in message
    for expected in DEFAULT_ADD_PATHS[Design(design)]:
        assert expected in message


@pytest.mark.parametrize(
    "value", ["../elsewhere", "/tmp/x", "src/../../outside", "src/app/../../..", ""]
)
def test_a_configured_path_outside_the_project_is_refused(tmp_path: Path, value: str) -> None:
    root = tmp_path / "project"
    write_pyproject(root, robyn_config() + f'\n[tool.robyn-config.add]\ndomain_path = "{value}"\n')
    message = refused(root)
    assert "domain_path" in message
    if value:
        assert "leaves the project root" in message


def test_a_symlink_inside_the_project_that_leads_out_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    outside.mkdir()
    write_pyproject(root, robyn_config() + '\n[tool.robyn-config.add]\ndomain_path = "link"\n')
    (root / "link").symlink_to(outside)
    assert "leaves the project root" in refused(root)


# --- what is read ---------------------------------------------------------------------------


@pytest.mark.parametrize("design", list(Design))
def test_defaults_when_the_add_table_is_missing(tmp_path: Path, design: Design) -> None:
    write_pyproject(tmp_path, robyn_config(design.value, "tortoise", "poetry"))
    config = load_project(tmp_path)
    assert config.stack.design is design
    assert config.stack.orm is Orm.TORTOISE
    assert config.stack.package_manager is PackageManager.POETRY
    assert config.template_version == "1"
    assert config.entities == {}
    assert config.add_paths == {
        key: tmp_path / value for key, value in DEFAULT_ADD_PATHS[design].items()
    }


def test_configured_paths_and_entities_are_read(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        robyn_config("mvc")
        + '\n[tool.robyn-config.add]\nurls_path = "src/app/routing.py"\n'
        + '\n[tool.robyn-config.entities]\nproduct = "name:str price:decimal"\n',
    )
    config = load_project(tmp_path)
    assert config.add_paths["urls_path"] == tmp_path / "src/app/routing.py"
    assert config.add_paths["views_path"] == tmp_path / "src/app/views"
    assert config.entities == {"product": "name:str price:decimal"}


def test_a_project_reached_through_a_symlink(tmp_path: Path) -> None:
    real = write_pyproject(tmp_path / "real", robyn_config())
    link = tmp_path / "link"
    link.symlink_to(real)
    config = load_project(link)
    assert config.root == real.resolve()
    for path in config.add_paths.values():
        assert path.is_relative_to(config.root)


@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-tortoise-poetry"])
def test_a_created_project_is_read_with_its_defaults(
    new_project: ProjectFactory, stack_id: str
) -> None:
    root = new_project(stack_id)
    config = load_project(root)
    assert config.stack.id == stack_id
    assert config.add_paths == {
        key: root / value for key, value in DEFAULT_ADD_PATHS[config.stack.design].items()
    }
    assert config.template_version


# --- with_entity ----------------------------------------------------------------------------

COMMENTED = """\
# The operator's notes survive.
[project]
name    =   "demo"   # odd spacing kept
dependencies = [
    "robyn>=0.88",  # pinned by the matrix
]

[tool.robyn-config]
design = "ddd"
orm = "sqlalchemy"
package_manager = "uv"
template_version = "1"

[tool.robyn-config.add]
# defaults, written by create
domain_path = "src/app/domain"

[tool.pytest.ini_options]
testpaths = ['tests']   # single quotes kept
"""


def test_with_entity_records_the_entity_and_keeps_everything_else(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(COMMENTED)
    config = load_project(tmp_path)
    text = config.with_entity("product", "name:str price:decimal in_stock:bool")
    assert tomllib.loads(text)["tool"]["robyn-config"]["entities"] == {
        "product": "name:str price:decimal in_stock:bool"
    }
    added = '[tool.robyn-config.entities]\nproduct = "name:str price:decimal in_stock:bool"\n\n'
    assert text == COMMENTED.replace(
        "[tool.pytest.ini_options]", added + "[tool.pytest.ini_options]"
    )
    # The loaded document is not changed by computing the new text.
    assert (tmp_path / "pyproject.toml").read_text() == COMMENTED
    assert "entities" not in config.document["tool"]["robyn-config"]  # type: ignore[operator]


def test_with_entity_appends_to_an_existing_entities_table(tmp_path: Path) -> None:
    original = COMMENTED.replace(
        "[tool.pytest.ini_options]",
        '[tool.robyn-config.entities]\nproduct = "name:str"  # first\n\n[tool.pytest.ini_options]',
    )
    (tmp_path / "pyproject.toml").write_text(original)
    text = load_project(tmp_path).with_entity("order_item", "quantity:int note:text?")
    assert text == original.replace(
        'product = "name:str"  # first\n',
        'product = "name:str"  # first\norder_item = "quantity:int note:text?"\n',
    )


def test_with_entity_when_the_table_is_the_last_in_the_file(tmp_path: Path) -> None:
    original = robyn_config()
    (tmp_path / "pyproject.toml").write_text(original)
    text = load_project(tmp_path).with_entity("product", "name:str")
    assert text == original + '\n[tool.robyn-config.entities]\nproduct = "name:str"\n'


@pytest.mark.parametrize(
    "original",
    [COMMENTED, robyn_config(), robyn_config() + "\n# the operator's last comment\n"],
    ids=["table-between", "table-last", "comment-last"],
)
def test_without_entity_gives_back_the_text_before_with_entity(
    tmp_path: Path, original: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(original)
    added = load_project(tmp_path).with_entity("product", "name:str price:decimal")
    (tmp_path / "pyproject.toml").write_text(added)
    assert load_project(tmp_path).without_entity("product") == original


@pytest.mark.parametrize("removed", ["product", "order_item", "zebra"])
def test_without_entity_keeps_the_other_entities_as_they_are(tmp_path: Path, removed: str) -> None:
    entries = {
        "product": 'product = "name:str"  # first\n',
        "order_item": 'order_item = "quantity:int"\n',
        "zebra": "zebra = 'stripes:int'   # single quotes, two spaces\n",
    }
    table = "[tool.robyn-config.entities]\n" + "".join(entries.values())
    original = COMMENTED.replace("[tool.pytest.ini_options]", table + "\n[tool.pytest.ini_options]")
    (tmp_path / "pyproject.toml").write_text(original)
    text = load_project(tmp_path).without_entity(removed)
    assert text == original.replace(entries[removed], "")


# --- key types (docs/design.md §3 add, "The key") ----------------------------------------------


def test_a_project_without_id_type_has_int_keys(tmp_path: Path) -> None:
    config = load_project(write_pyproject(tmp_path, robyn_config()))
    assert config.id_type is IdType.INT
    assert config.id_types == {}
    assert config.entity_id_type("product") is IdType.INT


def test_the_service_default_and_each_entitys_key_type_are_read(tmp_path: Path) -> None:
    text = robyn_config() + 'id_type = "uuid"\n\n[tool.robyn-config.id_types]\ncustomer = "uuid"\n'
    config = load_project(write_pyproject(tmp_path, text))
    assert config.id_type is IdType.UUID
    assert config.entity_id_type("customer") is IdType.UUID
    # An entity not listed has an int key, whatever the service's default.
    assert config.entity_id_type("order") is IdType.INT


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('id_type = "long"\n', "id_type"),
        ('\n[tool.robyn-config.id_types]\ncustomer = "long"\n', "customer"),
    ],
    ids=["service", "entity"],
)
def test_an_unknown_key_type_is_refused_with_the_choices(
    tmp_path: Path, text: str, named: str
) -> None:
    message = refused(write_pyproject(tmp_path, robyn_config() + text))
    assert named in message
    assert "'long'" in message
    assert "int, uuid" in message


def test_with_entity_records_a_uuid_key_and_without_entity_takes_it_back(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(COMMENTED)
    states = [COMMENTED]
    for module, key in [("customer", IdType.UUID), ("order", IdType.INT), ("tag", IdType.UUID)]:
        text = load_project(tmp_path).with_entity(module, "name:str", key)
        (tmp_path / "pyproject.toml").write_text(text)
        states.append(text)
    section = tomllib.loads(states[-1])["tool"]["robyn-config"]
    assert section["id_types"] == {"customer": "uuid", "tag": "uuid"}
    assert list(section["entities"]) == ["customer", "order", "tag"]
    config = load_project(tmp_path)
    assert [config.entity_id_type(m) for m in ("customer", "order")] == [IdType.UUID, IdType.INT]
    # add-fields keeps the recorded key type.
    grown = config.with_entity("customer", "name:str phone:str?")
    assert tomllib.loads(grown)["tool"]["robyn-config"]["id_types"]["customer"] == "uuid"
    # Each remove gives back the text before its add, the emptied tables going too.
    for module, before in zip(["tag", "order", "customer"], reversed(states[:-1]), strict=True):
        text = load_project(tmp_path).without_entity(module)
        assert text == before
        (tmp_path / "pyproject.toml").write_text(text)


def test_a_created_project_records_its_default_key_type(
    tmp_path: Path, lock_calls: list[object]
) -> None:
    from scaffold.matrix import Stack
    from scaffold.operations.create import create_project

    for key in IdType:
        target = tmp_path / key.value
        create_project(
            name="demo", stack=Stack.from_id("mvc-tortoise-uv"), destination=target, id_type=key
        )
        assert load_project(target).id_type is key
