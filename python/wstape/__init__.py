"""wstape: read wstape journals (docs/FORMAT.md) from Python.

    import wstape
    j = wstape.open("day")
    df = j.to_dataframe(channel="allFills")

open(path) -> Journal: .info() (as `wstape info --json`), .records(...) with the filters
and seeks of `wstape cat` (and follow=True to tail a journal being recorded),
.hydromancer_events(), .to_dataframe(). Every error is a wstape.Error.
"""
from .cursor import cursor_cmp, cursor_key
from .errors import (CorruptError, Error, GapError, NotJournalError, StaleIndexError, StaleIndexWarning, UnreadableError,
                     UsageError, VersionError)
from .journal import Journal
from .record import Record
from .timefmt import format_time, parse_time

__version__ = "0.1.0"
__all__ = ["open", "Journal", "Record", "Error", "CorruptError", "GapError", "NotJournalError", "StaleIndexError", "StaleIndexWarning",
           "UnreadableError", "UsageError", "VersionError", "cursor_cmp", "cursor_key", "format_time", "parse_time"]


def open(path, index=True):
    """Open the journal at path for reading. index=False: never use the LMDB index (read
    the segments alone)."""
    return Journal(path, index=index)
