"""Export: every profile, a page at a time, written in the format import reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TextIO, TypeVar

from movement_profiles_cli.transfer.files import FileFormat, RecordWriter

if TYPE_CHECKING:
    from movement_profiles import MovementProfilesClient

T = TypeVar("T")


def export_profiles(
    client: MovementProfilesClient,
    stream: TextIO,
    file_format: FileFormat,
    page_size: int,
    on_page: Callable[[int], None],
) -> int:
    """Write every profile the client may read to `stream`, by user_id; how many. Each page is
    written while the next is fetched; `on_page` gets each page's count."""
    writer = RecordWriter(stream, file_format)
    exported = 0
    for page in fetched_ahead(client.iter_pages(page_size=page_size)):
        writer.write_profiles(page)
        exported += len(page)
        on_page(len(page))
    return exported


def fetched_ahead(pages: Iterator[T]) -> Iterator[T]:
    """`pages`, each fetched in a thread while the caller handles the one before: the database
    and the client work at once. One page is ahead at most, so memory holds two."""
    with ThreadPoolExecutor(1, thread_name_prefix="movement-profiles-export") as executor:
        following = executor.submit(next, pages, None)
        while (page := following.result()) is not None:
            following = executor.submit(next, pages, None)
            yield page
