"""Scenes from a CSV file, for the desk's import: the header read and each row's cells named.

Plain Python (no Flask, no database).  ``read_candidates_csv(text)`` gives the
data rows as dicts keyed by the add-scene form's field names, with their line
numbers and the problems found in single rows; a file that cannot be read at
all raises ``CandidatesCSVError``.  Checking the values themselves is left to
the add-scene form, so an imported scene meets exactly the rules of one typed in.
"""
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_ROWS = 500
# Spreadsheets in locales that write decimal commas save CSV with semicolons.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}

# Form field -> the header names that mean it (compared by ``header_key``).
COLUMNS = {
    "title": ("title",),
    "title_ko": ("title_ko", "korean title", "title (korean)"),
    "drama": ("drama",),
    "couple": ("couple",),
    "episode": ("episode",),
    "nickname": ("nickname", "scene nickname"),
    "description": ("description",),
    "video_url": ("video_url", "video", "clip"),
    "video_start": ("start", "video_start", "starts at"),
    "image_url": ("image_url", "image"),
    "spoiler": ("spoiler",),
}
REQUIRED_COLUMNS = ("title", "drama")
SPOILER_WORDS = {"yes": True, "y": True, "true": True, "1": True, "x": True,
                 "no": False, "n": False, "false": False, "0": False, "": False}


def header_key(name: str) -> str:
    """How header names are compared: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_]+", "", name).casefold()


_FIELD_OF = {header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
COLUMN_LIST = ", ".join(aliases[0] for aliases in COLUMNS.values())


@dataclass(frozen=True)
class Problem:
    """Why (part of) the file cannot be imported."""

    line: int | None  # None: the file as a whole
    column: str  # as the file's header writes it; "" when it is not one cell
    message: str


class CandidatesCSVError(ValueError):
    """The file cannot be read as a list of scenes; ``problems`` say why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(" ".join(problem.message for problem in problems))


@dataclass(frozen=True)
class SceneRow:
    """One data row: its first line in the file, its cells by form field, and its spoiler flag."""

    line: int
    values: dict[str, str]
    spoiler: bool


@dataclass(frozen=True)
class CandidatesFile:
    rows: list[SceneRow]
    problems: list[Problem]  # found while reading (rows with too many cells are left out of ``rows``)
    headers: dict[str, str]  # form field -> the header as the file writes it


def _fail(message: str, line: int | None = None) -> CandidatesCSVError:
    return CandidatesCSVError([Problem(line, "", message)])


def guess_delimiter(header_line: str) -> str:
    """The delimiter that splits the header most (a comma when none does)."""
    return max(DELIMITERS, key=header_line.count)


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) for each record, blank lines left out."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _fail(f"This row cannot be read ({error}): is a quote (\") missing its pair?", line) from None
        if any(cell.strip() for cell in cells):
            yield line, cells


def _read_header(line: int, cells: list[str]) -> list[str | None]:
    """The form field of each column (None for a column with no name)."""
    fields: list[str | None] = []
    problems, unknown, seen = [], [], {}
    for cell in cells:
        name = cell.strip()
        field = _FIELD_OF.get(header_key(name)) if name else None
        if name and field is None:
            unknown.append(name)
        elif field in seen:
            problems.append(f"The columns “{seen[field]}” and “{name}” both give the {field.replace('_', ' ')}; keep one.")
        elif field:
            seen[field] = name
        fields.append(field)
    if unknown:
        hint = "" if seen else " The first row must be the header that names the columns."
        problems.insert(0, f"Unknown column{'s' if len(unknown) > 1 else ''}: "
                           f"{', '.join(f'“{name[:60]}”' for name in unknown[:20])}.{hint} The columns are: {COLUMN_LIST}.")
    elif missing := [field for field in REQUIRED_COLUMNS if field not in seen]:
        problems.append(f"The header needs a {' and a '.join(missing)} column.")
    if problems:
        raise CandidatesCSVError([Problem(line, "", message) for message in problems])
    return fields


def read_candidates_csv(text: str) -> CandidatesFile:
    """Read the scenes of a CSV text (a header row, then one scene per row).

    Raises CandidatesCSVError for a file that cannot be imported as a whole: empty,
    no header, unknown or missing columns, unreadable quoting, more than MAX_ROWS rows.
    """
    text = text.removeprefix("\ufeff")  # a spreadsheet's UTF-8 byte order mark
    first_line = next(iter(text.lstrip("\r\n").splitlines()), "")
    delimiter = guess_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = _records(reader)
    header_line, header = next(records, (0, []))
    if not header:  # only blank cells
        raise _fail("The file is empty: it needs a header row and one row per scene.")
    fields = _read_header(header_line, header)
    headers = {field: cell.strip() for field, cell in zip(fields, header) if field}
    rows, problems = [], []
    for line, cells in records:
        if len(rows) + len(problems) >= MAX_ROWS:
            raise _fail(f"The file has more than {MAX_ROWS} scenes; split it and import the parts one by one.")
        spare = [cell for field, cell in zip(fields + [None] * len(cells), cells) if field is None and cell.strip()]
        if spare:
            problems.append(Problem(line, "", f"This row has {len(cells)} cells but the header names "
                                              f"{len(headers)} columns: does a value holding a "
                                              f"{DELIMITERS[delimiter]} need quotes around it?"))
            continue
        values = {field: cell for field, cell in zip(fields, cells) if field}
        spoiler = SPOILER_WORDS.get(values.pop("spoiler", "").strip().casefold())
        if spoiler is None:  # the row's other cells are still worth checking
            problems.append(Problem(line, headers["spoiler"], "Write yes or no (or leave it blank)."))
        rows.append(SceneRow(line, values, bool(spoiler)))
    if not rows and not problems:  # only a header
        raise _fail("The file has a header but no scenes under it.")
    return CandidatesFile(rows, problems, headers)
