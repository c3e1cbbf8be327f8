"""The engine of `movement-profiles import FILE` and `movement-profiles export`: profiles in bulk.

Import reads the file twice, and holds neither the file nor its rows. The first pass validates
every row: a file with a bad row writes nothing (unless `--skip-invalid`), and every bad row is
reported with its line number and the reason, in the database's own words. It keeps only the bad
rows, 24 bytes a row for the check that no user_id appears twice, and a byte a row saying how the
row is to be sent (25 MB for a million rows). A large JSON Lines file is checked by one process
a core, each a part of the file. The second pass reads the file again and sends its valid rows
in batches as it reads them: upserts on user_id (one request and one transaction each), so
importing the same file twice is harmless. A row in the usual form (the form `export` writes) is
sent as the file spells it, not parsed and encoded again: the first pass found it valid, and
PostgreSQL reads JSON as Python does (escapes decoded, the last of a repeated key). Up to
`--in-flight` batches are sent at once, so the client reads the next batch while the database
writes the last; no more are held. Standard input cannot be read twice: the first pass copies it
to a temporary file, which the second reads (and which is gone when the import ends). Export
pages through every profile by user_id, writing each page as it comes while the next is
fetched, and writes what import reads; a file that carries `id`, `created_at` and `updated_at`
is restored with them.

One rule import cannot check beforehand: a profile's user must exist in auth.users (the
`user_id` foreign key). A batch the database refuses for it is split until the rows at fault are
found; they are reported like invalid rows. Without `--skip-invalid` the import stops there, with
the batches before it written, and those already sent after it (at most `--in-flight` - 1, their
refused rows reported too, so the outcome does not depend on timing); with
`--create-missing-users` the local stack gets the missing users first (local development only: a
hosted project's users come from Supabase Auth).

The modules, in the order an import uses them: `files` (the two file formats), `rows` (one row
judged), `first_pass` (a whole file judged, in parallel parts when large), `source` (the file read
twice), `auth_users` (``--create-missing-users``), `writer` (batches sent, refused rows isolated);
`export` for the other direction. None of them prints or exits: the Typer commands
(`movement_profiles_cli.commands.transfer`) do, from `InvalidInputError` and the SDK's errors.
"""

__all__ = ["InvalidInputError"]


class InvalidInputError(Exception):
    """The import cannot go on because of what it was given: the file (unreadable, not UTF-8,
    changed between the passes, of no known format) or an option (``--create-missing-users``
    without the local stack). Nothing was written because of it; the message is one line."""
