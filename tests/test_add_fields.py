"""`add-fields` in-process, for every design-ORM pair (docs/design.md §3 add-fields).

Projects are made with `create_project` and a fake lock (``new_project``); `add` and
`add-fields` run for real (templates, libcst edits, ruff, git merge-file). The contract: the
project afterwards is the project `add` makes with every field at once (the operator's own
lines kept where they were), nothing else changes, every refusal writes nothing.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from scaffold.errors import OperationFailed, UsageError
from scaffold.operations.add import add_entity
from scaffold.operations.add_fields import AddFieldsResult, add_fields
from scaffold.project.entity_files import file_digest, read_record
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import RUFF, git, manifest
from tests.write_faults import fail_nth_write

PAIRS = ["ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv"]
FIRST = "name:str price:decimal"
NEW = "phone:str? stock:int=0 sku:str:index=none"
TABLES = {
    "ddd": "src/app/infrastructure/database/tables.py",
    "mvc": "src/app/models/models.py",
}
CONTRACTS = {
    "ddd": "src/app/presentation/product/contracts.py",
    "mvc": "src/app/views/product.py",
}
# What add-fields modifies for the fields of NEW, by design.
MODIFIED = {
    "ddd": {
        ".robyn-config/product.toml",
        "pyproject.toml",
        "src/app/domain/product/entities.py",
        "src/app/infrastructure/database/repository/product.py",
        "src/app/infrastructure/database/tables.py",
        "src/app/presentation/product/contracts.py",
        "src/app/presentation/product/routes.py",
        "tests/test_product_api.py",
    },
    "mvc": {
        ".robyn-config/product.toml",
        "pyproject.toml",
        "src/app/models/models.py",
        "src/app/views/product.py",
        "tests/test_product_api.py",
    },
}


def with_product(new_project: ProjectFactory, stack_id: str, fields: str = FIRST) -> Path:
    """A project holding the committed entity ``product``."""
    project = new_project(stack_id)
    add_entity(project=project, entity="product", fields=fields)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add product")
    return project


def relative(project: Path, paths: list[Path]) -> set[str]:
    return {path.relative_to(project).as_posix() for path in paths}


def without_git(project: Path) -> dict[str, tuple[str, int]]:
    return {path: entry for path, entry in manifest(project).items() if not path.startswith(".git")}


def ruff_passes(project: Path) -> None:
    for args in (("check", "--no-cache", "."), ("format", "--no-cache", "--check", ".")):
        completed = subprocess.run([RUFF, *args], cwd=project, capture_output=True, text=True)
        assert completed.returncode == 0, completed.stdout + completed.stderr


def refused(project: Path, fragment: str, **arguments: object) -> str:
    """add-fields refuses with a UsageError holding ``fragment`` and writes nothing."""
    before = tree_state(project)
    with pytest.raises(UsageError) as caught:
        add_fields(project=project, **arguments)  # type: ignore[arg-type]
    assert fragment in caught.value.message, caught.value.message
    assert "\n" not in caught.value.message
    assert tree_state(project) == before
    return caught.value.message


# --- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack_id", PAIRS)
def test_add_fields_makes_the_project_add_makes_with_every_field(
    new_project: ProjectFactory, stack_id: str, tmp_path: Path
) -> None:
    design = stack_id.split("-")[0]
    project = with_product(new_project, stack_id)
    result = add_fields(project=project, entity="product", fields=NEW)

    assert isinstance(result, AddFieldsResult)
    assert [item.name for item in result.added] == ["phone", "stock", "sku"]
    assert relative(project, result.modified) == MODIFIED[design]
    assert result.merged == []
    once = new_project(stack_id, destination=tmp_path / "at-once")
    add_entity(project=once, entity="product", fields=f"{FIRST} {NEW}")
    assert without_git(project) == without_git(once)
    # The changes are left uncommitted for review; the record lists the files as written.
    status = git(project, "status", "--porcelain").splitlines()
    assert {line[3:] for line in status} == MODIFIED[design]
    record = read_record(project, "product")
    assert record is not None
    for path, digest in record.items():
        assert file_digest(path.read_bytes()) == digest, path
    ruff_passes(project)


@pytest.mark.parametrize("stack_id", ["mvc-sqlalchemy-uv", "mvc-tortoise-uv"])
def test_a_first_unique_field_gives_mvc_what_add_gives_at_once(
    new_project: ProjectFactory, stack_id: str, tmp_path: Path
) -> None:
    project = with_product(new_project, stack_id)
    result = add_fields(project=project, entity="product", fields="code:str?:unique phone:str?")
    assert "src/app/models/repository.py" in relative(project, result.modified)
    once = new_project(stack_id, destination=tmp_path / "at-once")
    add_entity(project=once, entity="product", fields=f"{FIRST} code:str?:unique phone:str?")
    assert without_git(project) == without_git(once)


@pytest.mark.parametrize("stack_id", ["ddd-tortoise-uv", "mvc-sqlalchemy-uv"])
def test_only_the_new_column_lines_are_added_to_the_tables_module(
    new_project: ProjectFactory, stack_id: str
) -> None:
    design = stack_id.split("-")[0]
    project = with_product(new_project, stack_id)
    add_entity(project=project, entity="order", fields="total:int")
    table = project / TABLES[design]
    table.write_text(table.read_text() + "\n\n# The operator's note at the end.\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add order, a note")
    before = table.read_text().splitlines()
    add_fields(project=project, entity="product", fields=NEW)
    after = table.read_text().splitlines()
    added = [line.split(":")[0].split("=")[0].strip() for line in after if line not in before]
    assert added == ["phone", "stock", "sku"]
    assert [line for line in after if line in before] == before


@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"])
def test_the_operator_s_change_to_a_generated_file_is_kept_and_the_fields_merged_in(
    new_project: ProjectFactory, stack_id: str
) -> None:
    design = stack_id.split("-")[0]
    project = with_product(new_project, stack_id)
    contracts = project / CONTRACTS[design]
    mine = contracts.read_text().replace(
        '"""The body of ``POST``."""', '"""The body of ``POST``, as our clients send it."""'
    )
    mine += '\n\n# The operator\'s helper.\ndef describe() -> str:\n    return "products"\n'
    contracts.write_text(mine)
    git(project, "commit", "-q", "-am", "my contracts")
    recorded = read_record(project, "product")
    assert recorded is not None

    result = add_fields(project=project, entity="product", fields=NEW)
    assert relative(project, result.merged) == {CONTRACTS[design]}
    text = contracts.read_text()
    assert "as our clients send it" in text and "def describe() -> str:" in text
    for line in ("phone: String255 | None = None", "stock: Int32 = 0", 'sku: String255 = "none"'):
        assert line in text
    # Still the operator's file for remove: its recorded digest is the one add wrote.
    after = read_record(project, "product")
    assert after is not None and after[contracts] == recorded[contracts]
    ruff_passes(project)


def test_a_new_unique_field_regenerates_mvc_s_repository_class(new_project: ProjectFactory) -> None:
    project = with_product(new_project, "mvc-tortoise-uv")
    repository = project / "src/app/models/repository.py"
    result = add_fields(project=project, entity="product", fields="code:str?:unique")
    assert "src/app/models/repository.py" in relative(project, result.modified)
    text = repository.read_text()
    assert 'unique_fields = ("code",)' in text and "class ConflictError(ValueError):" in text
    assert "from tortoise.exceptions import IntegrityError" in text
    ruff_passes(project)


def test_a_unique_field_beside_another_entity_s_conflict_error(
    new_project: ProjectFactory,
) -> None:
    project = with_product(new_project, "mvc-sqlalchemy-uv")
    add_entity(project=project, entity="customer", fields="email:str:unique")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add customer")
    add_fields(project=project, entity="product", fields="code:str?:unique")
    text = (project / "src/app/models/repository.py").read_text()
    assert text.count("class ConflictError(ValueError):") == 1
    assert 'select(table.c.id).where(table.c.code == bindparam("value"))' in text
    ruff_passes(project)


def test_a_changed_mvc_repository_class_is_not_regenerated(new_project: ProjectFactory) -> None:
    project = with_product(new_project, "mvc-sqlalchemy-uv")
    repository = project / "src/app/models/repository.py"
    repository.write_text(
        repository.read_text().replace(
            "    async def delete(", "    # the operator's note\n    async def delete("
        )
    )
    git(project, "commit", "-q", "-am", "a note")
    refused(
        project,
        "The class ProductRepository in src/app/models/repository.py changed since add",
        entity="product",
        fields="code:str?:unique",
    )
    # Fields that are not unique leave that class alone.
    add_fields(project=project, entity="product", fields="phone:str?")


def test_a_second_add_fields_adds_to_the_first(new_project: ProjectFactory, tmp_path: Path) -> None:
    project = with_product(new_project, "ddd-tortoise-uv")
    add_fields(project=project, entity="product", fields="phone:str?")
    git(project, "commit", "-q", "-am", "phone")
    add_fields(project=project, entity="Product", fields="born:date? active:bool=true")
    spec = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["robyn-config"]
    assert spec["entities"]["product"] == f"{FIRST} phone:str? born:date? active:bool=true"
    once = new_project("ddd-tortoise-uv", destination=tmp_path / "at-once")
    add_entity(project=once, entity="product", fields=spec["entities"]["product"])
    assert without_git(project) == without_git(once)


def test_dry_run_reports_the_diffs_and_writes_nothing(new_project: ProjectFactory) -> None:
    project = with_product(new_project, "mvc-sqlalchemy-uv")
    (project / "README.md").write_text("dirty\n")  # a dry run is allowed on a dirty tree
    before = tree_state(project)
    result = add_fields(project=project, entity="product", fields=NEW, dry_run=True)
    assert tree_state(project) == before
    assert result.dry_run and relative(project, result.modified) == MODIFIED["mvc"]
    assert "+    phone = fields" not in "".join(result.diffs.values())
    assert "+    phone: Mapped[str | None]" in result.diffs[project / TABLES["mvc"]]


def test_allow_dirty_keeps_the_operator_s_uncommitted_work(new_project: ProjectFactory) -> None:
    project = with_product(new_project, "ddd-sqlalchemy-uv")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nmine\n")
    add_fields(project=project, entity="product", fields=NEW, allow_dirty=True)
    assert readme.read_text().endswith("\nmine\n")


# --- bad input: one sentence, nothing written --------------------------------------------------


@pytest.fixture
def project(new_project: ProjectFactory) -> Path:
    return with_product(new_project, "ddd-sqlalchemy-uv")


@pytest.mark.parametrize("fields", [None, "", "  ", ","])
def test_no_fields_is_refused(project: Path, fields: str | None) -> None:
    refused(project, "add-fields needs the fields to add", entity="product", fields=fields)


def test_an_entity_that_does_not_exist_is_refused(project: Path) -> None:
    message = refused(project, "The entity 'order' does not exist", entity="order", fields=NEW)
    assert "entities: product" in message and "robyn-config add order" in message


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ("name:str?", "already has the field 'name'"),
        ("phone:str? price:int=1 name:text?", "already has the fields 'price', 'name'"),
        ("stock:int", "Field 'stock' is required, but the rows the table already holds"),
        ("stock:int", "give it a default or make it optional ('stock:int?')"),
        ("sku:str:unique=none", "Field 'sku' is unique and has a default"),
        ("sku:str?:unique=none", "make it optional ('sku:str?:unique')"),
        ("sku:str:unique", "Field 'sku' is required and unique"),
        ("phone:str? phone:str?", "Field 'phone' is given twice"),
        ("phone:string?", "Unknown type 'string'"),
        ("id:int=0", "Field 'id' is reserved"),
        ("stock:int=ten", "Invalid default 'ten'"),
    ],
)
def test_bad_fields_are_refused(project: Path, fields: str, fragment: str) -> None:
    refused(project, fragment, entity="product", fields=fields)


# --- references (docs/design.md §3 add-fields) ---------------------------------------------


def with_customer(project: Path) -> Path:
    add_entity(project=project, entity="customer")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add customer")
    return project


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ("maker:ref?", "Field 'maker' refers to 'maker', which is not an entity of this service"),
        ("maker:ref(supplier)?", "add it first with 'robyn-config add supplier'"),
        ("config:ref(settings)?", "'settings', which is not an entity of this service"),
        ("customer:ref", "is a required reference, but the rows the table already holds"),
        ("customer:ref:cascade", "make it nullable ('customer:ref?:cascade')"),
        ("parent:ref(product)", "refers to 'product' itself and is required"),
    ],
)
def test_a_reference_add_fields_cannot_add_is_refused(
    project: Path, fields: str, fragment: str
) -> None:
    refused(with_customer(project), fragment, entity="product", fields=fields)


def test_a_nullable_reference_to_another_entity_and_to_itself(project: Path) -> None:
    with_customer(project)
    fields = "customer:ref?:set-null parent:ref(product)?"
    result = add_fields(project=project, entity="product", fields=fields)
    assert [item.column for item in result.added] == ["customer_id", "parent_id"]
    entities = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["robyn-config"]
    assert entities["entities"]["product"] == f"{FIRST} {fields}"


@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-sqlalchemy-uv"])
def test_a_new_reference_gives_what_add_gives_at_once(
    new_project: ProjectFactory, stack_id: str, tmp_path: Path
) -> None:
    project = with_customer(new_project(stack_id))
    add_entity(project=project, entity="product", fields=FIRST)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add product")
    result = add_fields(project=project, entity="product", fields="maker:ref(customer)? note:text?")
    assert TABLES[stack_id.split("-")[0]] in relative(project, result.modified)
    once = with_customer(new_project(stack_id, destination=tmp_path / "at-once"))
    add_entity(project=once, entity="product", fields=f"{FIRST} maker:ref(customer)? note:text?")
    assert without_git(project) == without_git(once)
    ruff_passes(project)


@pytest.mark.parametrize(
    ("first", "fields", "fragment"),
    [
        (
            f"{FIRST} customer:ref?",
            "customer_id:int?",
            "Field 'customer_id' would clash with the column customer_id of the reference "
            "'customer' that 'product' has",
        ),
        (
            f"{FIRST} customer_id:int",
            "customer:ref?",
            "Field 'customer' is a reference whose column customer_id is the field "
            "'customer_id' that 'product' has",
        ),
        (f"{FIRST} customer:ref?", "customer:ref?", "already has the field 'customer'"),
    ],
)
def test_a_field_on_the_column_of_another_is_refused(
    new_project: ProjectFactory, first: str, fields: str, fragment: str
) -> None:
    project = with_customer(new_project("ddd-sqlalchemy-uv"))
    add_entity(project=project, entity="product", fields=first)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add product")
    refused(project, fragment, entity="product", fields=fields)


def test_a_table_class_that_already_has_the_reference_s_column_is_refused(project: Path) -> None:
    with_customer(project)
    table = project / TABLES["ddd"]
    table.write_text(
        table.read_text().replace(
            "    created_at: Mapped",
            "    customer_id: Mapped[int] = mapped_column(Integer)\n    created_at: Mapped",
        )
    )
    git(project, "commit", "-q", "-am", "my own column")
    refused(project, "already has 'customer_id'", entity="product", fields="customer:ref?")


@pytest.mark.parametrize("stack_id", ["ddd-tortoise-uv", "mvc-tortoise-uv"])
def test_a_reference_is_refused_in_a_tortoise_service(
    new_project: ProjectFactory, stack_id: str
) -> None:
    # docs/decisions.md, "No new reference on a Tortoise table".
    project = with_customer(with_product(new_project, stack_id))
    message = refused(
        project,
        "Field 'customer' is a reference, which add-fields cannot add to an existing table "
        "in a Tortoise service",
        entity="product",
        fields="phone:str? customer:ref?",
    )
    assert "ADD CONSTRAINT" in message and "SQLite" in message
    add_fields(project=project, entity="product", fields="phone:str?")


def test_a_dirty_tree_is_refused(project: Path) -> None:
    (project / "notes.txt").write_text("mine\n")
    refused(project, "uncommitted changes: notes.txt", entity="product", fields=NEW)


def test_a_table_class_that_already_has_the_column_is_refused(project: Path) -> None:
    table = project / TABLES["ddd"]
    table.write_text(
        table.read_text().replace(
            "    created_at: Mapped",
            "    phone: Mapped[str] = mapped_column(String(40))\n    created_at: Mapped",
        )
    )
    git(project, "commit", "-q", "-am", "my phone column")
    refused(project, "The class ProductTable in", entity="product", fields=NEW)


def test_a_missing_table_class_is_refused(project: Path) -> None:
    table = project / TABLES["ddd"]
    table.write_text(table.read_text().replace("class ProductTable(", "class Goods("))
    git(project, "commit", "-q", "-am", "renamed")
    refused(project, "has no class 'ProductTable'", entity="product", fields=NEW)


def test_a_missing_generated_file_is_refused(project: Path) -> None:
    git(project, "rm", "-q", "tests/test_product_api.py")
    git(project, "commit", "-q", "-m", "no tests")
    refused(project, "'tests/test_product_api.py', generated by add", entity="product", fields=NEW)


def test_overlapping_operator_changes_are_refused_naming_the_files(project: Path) -> None:
    contracts = project / CONTRACTS["ddd"]
    contracts.write_text(
        contracts.read_text().replace(
            "    price: Numeric12_2\n", "    price: Numeric12_2\n    colour: String255 = 'red'\n", 1
        )
    )
    git(project, "commit", "-q", "-am", "colour")
    message = refused(
        project, f"'{CONTRACTS['ddd']}' changed since add", entity="product", fields=NEW
    )
    assert "undo your changes there first" in message


# --- failures while writing: the tree as it was -------------------------------------------------


def test_each_write_failing_restores_the_tree(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = len(MODIFIED["ddd"])
    for number in range(count):
        before = tree_state(project)
        with monkeypatch.context() as patch:
            fail_nth_write(patch, number, OSError(28, "No space left on device"), partial=True)
            with pytest.raises(OperationFailed, match=r"No space left on device.*Rolled back"):
                add_fields(project=project, entity="product", fields=NEW)
        assert tree_state(project) == before, number


def test_ctrl_c_while_writing_restores_the_tree(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scaffold.errors import Interrupted

    before = tree_state(project)
    with monkeypatch.context() as patch:
        fail_nth_write(patch, 3, KeyboardInterrupt(), partial=False)
        with pytest.raises(Interrupted, match="Rolled back"):
            add_fields(project=project, entity="product", fields=NEW)
    assert tree_state(project) == before


def test_a_service_made_before_the_list_modules_is_refused(new_project: ProjectFactory) -> None:
    project = with_product(new_project, "ddd-tortoise-uv")
    git(project, "rm", "-q", "src/app/presentation/list_query.py")
    git(project, "commit", "-q", "-m", "as an older robyn-config made it")
    refused(project, "it lacks src/app/presentation/list_query.py;", entity="product", fields=NEW)
