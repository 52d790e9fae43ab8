"""Edits of existing Python source with libcst: one small transformer per kind of edit.

Every edit is idempotent (applying it twice changes nothing), touches only the construct it
is about, and keeps the operator's comments and formatting elsewhere. When a file does not
have the expected shape, nothing is changed and `SourceShapeError` names the file and the
construct that was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import libcst as cst

from scaffold.errors import UsageError

__all__ = [
    "AppendClass",
    "EnsureAllEntry",
    "EnsureImport",
    "EnsureModuleImport",
    "EnsureRegisterCall",
    "MergeSnippet",
    "RemoveAllEntry",
    "RemoveClass",
    "RemoveImport",
    "RemoveModuleImport",
    "RemoveRegisterCall",
    "SourceEdit",
    "SourceShapeError",
    "UnmergeSnippet",
    "apply_edits",
]


class SourceShapeError(UsageError):
    """An existing file lacks the construct an edit needs."""


class SourceEdit:
    """One kind of edit; ``apply`` returns the new module (the same object when unchanged)."""

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        raise NotImplementedError

    def inverse(self) -> SourceEdit:
        """The edit that takes out what this one put in (`remove` undoes `add` with these)."""
        raise NotImplementedError


def _is_sorted(names: Sequence[str]) -> bool:
    return list(names) == sorted(names)


def _alias_name(alias: cst.ImportAlias) -> str:
    return cst.Module([]).code_for_node(alias.name)


_SPACE_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
Item = TypeVar("Item", cst.ImportAlias, cst.Element)


def _line_break(indent: cst.SimpleWhitespace) -> cst.Comma:
    return cst.Comma(
        whitespace_after=cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(), indent=True, last_line=indent
        )
    )


def _insert_item(
    items: list[Item],
    new: Item,
    keys: Sequence[str | None],
    key: str,
    opening: cst.BaseParenthesizableWhitespace,
) -> list[Item]:
    """Insert ``new`` in sorted position when ``items`` are sorted, else at the end.

    ``opening`` is the whitespace after the opening bracket: when it breaks the line, the
    items are laid out one per line and the new one follows that layout; comments stay
    with the item they were written after.
    """
    result = list(items)
    strings = [k for k in keys if k is not None]
    position = len(result)
    if len(strings) == len(keys) and _is_sorted(strings):
        position = sum(1 for existing in strings if existing < key)
    indent = opening.last_line if isinstance(opening, cst.ParenthesizedWhitespace) else None
    separator = _line_break(indent) if indent is not None else _SPACE_COMMA
    if position < len(result):
        result.insert(position, new.with_changes(comma=separator))
        return result
    if not result:
        return [new]
    last = result[-1]
    last_comma = last.comma
    if indent is not None and isinstance(last_comma, cst.Comma):
        closing = last_comma.whitespace_after
        if isinstance(closing, cst.ParenthesizedWhitespace):
            # The trailing comma carries the line break before the bracket (imports).
            result[-1] = last.with_changes(
                comma=last_comma.with_changes(
                    whitespace_after=closing.with_changes(last_line=indent)
                )
            )
            result.append(new.with_changes(comma=_line_break(closing.last_line)))
        else:
            # The closing bracket carries it (lists): the new item takes the trailing comma.
            result[-1] = last.with_changes(comma=separator)
            result.append(new.with_changes(comma=last_comma))
    elif isinstance(last_comma, cst.Comma):
        result[-1] = last.with_changes(comma=separator)
        result.append(new.with_changes(comma=cst.Comma()))
    else:
        result[-1] = last.with_changes(comma=separator)
        result.append(new)
    return result


def _remove_item(items: list[Item], index: int) -> list[Item]:
    """``items`` without the one at ``index``: the inverse of `_insert_item`.

    An item inserted before others brought its own comma, so it goes with it. The last item
    took over the line break (or the lack of a comma) before the closing bracket from the
    one before it, which gets it back; a comment on that one's line stays.
    """
    result = list(items)
    removed = result.pop(index)
    if index < len(result) or not result:
        return result
    previous = result[-1]
    previous_comma, removed_comma = previous.comma, removed.comma
    if (
        isinstance(previous_comma, cst.Comma)
        and isinstance(removed_comma, cst.Comma)
        and isinstance(previous_comma.whitespace_after, cst.ParenthesizedWhitespace)
        and isinstance(removed_comma.whitespace_after, cst.ParenthesizedWhitespace)
    ):
        closing = removed_comma.whitespace_after.last_line
        whitespace = previous_comma.whitespace_after.with_changes(last_line=closing)
        result[-1] = previous.with_changes(
            comma=previous_comma.with_changes(whitespace_after=whitespace)
        )
    else:
        result[-1] = previous.with_changes(comma=removed_comma)
    return result


class _NameUses(cst.CSTVisitor):
    """The names a module uses outside its import statements."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _used_names(module: cst.Module) -> set[str]:
    uses = _NameUses()
    module.visit(uses)
    return uses.names


# Plain isinstance checks rather than libcst.matchers: importing the matchers costs more
# than the rest of `add` (hundreds of dataclasses built at import time).
def _only(statement: cst.CSTNode) -> cst.BaseSmallStatement | None:
    """The one small statement of a line like ``import x`` or ``pass``, else None."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        return statement.body[0]
    return None


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(_only(statement), cst.Import | cst.ImportFrom)


def _is_docstring(statement: cst.CSTNode) -> bool:
    node = _only(statement)
    return isinstance(node, cst.Expr) and isinstance(node.value, cst.SimpleString)


def _is_placeholder(statement: cst.CSTNode) -> bool:
    """``pass`` or ``...``, which an empty registry function holds."""
    node = _only(statement)
    return isinstance(node, cst.Pass) or (
        isinstance(node, cst.Expr) and isinstance(node.value, cst.Ellipsis)
    )


def _is_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _is_register_call(statement: cst.CSTNode, target: str) -> bool:
    """``<target>.register(...)`` on a line of its own."""
    node = _only(statement)
    if not (isinstance(node, cst.Expr) and isinstance(node.value, cst.Call)):
        return False
    func = node.value.func
    return (
        isinstance(func, cst.Attribute)
        and _is_name(func.value, target)
        and _is_name(func.attr, "register")
    )


def _all_assignment(statement: cst.CSTNode) -> cst.Assign | cst.AnnAssign | None:
    """The assignment in ``__all__ = [...]`` (or ``(...)``, or annotated), else None."""
    node = _only(statement)
    if isinstance(node, cst.Assign):
        named = len(node.targets) == 1 and _is_name(node.targets[0].target, "__all__")
    elif isinstance(node, cst.AnnAssign):
        named = _is_name(node.target, "__all__")
    else:
        return None
    return node if named and isinstance(node.value, cst.List | cst.Tuple) else None


def _after_imports(body: Sequence[cst.BaseStatement]) -> int:
    """The index just after the last top-level import (or the docstring), where names go."""
    position = 0
    for index, statement in enumerate(body):
        if _is_import(statement):
            position = index + 1
        elif index == 0 and _is_docstring(statement):
            position = 1
    return position


def _with_import(
    module: cst.Module,
    body: list[cst.SimpleStatementLine | cst.BaseCompoundStatement],
    statement: cst.SimpleStatementLine | cst.BaseCompoundStatement,
) -> cst.Module:
    """``module`` with the import ``statement`` after its imports (ruff sorts it later)."""
    position = _after_imports(body)
    if position and not _is_import(body[position - 1]):
        statement = statement.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, statement)
    return module.with_changes(body=body)


def _opening(sequence: cst.List | cst.Tuple) -> cst.BaseParenthesizableWhitespace:
    if isinstance(sequence, cst.List):
        return sequence.lbracket.whitespace_after
    return sequence.lpar[0].whitespace_after if sequence.lpar else cst.SimpleWhitespace("")


def _comment_to_last_item(
    sequence: cst.List | cst.Tuple, elements: list[cst.Element]
) -> tuple[cst.List | cst.Tuple, list[cst.Element]]:
    """Move the line break before the closing bracket onto the last item's comma.

    libcst gives a comment written after the last item (``"B",  # last``) to the closing
    bracket; an item appended after it would take the comment over. On the comma it stays
    with the item it was written after. The source text is unchanged by the move.
    """
    if isinstance(sequence, cst.List):
        closing = sequence.rbracket.whitespace_before
    elif sequence.rpar:
        closing = sequence.rpar[-1].whitespace_before
    else:
        return sequence, elements
    if not elements or not isinstance(closing, cst.ParenthesizedWhitespace):
        return sequence, elements
    last = elements[-1]
    comma = last.comma if isinstance(last.comma, cst.Comma) else cst.Comma()
    if not isinstance(comma.whitespace_after, cst.SimpleWhitespace) or comma.whitespace_after.value:
        return sequence, elements
    moved = [*elements[:-1], last.with_changes(comma=comma.with_changes(whitespace_after=closing))]
    empty = cst.SimpleWhitespace("")
    if isinstance(sequence, cst.List):
        bracket = sequence.rbracket.with_changes(whitespace_before=empty)
        return sequence.with_changes(rbracket=bracket), moved
    rpar = [*sequence.rpar[:-1], sequence.rpar[-1].with_changes(whitespace_before=empty)]
    return sequence.with_changes(rpar=rpar), moved


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _module_name(node: cst.ImportFrom) -> str:
    if node.module is None or node.relative:
        return ""
    return cst.Module([]).code_for_node(node.module)


@dataclass(frozen=True)
class EnsureImport(SourceEdit):
    """``from <module> import <name>``: merged into an existing import of the module, if any."""

    module: str
    name: str

    def inverse(self) -> SourceEdit:
        return RemoveImport(self.module, self.name)

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        for index, statement in enumerate(body):
            node = _only(statement)
            if not isinstance(node, cst.ImportFrom):
                continue
            assert isinstance(statement, cst.SimpleStatementLine)
            if _module_name(node) != self.module or isinstance(node.names, cst.ImportStar):
                continue
            aliases = list(node.names)
            if any(_alias_name(alias) == self.name and alias.asname is None for alias in aliases):
                return module
            body[index] = statement.with_changes(
                body=[
                    node.with_changes(
                        names=self._insert(
                            aliases,
                            node.lpar.whitespace_after if node.lpar else cst.SimpleWhitespace(""),
                        )
                    )
                ]
            )
            return module.with_changes(body=body)
        return self._add_statement(module, body)

    def _insert(
        self, aliases: list[cst.ImportAlias], opening: cst.BaseParenthesizableWhitespace
    ) -> list[cst.ImportAlias]:
        names = [_alias_name(alias) for alias in aliases]
        new = cst.ImportAlias(name=cst.Name(self.name))
        return _insert_item(aliases, new, names, self.name, opening)

    def _add_statement(
        self, module: cst.Module, body: list[cst.SimpleStatementLine | cst.BaseCompoundStatement]
    ) -> cst.Module:
        statement = cst.parse_statement(f"from {self.module} import {self.name}\n")
        return _with_import(module, body, statement)


def _is_module_import(statement: cst.CSTNode, module: str, alias: str) -> bool:
    node = _only(statement)
    if not isinstance(node, cst.Import) or len(node.names) != 1:
        return False
    name = node.names[0]
    written = cst.Module([]).code_for_node(name.name)
    return written == module and name.asname is not None and _is_name(name.asname.name, alias)


@dataclass(frozen=True)
class EnsureModuleImport(SourceEdit):
    """``import <module> as <alias>`` (``import datetime as dt``), after the other imports."""

    module: str
    alias: str

    def inverse(self) -> SourceEdit:
        return RemoveModuleImport(self.module, self.alias)

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        if any(_is_module_import(statement, self.module, self.alias) for statement in body):
            return module
        statement = cst.parse_statement(f"import {self.module} as {self.alias}\n")
        return _with_import(module, body, statement)


@dataclass(frozen=True)
class RemoveModuleImport(SourceEdit):
    """``import <module> as <alias>`` taken out; with ``unless_used``, kept while it is used."""

    module: str
    alias: str
    unless_used: bool = False

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        if self.unless_used and self.alias in _used_names(module):
            return module
        body = [
            statement
            for statement in module.body
            if not _is_module_import(statement, self.module, self.alias)
        ]
        return module.with_changes(body=body)


@dataclass(frozen=True)
class EnsureRegisterCall(SourceEdit):
    """``<target>.register(app)`` as the last statement of the registry function."""

    function: str
    target: str

    def inverse(self) -> SourceEdit:
        return RemoveRegisterCall(self.function, self.target)

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        for index, statement in enumerate(body):
            if not (
                isinstance(statement, cst.FunctionDef) and statement.name.value == self.function
            ):
                continue
            params = statement.params.params
            if not params or not isinstance(statement.body, cst.IndentedBlock):
                break
            app = params[0].name.value
            statements = list(statement.body.body)
            if any(_is_register_call(existing, self.target) for existing in statements):
                return module
            statements = [s for s in statements if not _is_placeholder(s)]
            statements.append(cst.parse_statement(f"{self.target}.register({app})\n"))
            body[index] = statement.with_changes(body=statement.body.with_changes(body=statements))
            return module.with_changes(body=body)
        raise SourceShapeError(
            f"{filename} has no function '{self.function}(app)' to register routes in; "
            f"expected a top-level 'def {self.function}(app: Robyn) -> None:'."
        )


@dataclass(frozen=True)
class EnsureAllEntry(SourceEdit):
    """``name`` listed in the module's ``__all__`` (created at the end if there is none)."""

    name: str

    def inverse(self) -> SourceEdit:
        return RemoveAllEntry(self.name)

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        for index, statement in enumerate(body):
            assign = _all_assignment(statement)
            if assign is None:
                continue
            assert isinstance(statement, cst.SimpleStatementLine)
            sequence = assign.value
            assert isinstance(sequence, cst.List | cst.Tuple)
            elements = [e for e in sequence.elements if isinstance(e, cst.Element)]
            if len(elements) != len(sequence.elements):
                raise SourceShapeError(
                    f"{filename} builds __all__ with a starred item; add it by hand."
                )
            values = [_string_value(e.value) for e in elements]
            if self.name in values:
                return module
            quote = '"'
            if elements and isinstance(elements[0].value, cst.SimpleString):
                quote = elements[0].value.prefix + elements[0].value.quote
            new = cst.Element(cst.SimpleString(f"{quote}{self.name}{quote}"))
            sequence, elements = _comment_to_last_item(sequence, elements)
            elements = _insert_item(elements, new, values, self.name, _opening(sequence))
            body[index] = statement.with_changes(
                body=[assign.with_changes(value=sequence.with_changes(elements=elements))]
            )
            return module.with_changes(body=body)
        statement = cst.parse_statement(f'__all__ = ["{self.name}"]\n')
        body.insert(_after_imports(body), statement.with_changes(leading_lines=[cst.EmptyLine()]))
        return module.with_changes(body=body)


def _through_last_comment(lines: Sequence[cst.EmptyLine]) -> int:
    """How many of ``lines`` run up to and including the last comment (0: none has one)."""
    commented = [index for index, line in enumerate(lines) if line.comment is not None]
    return commented[-1] + 1 if commented else 0


@dataclass(frozen=True)
class AppendClass(SourceEdit):
    """A top-level class (given as source) appended unless a class of that name exists.

    It goes after everything the file holds, a comment at its end included: the operator's
    text is then left exactly as it was, blank lines too, even once ruff lays the file out
    (ruff puts two blank lines after a class, so a comment after the new class would not
    keep its own). `RemoveClass` gives such a comment back to the end of the file.
    """

    name: str
    source: str

    def inverse(self) -> SourceEdit:
        return RemoveClass(self.name)

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        for statement in module.body:
            if isinstance(statement, cst.ClassDef) and statement.name.value == self.name:
                return module
        snippet = cst.parse_module(self.source)
        statements = list(snippet.body)
        if not statements:
            return module
        footer = list(module.footer)
        commented = _through_last_comment(footer)
        statements[0] = statements[0].with_changes(
            leading_lines=[*footer[:commented], cst.EmptyLine(), cst.EmptyLine()]
        )
        return module.with_changes(body=[*module.body, *statements], footer=footer[commented:])


@dataclass(frozen=True)
class MergeSnippet(SourceEdit):
    """Merge a snippet module: its imports are ensured (``from`` imports, and modules under an
    alias), its classes appended."""

    source: str

    def inverse(self) -> SourceEdit:
        return UnmergeSnippet(self.source)

    def edits(self) -> list[SourceEdit]:
        snippet = cst.parse_module(self.source)
        edits: list[SourceEdit] = []
        for statement in snippet.body:
            if isinstance(statement, cst.ClassDef):
                code = cst.Module(body=[statement.with_changes(leading_lines=[])]).code
                edits.append(AppendClass(statement.name.value, code))
                continue
            node = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
            if isinstance(node, cst.Import) and all(name.asname for name in node.names):
                for name in node.names:
                    assert name.asname is not None and isinstance(name.asname.name, cst.Name)
                    written = cst.Module([]).code_for_node(name.name)
                    edits.append(EnsureModuleImport(written, name.asname.name.value))
                continue
            if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
                raise ValueError(
                    f"Snippets hold only imports ('from', or a module under an alias) and "
                    f"classes, not: {statement}"
                )
            for alias in node.names:
                edits.append(EnsureImport(_module_name(node), _alias_name(alias)))
        return edits

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        for edit in self.edits():
            module = edit.apply(module, filename)
        return module


# --- the inverses: what `remove` takes out -------------------------------------------------


@dataclass(frozen=True)
class RemoveImport(SourceEdit):
    """``name`` taken out of ``from <module> import ...``; the statement too once it is empty.

    With ``unless_used`` the import stays while the rest of the module still uses the name
    (a snippet's ``Decimal`` that another table needs too).
    """

    module: str
    name: str
    unless_used: bool = False

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        if self.unless_used and self.name in _used_names(module):
            return module
        body = list(module.body)
        for index, statement in enumerate(body):
            node = _only(statement)
            if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
                continue
            if _module_name(node) != self.module:
                continue
            aliases = list(node.names)
            found = [
                position
                for position, alias in enumerate(aliases)
                if _alias_name(alias) == self.name and alias.asname is None
            ]
            if not found:
                continue
            assert isinstance(statement, cst.SimpleStatementLine)
            remaining = _remove_item(aliases, found[0])
            if remaining:
                body[index] = statement.with_changes(body=[node.with_changes(names=remaining)])
            else:
                del body[index]
            return module.with_changes(body=body)
        return module


@dataclass(frozen=True)
class RemoveRegisterCall(SourceEdit):
    """``<target>.register(app)`` taken out of the registry function (``pass`` if it empties)."""

    function: str
    target: str

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        for index, statement in enumerate(body):
            if not (
                isinstance(statement, cst.FunctionDef) and statement.name.value == self.function
            ):
                continue
            if not isinstance(statement.body, cst.IndentedBlock):
                return module
            statements = list(statement.body.body)
            kept = [s for s in statements if not _is_register_call(s, self.target)]
            if len(kept) == len(statements):
                return module
            if not kept:
                kept = [cst.parse_statement("pass\n")]
            body[index] = statement.with_changes(body=statement.body.with_changes(body=kept))
            return module.with_changes(body=body)
        return module


@dataclass(frozen=True)
class RemoveAllEntry(SourceEdit):
    """``name`` taken out of the module's ``__all__`` (an emptied list stays, as create has it)."""

    name: str

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        for index, statement in enumerate(body):
            assign = _all_assignment(statement)
            if assign is None:
                continue
            assert isinstance(statement, cst.SimpleStatementLine)
            sequence = assign.value
            assert isinstance(sequence, cst.List | cst.Tuple)
            elements = [e for e in sequence.elements if isinstance(e, cst.Element)]
            values = [_string_value(e.value) for e in elements]
            if self.name not in values:
                return module
            if len(elements) != len(sequence.elements):
                raise SourceShapeError(
                    f"{filename} builds __all__ with a starred item; remove {self.name!r} by hand."
                )
            # The closing bracket's line break goes onto the last item, as when it was added.
            sequence, elements = _comment_to_last_item(sequence, elements)
            remaining = _remove_item(elements, values.index(self.name))
            body[index] = statement.with_changes(
                body=[assign.with_changes(value=sequence.with_changes(elements=remaining))]
            )
            return module.with_changes(body=body)
        return module


@dataclass(frozen=True)
class RemoveClass(SourceEdit):
    """The top-level class ``name`` taken out, with the blank lines just above it.

    Comments above it stay (add writes none there: they are the operator's), with the blank
    lines before them, at the head of what followed the class: the next statement, or the
    end of the file.
    """

    name: str

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        body = list(module.body)
        found = [
            index
            for index, statement in enumerate(body)
            if isinstance(statement, cst.ClassDef) and statement.name.value == self.name
        ]
        if not found:
            return module
        index = found[0]
        removed = body.pop(index)
        lines = list(removed.leading_lines)
        kept = lines[: _through_last_comment(lines)]
        if index < len(body):
            following = body[index]
            body[index] = following.with_changes(leading_lines=[*kept, *following.leading_lines])
            return module.with_changes(body=body)
        return module.with_changes(body=body, footer=[*kept, *module.footer])


@dataclass(frozen=True)
class UnmergeSnippet(SourceEdit):
    """Take a merged snippet back out: its classes, then its imports nothing else uses.

    A class the rest of the module still uses stays, as its imports do: a snippet's shared
    class (MVC's ``ConflictError``) that another entity's merge found there already.
    """

    source: str

    def apply(self, module: cst.Module, filename: str) -> cst.Module:
        merged = MergeSnippet(self.source).edits()
        # Last first: a later class of the snippet may be what uses an earlier one.
        for edit in reversed(merged):
            if isinstance(edit, AppendClass):
                without = edit.inverse().apply(module, filename)
                if edit.name not in _used_names(without):
                    module = without
        for edit in merged:
            if isinstance(edit, EnsureImport):
                module = RemoveImport(edit.module, edit.name, unless_used=True).apply(
                    module, filename
                )
            elif isinstance(edit, EnsureModuleImport):
                module = RemoveModuleImport(edit.module, edit.alias, unless_used=True).apply(
                    module, filename
                )
        return module


def apply_edits(
    source: str, edits: Sequence[SourceEdit], filename: str, *, command: str = "add"
) -> str:
    """Apply ``edits`` in order and return the new source, re-parsed to prove it is valid.

    ``command`` is the one the operator ran, for the refusal of a file that does not parse.
    """
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise SourceShapeError(
            f"{filename} is not valid Python (line {error.raw_line}); "
            f"fix it before running {command}."
        ) from None
    parsed = module
    for edit in edits:
        module = edit.apply(module, filename)
    if module.body and not module.has_trailing_newline:
        # An empty file parses without one; a statement added to it must still end its line.
        module = module.with_changes(has_trailing_newline=True)
    code = module.code
    if module is not parsed and not module.body and not code.strip():
        code = ""  # the last statement went: an empty file, as before it was added
    cst.parse_module(code)
    compile(code, filename, "exec")
    return code
