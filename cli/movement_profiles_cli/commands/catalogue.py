"""`movement-profiles catalogue ...`: the fields of a profile and their allowed values, as data.

Reading (`show`, `diff`) works with any key; changing (`add-field`, `add-value`, `relabel`,
`retire-value`, `remove-field`) and `history`, `export-sql` need the service role key: the
database grants those functions to it alone. Each change is one call of the database's function,
one transaction, recorded in its history; the database validates every write against the
catalogue from the moment the change commits, so nothing here caches it.

Environments: the catalogue is changed in one place (the recommended workflow: a staging project
or the local stack, under version control through `export-sql`), exported as a migration, and
promoted with `supabase db push`; `diff` shows drift between any two (docs/cli.md).
"""

from __future__ import annotations

import datetime
import enum
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from movement_profiles_cli.commands._common import (
    ExitCode,
    JsonOption,
    KeyOption,
    UrlOption,
    connected,
    fail,
)

if TYPE_CHECKING:
    from movement_profiles.catalogue import Catalogue, CatalogueField

app = typer.Typer(
    help="The fields of a profile and their allowed values: show, change (service role key), "
    "export as a migration, compare two environments.",
    no_args_is_help=True,
)

#: What a migration `export-sql --migrations DIR` writes is named, after its version.
MIGRATION_NAME = "movement_profiles_catalogue.sql"
_MIGRATION = re.compile(r"^(\d+)_.+\.sql$")
_VERSION_FORMAT = "%Y%m%d%H%M%S"

FieldArgument = Annotated[str, typer.Argument(help="The field's name, e.g. injuries.")]
ValueArgument = Annotated[str, typer.Argument(help="The value's name, e.g. knee.")]
DescriptionOption = Annotated[
    str, typer.Option("--description", help="A sentence for people.", show_default=False)
]


class RetiredProfiles(enum.StrEnum):
    """What `retire-value` does with the profiles that hold the value."""

    refuse = "refuse"
    remove = "remove"
    # Not `replace`: that would hide str.replace.
    replace_value = "replace"


class RemovedProfiles(enum.StrEnum):
    """What `remove-field` does with the profiles that hold values of the field."""

    refuse = "refuse"
    remove = "remove"


# -- reading --------------------------------------------------------------------------------------


@app.command()
def show(json_output: JsonOption = False, url: UrlOption = None, key: KeyOption = None) -> None:
    """The fields and their allowed values, in display order, with labels.

    Retired values are not listed.
    """
    with connected(url, key, None) as client:
        catalogue = client.catalogue()
    if json_output:
        _print_json(catalogue.to_json())
        return
    _show_fields(catalogue.fields)


@app.command()
def history(
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many changes, newest first.", min=1)
    ] = 20,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Who changed the catalogue, when, and how (service role key)."""
    with connected(url, key, None) as client:
        changes = client.catalogue_changes(limit)
    if json_output:
        _print_json([change.model_dump(mode="json") for change in changes])
        return
    if not changes:
        print("No catalogue changes recorded.")
        return
    from rich.table import Table

    table = Table()
    for column in ("changed_at (UTC)", "changed_by", "action", "field", "value", "profiles"):
        table.add_column(column, overflow="fold")
    for change in changes:
        table.add_row(
            change.changed_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            change.changed_by,
            change.action,
            change.field or "",
            change.value or "",
            str(change.profiles_changed or 0),
        )
    _console().print(table)


# -- changing -------------------------------------------------------------------------------------


@app.command("add-field")
def add_field(
    field: FieldArgument,
    label: Annotated[str, typer.Option("--label", help="The name people see, e.g. Injuries.")],
    description: DescriptionOption = "",
    required: Annotated[
        bool,
        typer.Option(
            "--required",
            help="Every profile must hold at least one value (only while no profile exists).",
        ),
    ] = False,
    values: Annotated[
        list[str] | None,
        typer.Option(
            "--value",
            help="An allowed value, in display order; repeat for several (or add-value later).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Add a multi-select field; from then on profiles may hold it (in `custom_fields`)."""
    with connected(url, key, None) as client:
        entry = client.add_field(
            field,
            label=label,
            description=description,
            required=required,
            allowed_values=tuple(values or ()),
        )
    _show_changed(entry, json_output, f"Added field {field}.")


@app.command("add-value")
def add_value(
    field: FieldArgument,
    value: ValueArgument,
    label: Annotated[
        str | None,
        typer.Option("--label", help="The name people see.", show_default="the value, in words"),
    ] = None,
    description: DescriptionOption = "",
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Allow a value of a field (shown last); a retired value is allowed again."""
    with connected(url, key, None) as client:
        entry = client.add_value(field, value, label=label, description=description)
    _show_changed(entry, json_output, f"Added {value} to {field}.")


@app.command()
def relabel(
    field: FieldArgument,
    label: Annotated[str, typer.Option("--label", help="The new label.", show_default=False)],
    value: Annotated[
        str | None,
        typer.Argument(
            help="The value to relabel; without it, the field itself.", show_default=False
        ),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option("--description", help="A new description.", show_default="unchanged"),
    ] = None,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Change the label (and description) of a field or of one of its values.

    Stored values do not change: profiles hold names, never labels.
    """
    with connected(url, key, None) as client:
        entry = client.relabel(field, label=label, value=value, description=description)
    _show_changed(entry, json_output, f"Relabelled {field}{f'.{value}' if value else ''}.")


@app.command("retire-value")
def retire_value(
    field: FieldArgument,
    value: ValueArgument,
    profiles: Annotated[
        RetiredProfiles,
        typer.Option(
            "--profiles",
            help="Profiles that hold the value: refuse to retire it, remove it from them, or "
            "replace it with --replacement.",
        ),
    ] = RetiredProfiles.refuse,
    replacement: Annotated[
        str | None,
        typer.Option(
            "--replacement",
            help="The allowed value that replaces it (--profiles replace).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Stop allowing a value; refused while profiles hold it, unless --profiles says otherwise.

    With --profiles remove or replace, the value goes and the profiles change in one transaction.
    """
    if (profiles is RetiredProfiles.replace_value) != (replacement is not None):
        fail(
            "--replacement goes with --profiles replace, and only with it",
            ExitCode.INVALID_INPUT,
        )
    remedy = (
        "to retire it anyway, pass --profiles remove (take it out of them) or --profiles "
        "replace --replacement VALUE (put another in its place)"
        if profiles is RetiredProfiles.refuse
        else "pass --profiles replace --replacement VALUE instead"
    )
    with connected(url, key, None) as client, _held(remedy):
        changed = client.retire_value(
            field, value, profiles=profiles.value, replacement=replacement
        )
    _show_count(
        {"field": field, "value": value, "profiles_changed": changed},
        json_output,
        f"Retired {value} of {field}; {_plural(changed, 'profile')} changed.",
    )


@app.command("remove-field")
def remove_field(
    field: FieldArgument,
    profiles: Annotated[
        RemovedProfiles,
        typer.Option(
            "--profiles",
            help="Profiles that hold values of the field: refuse to remove it, or remove the "
            "field from them too.",
        ),
    ] = RemovedProfiles.refuse,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Remove a field that was added (built-in fields stay)."""
    remedy = "to remove it anyway, pass --profiles remove (its values go from them too)"
    with connected(url, key, None) as client, _held(remedy):
        changed = client.remove_field(field, profiles=profiles.value)
    _show_count(
        {"field": field, "profiles_changed": changed},
        json_output,
        f"Removed field {field}; {_plural(changed, 'profile')} changed.",
    )


@contextmanager
def _held(remedy: str) -> Iterator[None]:
    """A change refused because profiles hold what it takes away (23503): the database's count,
    that nothing changed, and the options of this command that go ahead anyway (the
    database's own detail names its SQL arguments)."""
    from movement_profiles import errors

    try:
        yield
    except errors.ConflictError as error:
        if error.code != "23503":
            raise
        fail(f"{error.message}; nothing was changed: {remedy}", ExitCode.CONFLICT)


# -- between environments -------------------------------------------------------------------------


@app.command("export-sql")
def export_sql(
    migrations: Annotated[
        Path | None,
        typer.Option(
            "--migrations",
            help="Write a new migration into this folder (e.g. supabase/migrations), versioned "
            f"after its newest file: <UTC timestamp>_{MIGRATION_NAME}.",
            file_okay=False,
            show_default="print it on standard output",
        ),
    ] = None,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """This catalogue as a migration that gives another environment the same one.

    The SQL is one call of movement_profile_apply_catalogue, for `supabase db push` or psql.
    """
    with connected(url, key, None) as client:
        sql = client.catalogue_sql()
    if migrations is None:
        print(sql, end="" if sql.endswith("\n") else "\n")
        return
    if not migrations.is_dir():
        fail(f"{migrations} is not a folder", ExitCode.INVALID_INPUT)
    path = migrations / f"{next_version(migrations)}_{MIGRATION_NAME}"
    try:
        path.write_text(sql if sql.endswith("\n") else f"{sql}\n", encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}", ExitCode.INVALID_INPUT)
    print(f"Wrote {path}.")


def next_version(folder: Path, now: datetime.datetime | None = None) -> str:
    """A migration version after every one in `folder` and not before `now` (UTC, to the
    second), as `supabase migration new` names them: `supabase db push` refuses a file older
    than the newest it applied."""
    start = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    start = start.replace(tzinfo=None, microsecond=0)
    versions = sorted(
        match.group(1) for path in folder.glob("*.sql") if (match := _MIGRATION.match(path.name))
    )
    if versions:
        try:
            newest = datetime.datetime.strptime(versions[-1], _VERSION_FORMAT)
        except ValueError:
            # Not a timestamp (a project that numbers its migrations): count on from it.
            return str(int(versions[-1]) + 1).zfill(len(versions[-1]))
        start = max(start, newest + datetime.timedelta(seconds=1))
    return start.strftime(_VERSION_FORMAT)


@app.command()
def diff(
    other_file: Annotated[
        Path | None,
        typer.Argument(
            help="The other catalogue: a file of `catalogue show --json` or of `export-sql`.",
            show_default=False,
        ),
    ] = None,
    other_url: Annotated[
        str | None,
        typer.Option(
            "--other-url",
            help="The other environment's URL (with --other-key).",
            show_default=False,
        ),
    ] = None,
    other_key: Annotated[
        str | None,
        typer.Option(
            "--other-key",
            help="The other environment's key (any: reading is open).",
            show_default=False,
        ),
    ] = None,
    other_env: Annotated[
        Path | None,
        typer.Option(
            "--other-env",
            help="An env file with the other environment's SUPABASE_URL and a key.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """The differences between this catalogue and another's (exit 1 if any, as `diff`).

    Exit 0 when they are the same, 1 when they differ, 2 on bad input.
    """
    given = sum(1 for other in (other_file, other_url or other_key, other_env) if other)
    if given != 1:
        fail(
            "give the other catalogue once: a file, --other-url with --other-key, or --other-env",
            ExitCode.INVALID_INPUT,
        )
    if (other_url is None) != (other_key is None):
        fail("--other-url and --other-key go together", ExitCode.INVALID_INPUT)
    with connected(url, key, None) as client:
        here = client.catalogue()
    if other_file is not None:
        there, there_name = _catalogue_from_file(other_file), str(other_file)
    else:
        there, there_name = _catalogue_from_environment(other_url, other_key, other_env)
    differences = list(catalogue_differences(here, there))
    if json_output:
        _print_json({"other": there_name, "same": not differences, "differences": differences})
    elif differences:
        print(f"- this environment\n+ {there_name}")
        for line in differences:
            print(line)
    else:
        print(f"The catalogues are the same (this environment and {there_name}).")
    if differences:
        raise typer.Exit(1)


def _catalogue_from_environment(
    other_url: str | None, other_key: str | None, other_env: Path | None
) -> tuple[Catalogue, str]:
    from movement_profiles import config, errors
    from movement_profiles_cli.commands._common import Connection, sdk_client

    if other_env is not None:
        from dotenv import dotenv_values

        if not other_env.is_file():
            fail(f"env file {other_env} does not exist", ExitCode.INVALID_INPUT)
        try:
            values = {name: value for name, value in dotenv_values(other_env).items() if value}
            # Only this file: never a key from this shell sent to the other environment's URL.
            settings = config.load_settings(environ=values)
            other_key = settings.service_role_key or settings.key(service_role=False)
        except (errors.ConfigurationError, OSError, ValueError) as error:
            fail(f"{other_env}: {error}", ExitCode.INVALID_INPUT)
        other_url = settings.url
    assert other_url is not None
    assert other_key is not None
    with sdk_client(Connection(other_url, other_key, None, local_stack=False)) as other:
        return other.catalogue(), other_url


#: The catalogue in a file of `export-sql`: the JSON literal its call passes, as
#: `'...'::jsonb` (quotes doubled) or dollar-quoted.
_SQL_LITERAL = re.compile(
    r"movement_profile_apply_catalogue\s*\(\s*(?:"
    r"'((?:[^']|'')*)'"
    r"|\$([A-Za-z_]*)\$(.*?)\$\2\$"
    r")\s*::\s*jsonb",
    re.DOTALL,
)


def _catalogue_from_file(path: Path) -> Catalogue:
    from movement_profiles import errors
    from movement_profiles.catalogue import Catalogue

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(
            f"cannot read {path}: {getattr(error, 'strerror', None) or error}",
            ExitCode.INVALID_INPUT,
        )
    document = text
    if not text.lstrip().startswith("{"):
        match = _SQL_LITERAL.search(text)
        if match is None:
            fail(
                f"{path} is neither a catalogue's JSON (`catalogue show --json`) nor a migration "
                "of `catalogue export-sql`",
                ExitCode.INVALID_INPUT,
            )
        document = (
            match.group(1).replace("''", "'") if match.group(1) is not None else match.group(3)
        )
    try:
        return Catalogue.model_validate(json.loads(document))
    except (ValueError, errors.MovementProfilesError) as error:
        # pydantic's and json's errors are ValueErrors: one line, never a traceback.
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fail(f"{path} does not hold a catalogue: {first}", ExitCode.INVALID_INPUT)


def catalogue_differences(here: Catalogue, there: Catalogue) -> Iterator[str]:
    """Each difference as a line: `-` only here, `+` only there, `~` in both but unlike. Fields
    and values are compared by name; labels, descriptions, `required` and order too."""
    here_fields = {field.name: field for field in here.fields}
    there_fields = {field.name: field for field in there.fields}
    for name, field in here_fields.items():
        if name not in there_fields:
            yield f"- field {name} ({', '.join(field.allowed) or 'no values'})"
    for name, field in there_fields.items():
        if name not in here_fields:
            yield f"+ field {name} ({', '.join(field.allowed) or 'no values'})"
    common = [name for name in here_fields if name in there_fields]
    if common != [name for name in there_fields if name in here_fields]:
        yield f"~ order of fields: {', '.join(here_fields)} / {', '.join(there_fields)}"
    for name in common:
        yield from _field_differences(here_fields[name], there_fields[name])


def _field_differences(here: CatalogueField, there: CatalogueField) -> Iterator[str]:
    name = here.name
    for attribute in ("label", "description", "required"):
        mine, theirs = getattr(here, attribute), getattr(there, attribute)
        if mine != theirs:
            yield f"~ field {name} {attribute}: {json.dumps(mine)} / {json.dumps(theirs)}"
    here_values = {value.value: value for value in here.values}
    there_values = {value.value: value for value in there.values}
    for value in here_values:
        if value not in there_values:
            yield f"- value {name}.{value}"
    for value in there_values:
        if value not in here_values:
            yield f"+ value {name}.{value}"
    for value, entry in here_values.items():
        other = there_values.get(value)
        if other is None:
            continue
        for attribute in ("label", "description"):
            mine, theirs = getattr(entry, attribute), getattr(other, attribute)
            if mine != theirs:
                yield (
                    f"~ value {name}.{value} {attribute}: {json.dumps(mine)} / {json.dumps(theirs)}"
                )
    common = [value for value in here_values if value in there_values]
    if common != [value for value in there_values if value in here_values]:
        yield f"~ order of {name}: {', '.join(here.allowed)} / {', '.join(there.allowed)}"


# -- printing -------------------------------------------------------------------------------------


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _console() -> Any:
    from movement_profiles_cli.commands.output import _console as console

    return console()


def _show_fields(fields: Sequence[CatalogueField]) -> None:
    """Each field: a line with its name, label and rule (and one with its description), then a
    table with a row per allowed value."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    for index, field in enumerate(fields):
        kind = ", ".join(
            [
                *(["built-in"] if field.built_in else []),
                "required" if field.required else "optional",
            ]
        )
        if index:
            console.print()
        # Text, not markup: labels are whatever an admin typed, brackets included.
        console.print(Text(f"{field.name}: {field.label} ({kind})", style="bold"))
        if field.description:
            console.print(Text(field.description))
        if not field.values:
            console.print("No allowed values yet: add some with `catalogue add-value`.")
            continue
        table = Table()
        table.add_column("value", no_wrap=True)
        table.add_column("label")
        table.add_column("description", overflow="fold")
        for value in field.values:
            table.add_row(Text(value.value), Text(value.label), Text(value.description))
        console.print(table)


def _show_changed(entry: CatalogueField, json_output: bool, sentence: str) -> None:
    if json_output:
        _print_json(entry.model_dump(mode="json"))
        return
    print(sentence)
    _show_fields([entry])


def _show_count(outcome: dict[str, Any], json_output: bool, sentence: str) -> None:
    if json_output:
        _print_json(outcome)
    else:
        print(sentence)
