"""The file an import reads: twice, a line at a time, and the same bytes both times."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from movement_profiles_cli.transfer import InvalidInputError
from movement_profiles_cli.transfer.files import (
    FileFormat,
    FileProblem,
    format_from_suffix,
    printable,
    read_blocks,
)
from movement_profiles_cli.transfer.first_pass import (
    Checked,
    LineForms,
    check_jsonl_file,
    check_processes,
    check_records,
)
from movement_profiles_cli.transfer.rows import (
    CatalogueJudge,
    ImportRow,
    LineForm,
    json_object_parser,
    row_to_send,
)

if TYPE_CHECKING:
    from movement_profiles.catalogue import Catalogue


class ImportSource:
    """The file to import, read once to validate and once to write, a line at a time.

    Standard input (`-`) is copied, as the first pass reads it, to an unnamed temporary file
    that the second pass reads: it cannot be read twice, and holding it would cost its size.
    """

    def __init__(self, path: Path, file_format: FileFormat | None) -> None:
        self.path = path
        self.is_stdin = str(path) == "-"
        # As messages and --json show it: a name that is not UTF-8 still prints.
        self.name = "standard input" if self.is_stdin else printable(str(path))
        chosen = file_format or (None if self.is_stdin else format_from_suffix(path))
        if chosen is None:
            raise InvalidInputError(
                f"cannot tell the format of {self.name} from its name: pass --format jsonl "
                "or --format csv"
            )
        self.format: FileFormat = chosen
        self._spooled: IO[bytes] | None = None
        self._stat: tuple[int, int] | None = None

    def __enter__(self) -> ImportSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._spooled is not None:
            self._spooled.close()

    def check(self, catalogue: Catalogue, processes: int | None = None) -> Checked:
        """The first pass: every row judged (its values against `catalogue`, the database's as
        the import starts), nothing kept but the bad rows, `FirstLines` and
        `LineForms`. A large JSON Lines file is read by up to `processes` processes at once
        (default: one a core, at most `MAX_CHECK_PROCESSES`), each a part; the verdicts are the
        same as one process's, and rows repeating a user_id are found across the parts."""
        from movement_profiles_cli.transfer.files import read_rows

        judge = CatalogueJudge(catalogue)
        with self._reading(first_pass=True) as stream:
            if self.format is FileFormat.csv:
                checked = check_records(read_rows(stream, self.format), judge)
            else:
                # By name: `stream` may be the file's descriptor, which forked processes share.
                path = self._spooled.name if self._spooled is not None else str(self.path)
                checked = check_jsonl_file(stream, path, processes or check_processes(), judge)
        checked.finish()
        return checked

    def valid_rows(self, forms: LineForms) -> Iterator[ImportRow]:
        """The second pass: the rows to send, in file order, as `forms` (the first pass's
        verdicts) says: a line's own text, or its fields rebuilt; bad rows left out."""
        from movement_profiles_cli.transfer.files import (
            jsonl_lines,
            jsonl_record,
            read_rows,
        )

        with self._reading(first_pass=False) as stream:
            if self.format is FileFormat.csv:
                for record in read_rows(stream, self.format):
                    if forms[record.line] == LineForm.REBUILT and record.fields is not None:
                        yield row_to_send(record.line, record.fields)
                return
            json_object = json_object_parser()
            for line, text in jsonl_lines(read_blocks(stream)):
                form = forms[line]
                if text is None:
                    continue
                if form == LineForm.AS_WRITTEN:
                    yield ImportRow(line, None, False, text)
                elif form == LineForm.AS_WRITTEN_RESTORING:
                    yield ImportRow(line, None, True, text)
                elif form == LineForm.REBUILT:
                    fields = json_object(text)
                    if fields is None:
                        parsed = jsonl_record(line, text)
                        if parsed is None or parsed.fields is None:
                            continue
                        fields = parsed.fields
                    yield row_to_send(line, fields)

    @contextmanager
    def _reading(self, *, first_pass: bool) -> Iterator[IO[bytes]]:
        try:
            if self.is_stdin:
                yield self._spooled_stdin()
                return
            with self._open() as stream:
                self._check_unchanged(os.fstat(stream.fileno()), first_pass)
                yield stream
        except FileProblem as problem:
            raise InvalidInputError(f"{self.name}: {problem}") from problem
        except OSError as error:
            raise InvalidInputError(
                f"cannot read {self.name}: {error.strerror or error}"
            ) from error

    def _open(self) -> IO[bytes]:
        """The file, if it is a regular one. Anything else is refused before it is read: a
        FIFO would block until a writer comes and could not be read twice, a device may never
        end; opened without blocking, so that the check is made on what is read."""
        descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            os.close(descriptor)
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            if stat.S_ISFIFO(mode):
                kind = "a pipe (FIFO)"
            raise FileProblem(
                f"{kind}: import reads a regular file, or standard input as `-` with --format"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")

    def _spooled_stdin(self) -> IO[bytes]:
        if self._spooled is None:
            # Copied a block at a time: memory stays flat however much arrives. Closed with
            # the source (`__exit__`), which deletes it.
            # Named: the processes that check parts of a large input open it by name.
            self._spooled = tempfile.NamedTemporaryFile()  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, self._spooled)
        self._spooled.seek(0)
        return self._spooled

    def _check_unchanged(self, stat: os.stat_result, first_pass: bool) -> None:
        # The second pass must read what the first validated.
        seen = (stat.st_size, stat.st_mtime_ns)
        if first_pass:
            self._stat = seen
        elif seen != self._stat:
            raise InvalidInputError(
                f"{self.name} changed after it was validated; nothing was written: import it again"
            )
