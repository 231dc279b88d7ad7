"""The exceptions of the package: every error it raises is a wstape.Error.

They mirror the C readers' errors (docs/FORMAT.md): a journal that is not one, a format
version this package does not know, a corrupt block (named by segment and offset), records
missing (a segment gone or out of sequence), a segment that cannot be read, an index that
lists blocks the segments do not hold, and bad arguments.
"""


class Error(Exception):
    """Any error of the wstape package."""


class NotJournalError(Error):
    """The path is not a journal (no directory, no META, no format key)."""


class VersionError(Error):
    """The journal's format version is not one this package reads."""


class UnreadableError(Error):
    """A file of the journal cannot be read (not a regular file, permissions, I/O)."""


class CorruptError(Error):
    """Bytes that do not check: .segment (its number, 0 when none) and .offset (in it)."""

    def __init__(self, message, segment=0, offset=0, path=None):
        super().__init__(message)
        self.segment = segment
        self.offset = offset
        self.path = path


class GapError(Error):
    """Records missing: a segment gone or out of sequence. .first and .last (when known)
    are the record numbers missing."""

    def __init__(self, message, first=None, last=None, segment=None):
        super().__init__(message)
        self.first = first
        self.last = last
        self.segment = segment


class StaleIndexError(GapError):
    """The index lists blocks the segments do not hold (a segment cut short or removed):
    what the segments hold was read, these records are not there."""


class UsageError(Error, ValueError):
    """A bad argument (an unknown kind, a time that does not parse, ...)."""


class StaleIndexWarning(UserWarning):
    """info() of a journal whose index lists blocks the segments do not hold: the figures
    come from the segments (as `wstape info` warns and exits 1)."""
