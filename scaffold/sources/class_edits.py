"""Edits inside one top-level class of existing Python source, for `add-fields`.

Like the edits of `scaffold.sources.edits`, each is idempotent, touches only the class it is
about and keeps every other line of the file (the operator's comments and layout included);
a file without the class raises `SourceShapeError` and nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from scaffold.sources.edits import SourceEdit, SourceShapeError

__all__ = [
    "EnsureClassFields",
    "InsertClassBefore",
    "ReplaceClass",
    "class_attributes",
    "class_code",
    "class_names",
]

_DOCSTRING = "<docstring>"  # the key of a class's docstring among its attribute names


def _top_level_class(module: cst.Module, name: str) -> tuple[int, cst.ClassDef] | None:
    for index, statement in enumerate(module.body):
        if isinstance(statement, cst.ClassDef) and statement.name.value == name:
            return index, statement
    return None


def _assigned_name(statement: cst.BaseStatement) -> str | None:
    """The name a line of a class body assigns (``name: T = ...``, ``name = ...``), else None."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    node = statement.body[0]
    if isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
        return node.target.value
    if isinstance(node, cst.Assign) and len(node.targets) == 1:
        target = node.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(node, cst.Expr) and isinstance(node.value, cst.SimpleString):
        return _DOCSTRING
    return None


def _body(node: cst.ClassDef, filename: str) -> list[cst.BaseStatement]:
    if not isinstance(node.body, cst.IndentedBlock):
        raise SourceShapeError(
            f"{filename} defines class {node.name.value!r} on one line; "
            "expected an indented class body."
        )
    return list(node.body.body)


def _rendered_class(source: str, name: str) -> cst.ClassDef:
    found = _top_level_class(cst.parse_module(source), name)
    if found is None:
        raise ValueError(f"The rendered source has no class {name!r}.")
    return found[1]


def class_attributes(source: str, name: str) -> frozenset[str] | None:
    """The names class ``name`` of ``source`` assigns in its body; None without the class."""
    found = _top_level_class(cst.parse_module(source), name)
    if found is None:
        return None
    names = {_assigned_name(statement) for statement in _body(found[1], name)}
    return frozenset(item for item in names if item not in (None, _DOCSTRING))


def class_names(source: str) -> list[str]:
    """The names of the top-level classes of ``source``, in order."""
    module = cst.parse_module(source)
    return [node.name.value for node in module.body if isinstance(node, cst.ClassDef)]


def class_code(source: str, name: str) -> str | None:
    """The source of the top-level class ``name`` (without the lines above it), or None."""
    found = _top_level_class(cst.parse_module(source), name)
    if found is None:
        return None
    return cst.Module(body=[found[1].with_changes(leading_lines=[])]).code


def _missing_class(filename: str, name: str) -> SourceShapeError:
    return SourceShapeError(
        f"{filename} has no top-level class {name!r}; restore it (or its name) first."
    )


@dataclass(frozen=True)
class EnsureClassFields(SourceEdit):
    """The attribute lines of ``fields`` from class ``name`` in ``source``, added to the
    module's class ``name`` where it lacks them.

    Each line goes right after the line its predecessor in ``source`` has in the module's
    class, so a class as generated becomes the class generated with the new fields; a class
    the operator changed keeps every line of theirs where it is.
    """

    name: str
    source: str  # a module holding class ``name`` with every field
    fields: tuple[str, ...]

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        found = _top_level_class(module, self.name)
        if found is None:
            raise _missing_class(filename, self.name)
        index, target = found
        statements = _body(target, filename)
        keys = [_assigned_name(statement) for statement in statements]
        anchor: int | None = None
        for statement in _body(_rendered_class(self.source, self.name), "the rendered source"):
            key = _assigned_name(statement)
            if key is None:
                continue
            if key in keys:
                anchor = keys.index(key)
            elif key in self.fields:
                position = len(statements) if anchor is None else anchor + 1
                statements.insert(position, statement.with_changes(leading_lines=[]))
                keys.insert(position, key)
                anchor = position
        if len(statements) == len(target.body.body):
            return module
        body = list(module.body)
        body[index] = target.with_changes(body=target.body.with_changes(body=statements))
        return module.with_changes(body=body)


@dataclass(frozen=True)
class ReplaceClass(SourceEdit):
    """The top-level class ``name`` replaced by the one in ``source``; the blank lines and
    comments above it, and the rest of the file, stay."""

    name: str
    source: str  # a module holding the new class ``name``

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        found = _top_level_class(module, self.name)
        if found is None:
            raise _missing_class(filename, self.name)
        index, old = found
        new = _rendered_class(self.source, self.name).with_changes(leading_lines=old.leading_lines)
        if old.deep_equals(new):
            return module
        body = list(module.body)
        body[index] = new
        return module.with_changes(body=body)


@dataclass(frozen=True)
class InsertClassBefore(SourceEdit):
    """The class ``name`` of ``source`` inserted right before the top-level class ``before``
    (after any comments above that one stay with it), unless the module has a class ``name``.

    `add` appends a snippet's classes in order; a class that only a later `add-fields` needs
    (``ConflictError`` for a first unique field) lands where `add` would have put it.
    """

    name: str
    source: str
    before: str

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        if _top_level_class(module, self.name) is not None:
            return module
        found = _top_level_class(module, self.before)
        if found is None:
            raise _missing_class(filename, self.before)
        blank = [cst.EmptyLine(), cst.EmptyLine()]
        new = _rendered_class(self.source, self.name).with_changes(leading_lines=blank)
        body = list(module.body)
        body.insert(found[0], new)
        return module.with_changes(body=body)
