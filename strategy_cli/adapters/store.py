"""The embedded store: one SQLite file with strategies (every version), instances and events.

Records are plain dicts shaped like the platform's API records (camelCase keys, instants as
RFC 3339 strings with their offset), kept whole as JSON in a `record` column next to a few
scalar columns that queries filter and sort on. sqlite-utils creates and migrates the schema
(`store_schema.py`); the hot paths use the plain `sqlite3` connection.

Concurrency: WAL journal (readers never block the writer), a busy timeout, short write
transactions opened with `BEGIN IMMEDIATE` (the write lock is taken up front, so two writers
queue instead of deadlocking on a lock upgrade). Every failure reaches the user as one
`StoreError` line naming the file and what to do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..core.domain import TERMINAL_EVENT_STATUSES, EventStatus
from ..core.timecalc import parse_rfc3339
from ..errors import StrategyError, first_line
from .store_location import default_store_path
from .store_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
    "default_store_path",
    "event_rows",
    "instance_row",
    "read_only_uri",
    "settings_digest",
    "utc_key",
]

Record = dict[str, Any]
# In a fixed order: the query text and its parameters stay the same from run to run.
TERMINAL_STATUSES = tuple(sorted(TERMINAL_EVENT_STATUSES))
_TERMINAL_MARKS = ", ".join("?" * len(TERMINAL_STATUSES))
STORE_TABLES = ("strategies", "instances", "events")
DEFAULT_BUSY_TIMEOUT_MS = 5000
PAGE_SIZE = 16384  # of new stores; an existing one keeps its own
NEARLY_FULL = 1 << 20  # bytes free on a device below which a failed write means "disk is full"

# SQLite primary result codes (`sqlite_errorcode & 0xFF`).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


class StoreError(StrategyError):
    """The store cannot be opened, read or written."""


# --- JSON and instants --------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model slipped into a record
        return dump(mode="json", by_alias=True, exclude_none=True)
    return str(value)


def _compact_dumps() -> Callable[[Any], str]:
    """Compact JSON text of a record (non-ASCII kept as is).

    orjson writes the same text as the standard encoder, 7 times faster: encoding was a fifth of
    simulating a portfolio. What it refuses (keys that are not strings, integers beyond 64 bits)
    goes to the standard encoder. Datetimes go through `_json_default` either way.
    """
    plain = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default)
    try:
        import orjson
    except ImportError:  # a dependency, yet a broken install should still work, slower
        return plain.encode
    fast, failed = orjson.dumps, orjson.JSONEncodeError
    option = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    # \u escapes for the rare record orjson refuses: a lone surrogate (from a response or a
    # file) then stays storable as ASCII text and reads back as the same string.
    std = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode

    def dumps(value: Any) -> str:
        try:
            return fast(value, default=_json_default, option=option).decode()
        except failed:
            return std(value)

    return dumps


_encoders: list[Callable[[Any], str]] = []


def _encoder() -> Callable[[Any], str]:
    # Chosen at the first write: read-only commands never import orjson (~15 ms).
    if not _encoders:
        _encoders.append(_compact_dumps())
    return _encoders[0]


def _dumps(value: Any) -> str:
    return _encoder()(value)


_loads = json.loads


def _first_record_problem(table: str, value: Any) -> str | None:
    """Import the record checks on the first record read, then stand aside: they use the
    models' vocabulary (pydantic), which shell completion, reading no record, must not pay for
    on every TAB; an import statement in `read_record` would cost every record read instead."""
    global _record_problem
    from ..core.record_checks import record_problem

    _record_problem = record_problem
    return record_problem(table, value)


_record_problem: Callable[[str, Any], str | None] = _first_record_problem


def read_record(where: str, table: str, sid: Any, text: Any) -> Record:
    """A stored record, parsed and checked (`core/record_checks.py`): a hand-edited, damaged or
    SQL NULL record is a StoreError naming the table and row, never a crash further on."""
    try:
        value: Any = _loads(text) if isinstance(text, str | bytes) else None
    except (ValueError, RecursionError) as exc:
        raise _corrupt(where, table, sid, f"not JSON ({first_line(exc)})") from None
    problem = _record_problem(table, value)
    if problem is not None:
        raise _corrupt(where, table, sid, problem)
    return value  # type: ignore[no-any-return]  # a dict: record_problem checked it


def _corrupt(where: str, table: str, sid: Any, problem: str) -> StoreError:
    what = "state of instance" if table == "state" else f"{table} row"
    return StoreError(
        f"{where}: {what} {sid}: the stored record is damaged or hand-edited: {problem}",
        hint=DAMAGED_HINT,
    )


DAMAGED_HINT = "run `strategy doctor`; restore the store from a backup or delete that row"


def settings_digest(settings: Any) -> str:
    """sha256 of the canonical JSON of a strategy's settings (sorted keys, no spaces)."""
    text = json.dumps(
        settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_UTC = UTC
_KEY_CACHE: dict[str, str] = {}
_KEY_CACHE_MAX = 200_000


def _utc_key_of(instant: datetime) -> str:
    # The store's own sortable key, not RFC 3339 with its offset (timecalc.to_rfc3339): every
    # key has the same width and zone so that SQLite compares them as text.
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=_UTC)
    utc = instant.astimezone(_UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def _utc_key_of_text(text: str | datetime) -> str:
    """The slow path of `utc_key` (a cache miss): parse, convert and remember."""
    if isinstance(text, datetime):
        return _utc_key_of(text)
    key = _utc_key_of(parse_rfc3339(text))
    if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
        _KEY_CACHE.clear()
    _KEY_CACHE[text] = key
    return key


def utc_key(value: str | datetime) -> str:
    """An instant as the store's sortable UTC text: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.

    Naive values are taken as UTC. Raises ValueError for text that is not an ISO instant.
    """
    if isinstance(value, str):
        return _KEY_CACHE.get(value) or _utc_key_of_text(value)
    return _utc_key_of_text(value)


def _optional_key(value: Any) -> str | None:
    if not value:
        return None
    try:
        return utc_key(value)
    except (TypeError, ValueError):
        return None


# --- the store ----------------------------------------------------------------------------------


def _not_writable(file: Path) -> bool:
    """An existing store whose file or folder this process may not write (SQLite needs the
    folder for its journal and WAL files)."""
    return file.exists() and not (os.access(file, os.W_OK) and os.access(file.parent, os.W_OK))


def read_only_uri(file: Path) -> str:
    """An SQLite URI that reads `file` without writing anything. In a folder where the WAL's
    index (`-shm`) cannot be created SQLite cannot open a WAL store read-only at all, unless
    told that the file is `immutable`. That is true enough there: nobody has it open in WAL
    mode (the index would exist), and a store in a read-only folder is an archived copy."""
    from urllib.parse import quote

    uri = f"file:{quote(str(file))}?mode=ro"
    shm = file.with_name(file.name + "-shm")
    if not os.access(file.parent, os.W_OK) and not shm.exists():
        uri += "&immutable=1"
    return uri


_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(method: _F) -> _F:
    """Turn any sqlite3 error raised by `method` into a one-line StoreError."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        except UnicodeEncodeError as exc:  # a lone surrogate: SQLite text is UTF-8
            raise StoreError(f"{self.path}: {_not_utf8(exc)}") from None

    return wrapper  # type: ignore[return-value]


def _not_utf8(exc: UnicodeEncodeError) -> str:
    """Which text could not be stored or looked up: a sid, a name (from an argument with invalid
    UTF-8 bytes, which Python keeps as lone surrogates), shown around the offending character."""
    text = exc.object if isinstance(exc.object, str) else ""
    around = text[max(0, exc.start - 30) : exc.end + 30]
    return f"'{around}' is not valid UTF-8 text: nothing in the store can match or hold it"


_EVENT_INSERT = (
    "INSERT OR REPLACE INTO events (sid, instance_sid, status, date_utc, main, simulated, record) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSTANCE_INSERT = (
    "INSERT OR REPLACE INTO instances "
    "(sid, strategy_sid, strategy_name, status, simulated, created_at, record, state) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


# --- rows ---------------------------------------------------------------------------------------
# Pure functions (no connection): a portfolio's worker processes build rows with them, and the
# Store's own writes go through them too. `where` (the store's path) only names it in errors.


def instance_row(
    record: Record, state: Record | None, simulated: int, strategy_name: str | None, where: str
) -> tuple[Any, ...]:
    """The instances-table row of a record (stored without its embedded strategy)."""
    if "strategy" in record:
        record = {k: v for k, v in record.items() if k != "strategy"}
    try:
        sid, status = record["sid"], record["status"]
    except KeyError as exc:
        raise StoreError(f"{where}: instance record without {exc}") from None
    return (
        sid,
        record.get("strategyId"),
        strategy_name,
        status,
        simulated,
        _optional_key(record.get("createdAt") or record.get("startDate")),
        _dumps(record),
        _dumps(state if state is not None else {}),
    )


def event_rows(records: Iterable[Record], simulated: int, where: str) -> Iterator[tuple[Any, ...]]:
    """The events-table rows of records; a record that cannot be stored is a StoreError."""
    cache = _KEY_CACHE
    to_key = _utc_key_of_text
    dumps = _encoder()
    record: Record = {}
    try:
        for record in records:
            date = record["date"]
            yield (
                record["sid"],
                record["instanceSid"],
                record["status"],
                cache.get(date) or to_key(date),
                1 if record.get("main") else 0,
                simulated,
                dumps(record),
            )
    except KeyError as exc:
        raise StoreError(f"{where}: event record {record.get('sid', '?')} without {exc}") from None
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise _bad_event(where, record, exc) from None


def _bad_event(where: str, record: Record, exc: Exception) -> StoreError:
    date = record.get("date")
    try:
        utc_key(date)  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):
        return StoreError(
            f"{where}: event {record.get('sid', '?')}: date {date!r} is not an RFC 3339 instant"
        )
    return StoreError(f"{where}: event {record.get('sid', '?')} cannot be stored ({exc})")


class Store:
    """One SQLite store file (or ":memory:", which keeps nothing)."""

    path: str

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        read_only: bool = False,
    ) -> None:
        """`read_only` opens an existing file without writing anything (no WAL switch, no
        migration), as shell completion must; a file this process may not write is read-only
        anyway."""
        self._conn: sqlite3.Connection | None = None
        self._depth = 0
        self._busy_timeout_ms = int(busy_timeout_ms)
        memory = str(path) == ":memory:"
        self.readonly = False
        target = ":memory:"
        if memory:
            self.path = ":memory:"
        else:
            file = Path(os.path.abspath(Path(path).expanduser()))
            self.path = str(file)
            if file.is_dir():
                raise StoreError(
                    f"{file} is a folder, not a strategy store",
                    hint=f"give the path of a file, e.g. {file / 'store.db'}",
                )
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{file.parent}: cannot create the store's folder "
                    f"({exc.strerror or exc}); set STRATEGY_DB to a writable path",
                    hint="STRATEGY_DB=/some/writable/folder/store.db",
                ) from None
            self.readonly = read_only or _not_writable(file)
            target = read_only_uri(file) if self.readonly else self.path
        try:
            self._conn = sqlite3.connect(
                target, timeout=self._busy_timeout_ms / 1000, isolation_level=None, uri=True
            )
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            self._open(memory)
        except sqlite3.Error as exc:
            error = self._error(exc)
            self.close()
            raise error from None
        except BaseException:
            self.close()
            raise

    # --- lifecycle ------------------------------------------------------------------------------

    def _open(self, memory: bool) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        # One statement, so one consistent snapshot while another process may be migrating.
        version, application_id, tables = conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), "
            "(SELECT application_id FROM pragma_application_id), "
            "(SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%')"
        ).fetchone()
        if application_id not in (0, APPLICATION_ID) or (version == 0 and tables):
            raise StoreError(
                f"{self.path} is not a strategy store (an SQLite database of another program)",
                hint="set STRATEGY_DB to another file",
            )
        self._check_version(version)
        if self.readonly:
            self._open_read_only(version, tables)
            return
        if version == 0 and not tables:
            # A new file: pick the page size before the first write fixes it. Records are ~1 KB
            # JSON texts; 16 KB pages hold a dozen, and a bulk write (a simulated portfolio)
            # then writes and checkpoints far fewer pages (~40% less time than 4 KB pages).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if not memory:
            self._use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -32000")
        if version < SCHEMA_VERSION:
            # sqlite-utils is only needed to create or migrate the schema: importing it costs
            # ~50 ms, which every read command would otherwise pay.
            import sqlite_utils

            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            with self.transaction():
                # Another process may have migrated between the read above and our write lock.
                current = conn.execute("PRAGMA user_version").fetchone()[0]
                self._check_version(current)
                for migrate in MIGRATIONS[current:]:
                    migrate(self.db)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _open_read_only(self, version: int, tables: int) -> None:
        """A store this process may not write is read as it is: no WAL switch, no migration
        (an older schema is read as is: its tables and columns are the same)."""
        if version == 0 and not tables:
            raise StoreError(
                f"{self.path}: the store is read-only and empty (never written)",
                hint="set STRATEGY_DB to a writable path",
            )
        self.conn.execute("PRAGMA temp_store = MEMORY")

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL. SQLite answers SQLITE_BUSY at once, without its busy
        handler, when two processes switch a new file at the same moment: wait here instead."""
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        pause = 0.005
        while True:
            try:
                if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                if code not in (_BUSY, _LOCKED) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer strategy (schema {version} > {SCHEMA_VERSION}); "
                "upgrade strategy",
                hint="pip install --upgrade strategy-cli",
            )

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        finally:
            conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    @property
    @_guarded
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def problems(self, limit: int = 100) -> list[str]:
        """What is wrong with the file, one line per problem (none for a sound store): SQLite's
        full integrity check (every page, every index against its table) and the tables a store
        must have. A store can open and answer small queries while pages elsewhere are broken."""
        try:
            rows = self.conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()
            tables = {
                name
                for (name,) in self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
        except sqlite3.Error as exc:  # too broken to be checked at all
            return [f"cannot be checked: {exc}"]
        lines = (line.strip() for (text,) in rows for line in str(text).splitlines())
        found = [line for line in lines if line and line != "ok" and not line.startswith("***")]
        found += [f"table {name!r} is missing" for name in STORE_TABLES if name not in tables]
        return found

    # --- errors and transactions ----------------------------------------------------------------

    def _error(self, exc: sqlite3.Error) -> StoreError:
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        text = str(exc)
        low = text.lower()
        where = self.path
        if primary in (_BUSY, _LOCKED) or "database is locked" in low or "busy" in low:
            return StoreError(
                f"{where}: store is busy (locked by another process); try again",
                hint="another strategy command is writing the store; wait for it to finish",
            )
        if primary == _NOTADB or "not a database" in low:
            return StoreError(
                f"{where} is not a strategy store (not an SQLite database)",
                hint="set STRATEGY_DB to another file, or move this one away",
            )
        if primary == _CORRUPT or "malformed" in low or "corrupt" in low:
            return StoreError(
                f"{where}: store is corrupt ({text}); restore it from a backup or move it away",
                hint="moving the file away starts an empty store",
            )
        if self.readonly and (primary == _READONLY or "readonly" in low):
            return StoreError(
                f"{where}: the store is read-only (its file or folder is not writable) and "
                "this command writes to it; nothing was changed",
                hint="run it as a user who may write the store, or set STRATEGY_DB",
            )
        if primary == _READONLY or "readonly" in low or "read-only" in low:
            return StoreError(
                f"{where}: store is read-only ({text}); check the file's permissions",
                hint="or set STRATEGY_DB to a writable path",
            )
        if primary == _FULL or "disk is full" in low or (primary == _IOERR and self._device_full()):
            return StoreError(f"{where}: disk is full; free some space and try again")
        if primary in (_CANTOPEN, _IOERR) or "unable to open" in low:
            return StoreError(
                f"{where}: cannot read or write the store ({text}); check the path and permissions",
                hint="or set STRATEGY_DB to a writable path",
            )
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreError(f"{where}: conflicting record ({text})")
        return StoreError(f"{where}: store error ({text})")

    def _device_full(self) -> bool:
        """SQLite reports a write that found no space as an I/O error when it was extending the
        WAL or its index: ask the file system whether that was the cause."""
        if self.path == ":memory:":
            return False
        try:
            stats = os.statvfs(Path(self.path).parent)
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize < NEARLY_FULL

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (`BEGIN IMMEDIATE`); inner ones join the outer one.

        Commits when the outermost block ends, rolls everything back on an exception.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise self._error(exc) from None

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None and conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    # --- strategies -----------------------------------------------------------------------------

    @_guarded
    def put_strategy(self, record: Record) -> None:
        """Store one strategy version (a new row; an existing name+version is an error)."""
        rec = {k: v for k, v in record.items() if k not in ("digest", "versions")}
        try:
            sid, name = str(rec["sid"]), str(rec["name"])
        except KeyError as exc:
            raise StoreError(f"{self.path}: strategy record without {exc}") from None
        version = int(rec.get("version") or 1)
        digest = record.get("digest") or settings_digest(rec.get("settings"))
        with self.transaction():
            try:
                self.conn.execute(
                    "INSERT INTO strategies (sid, name, version, digest, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (sid, name, version, digest, _dumps(rec)),
                )
            except sqlite3.IntegrityError:
                raise StoreError(
                    f"{self.path}: strategy {name!r} version {version} (or sid {sid}) "
                    "is already stored",
                    hint="bump the strategy's version",
                ) from None

    @_guarded
    def strategy_versions(self, name: str) -> list[Record]:
        rows = self.conn.execute(
            "SELECT sid, record FROM strategies WHERE name = ? ORDER BY version", (name,)
        )
        return [self._read("strategies", sid, record) for sid, record in rows]

    @_guarded
    def get_strategy(self, name_or_sid: str, version: int | None = None) -> Record | None:
        """The strategy with that sid, or that name's given (default: latest) version."""
        row = self._strategy_column("sid, record", name_or_sid, version, whole=True)
        return self._read("strategies", *row) if row else None

    @_guarded
    def strategy_digest(self, name_or_sid: str, version: int | None = None) -> str | None:
        """The stored digest of `get_strategy(name_or_sid, version)`."""
        return self._strategy_column("digest", name_or_sid, version)

    def _strategy_column(
        self, column: str, name_or_sid: str, version: int | None, *, whole: bool = False
    ) -> Any:
        if version is None:
            sql = (
                f"SELECT {column} FROM strategies WHERE name = ?1 OR sid = ?1 "
                "ORDER BY sid = ?1 DESC, version DESC LIMIT 1"
            )
            params: tuple[Any, ...] = (name_or_sid,)
        else:
            sql = (
                f"SELECT {column} FROM strategies WHERE (name = ?1 OR sid = ?1) AND version = ?2 "
                "LIMIT 1"
            )
            params = (name_or_sid, int(version))
        row = self.conn.execute(sql, params).fetchone()
        return row if whole or not row else row[0]

    @_guarded
    def match_strategy_names(self, prefix: str, limit: int = 20) -> list[str]:
        """Strategy names (each once, whatever its versions) starting with `prefix`."""
        return self._match("strategies", prefix, limit, column="name")

    @_guarded
    def list_strategies(self) -> list[Record]:
        """The latest version of each strategy name, with `versions`: how many are stored."""
        rows = self.conn.execute(
            "SELECT s.sid, s.record, c.n FROM strategies s JOIN "
            "(SELECT name, max(version) AS v, count(*) AS n FROM strategies GROUP BY name) c "
            "ON s.name = c.name AND s.version = c.v ORDER BY s.name"
        )
        out = []
        for sid, record, count in rows:
            rec = self._read("strategies", sid, record)
            rec["versions"] = count
            out.append(rec)
        return out

    # --- instances ------------------------------------------------------------------------------

    def _instance_row(
        self, record: Record, state: Record | None, simulated: int, names: dict[str, str | None]
    ) -> tuple[Any, ...]:
        embedded = record.get("strategy")
        strategy_sid = record.get("strategyId")
        if isinstance(embedded, dict) and embedded.get("name"):
            name = embedded["name"]
        elif strategy_sid is not None and strategy_sid in names:
            name = names[strategy_sid]
        else:
            name = self.strategy_name(strategy_sid)
            if strategy_sid is not None:
                names[strategy_sid] = name
        return instance_row(record, state, simulated, name, self.path)

    @_guarded
    def strategy_name(self, sid: str | None) -> str | None:
        """The name of the stored strategy with that sid (None if there is none)."""
        row = self.conn.execute("SELECT name FROM strategies WHERE sid = ?", (sid,)).fetchone()
        return row[0] if row else None

    @_guarded
    def put_instance(self, record: Record, state: Record, *, simulated: bool = False) -> None:
        """Insert or replace an instance (its record without the embedded strategy)."""
        with self.transaction():
            row = self._instance_row(record, state, 1 if simulated else 0, {})
            self.conn.execute(_INSTANCE_INSERT, row)

    @_guarded
    def get_instance(self, sid: str) -> tuple[Record, Record] | None:
        row = self.conn.execute(
            "SELECT record, state FROM instances WHERE sid = ?", (sid,)
        ).fetchone()
        if row is None:
            return None
        return self._read("instances", sid, row[0]), self._read("state", sid, row[1] or "{}")

    def _match(self, table: str, prefix: str, limit: int, column: str = "sid") -> list[str]:
        # A range on an indexed column: exact (case-sensitive, no LIKE wildcards) and fast.
        rows = self.conn.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} >= ? AND {column} < ? "
            f"ORDER BY {column} LIMIT ?",
            (prefix, prefix + "\U0010ffff", int(limit)),
        )
        return [r[0] for r in rows]

    @_guarded
    def match_instance_sids(self, prefix: str, limit: int = 20) -> list[str]:
        return self._match("instances", prefix, limit)

    @_guarded
    def all_instance_sids(self, limit: int = 50_000) -> list[str]:
        rows = self.conn.execute("SELECT sid FROM instances ORDER BY sid LIMIT ?", (int(limit),))
        return [r[0] for r in rows]

    @_guarded
    def list_instances(
        self,
        *,
        strategy: str | None = None,
        status: str | None = None,
        simulated: bool | None = False,
    ) -> list[Record]:
        """Instances by creation; `strategy` is a name or sid; `simulated=None` means both."""
        where: list[str] = []
        params: list[Any] = []
        if strategy is not None:
            where.append("(strategy_name = ? OR strategy_sid = ?)")
            params += [strategy, strategy]
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if simulated is not None:
            where.append("simulated = ?")
            params.append(1 if simulated else 0)
        sql = "SELECT sid, record, simulated FROM instances"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, sid"
        out = []
        for sid, record, sim in self.conn.execute(sql, params):
            rec = self._read("instances", sid, record)
            rec["simulated"] = bool(sim)
            out.append(rec)
        return out

    # --- events ---------------------------------------------------------------------------------

    def _read(self, table: str, sid: Any, text: Any) -> Record:
        return read_record(self.path, table, sid, text)

    def _events(self, rows: Iterable[tuple[Any, Any]]) -> list[Record]:
        return [self._read("events", sid, record) for sid, record in rows]

    def _event_rows(self, records: Iterable[Record], simulated: int) -> Iterator[tuple[Any, ...]]:
        return event_rows(records, simulated, self.path)

    @_guarded
    def put_events(self, records: Iterable[Record], *, simulated: bool = False) -> int:
        """Insert or replace events (one executemany); returns how many were written."""
        count = 0

        def counted() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for row in self._event_rows(records, 1 if simulated else 0):
                count += 1
                yield row

        with self.transaction():
            self.conn.executemany(_EVENT_INSERT, counted())
        return count

    @_guarded
    def get_event(self, sid: str) -> Record | None:
        row = self.conn.execute("SELECT record FROM events WHERE sid = ?", (sid,)).fetchone()
        return self._read("events", sid, row[0]) if row else None

    @_guarded
    def match_event_sids(self, prefix: str, limit: int = 20) -> list[str]:
        return self._match("events", prefix, limit)

    @_guarded
    def events_of(self, instance_sid: str, statuses: Collection[str] | None = None) -> list[Record]:
        """An instance's events (optionally only those statuses), by date then sid."""
        if statuses is None:
            rows = self.conn.execute(
                "SELECT sid, record FROM events WHERE instance_sid = ? ORDER BY date_utc, sid",
                (instance_sid,),
            )
        else:
            wanted = list(statuses)
            if not wanted:
                return []
            marks = ", ".join("?" * len(wanted))
            rows = self.conn.execute(
                f"SELECT sid, record FROM events WHERE instance_sid = ? AND status IN ({marks}) "
                "ORDER BY date_utc, sid",
                (instance_sid, *wanted),
            )
        return self._events(rows)

    @_guarded
    def pending_events_of(self, instance_sid: str) -> list[Record]:
        """An instance's events in a non-terminal status, by date then sid."""
        rows = self.conn.execute(
            "SELECT sid, record FROM events WHERE instance_sid = ? "
            f"AND status NOT IN ({_TERMINAL_MARKS}) ORDER BY date_utc, sid",
            (instance_sid, *TERMINAL_STATUSES),
        )
        return self._events(rows)

    @_guarded
    def due_events(
        self,
        now_utc: str | datetime,
        *,
        statuses: Collection[str] = (EventStatus.PENDING,),
        limit: int = 100,
        instance_sid: str | None = None,
    ) -> list[Record]:
        """Non-simulated events in `statuses` whose date is at or before `now_utc`, by date."""
        wanted = list(statuses)
        if not wanted:
            return []
        try:
            now_key = utc_key(now_utc)
        except (TypeError, ValueError):
            raise StoreError(f"{self.path}: {now_utc!r} is not an RFC 3339 instant") from None
        marks = ", ".join("?" * len(wanted))
        sql = (
            f"SELECT sid, record FROM events WHERE status IN ({marks}) AND date_utc <= ? "
            "AND simulated = 0"
        )
        params: list[Any] = [*wanted, now_key]
        if instance_sid is not None:
            sql += " AND instance_sid = ?"
            params.append(instance_sid)
        sql += " ORDER BY date_utc, sid LIMIT ?"
        params.append(int(limit))
        return self._events(self.conn.execute(sql, params))

    # --- checks ---------------------------------------------------------------------------------

    @_guarded
    def damaged_records(self, limit: int = 5) -> list[str]:
        """The first `limit` records no command could use (each as its StoreError message):
        what `strategy doctor` reports. Reads every row once."""
        from .strategies import settings_of

        found: list[str] = []
        queries = [
            ("strategies", "SELECT sid, record FROM strategies"),
            ("instances", "SELECT sid, record FROM instances"),
            ("state", "SELECT sid, coalesce(state, '{}') FROM instances"),
            ("events", "SELECT sid, record FROM events"),
        ]
        for table, sql in queries:
            for sid, text in self.conn.execute(sql):
                try:
                    record = self._read(table, sid, text)
                    if table == "strategies":
                        settings_of(record)
                except StrategyError as exc:
                    found.append(exc.message)
                    if len(found) >= limit:
                        return found
        return found

    @_guarded
    def due_tasks(
        self, now_utc: str | datetime, *, instance_sid: str | None = None
    ) -> list[tuple[str, str]]:
        """(strategy sid, task) of the non-simulated PENDING events due at `now_utc`, each once:
        what `strategy run` checks before it claims anything."""
        sql = (
            "SELECT DISTINCT json_extract(record, '$.strategySid'), json_extract(record, '$.task') "
            "FROM events WHERE status = ? AND date_utc <= ? AND simulated = 0 "
            "AND json_valid(record)"
        )
        params: list[Any] = [EventStatus.PENDING, utc_key(now_utc)]
        if instance_sid is not None:
            sql += " AND instance_sid = ?"
            params.append(instance_sid)
        rows = self.conn.execute(sql, params)
        return [(r[0], r[1]) for r in rows if isinstance(r[0], str) and isinstance(r[1], str)]

    # --- bulk -----------------------------------------------------------------------------------

    @_guarded
    def bulk_insert(
        self,
        instances: Iterable[tuple[Record, Record]],
        events: Iterable[Record],
        *,
        simulated: bool,
    ) -> None:
        """Insert or replace many instances and events: one executemany per table, in the
        current transaction (or a new one)."""
        sim = 1 if simulated else 0
        names: dict[str, str | None] = {}
        with self.transaction():
            conn = self.conn
            conn.executemany(
                _INSTANCE_INSERT,
                (self._instance_row(record, state, sim, names) for record, state in instances),
            )
            conn.executemany(_EVENT_INSERT, self._event_rows(events, sim))

    @contextmanager
    def bulk_transaction(self) -> Iterator[None]:
        """`transaction()` for a large write (a simulated portfolio: hundreds of MB of rows).

        In WAL mode each page is written twice, to the log and back into the file at the
        checkpoint that follows the commit, which then takes seconds after all the work is done.
        When no other connection has the store open, the write runs with a rollback journal
        instead: pages go to the file as the work proceeds, and the commit is as atomic (an
        interrupted write is rolled back at the next open; `synchronous = FULL` keeps that true
        across a power cut). The store is back in WAL mode afterwards. Other commands that open
        the store meanwhile wait for the write, up to the busy timeout.
        """
        switched = self._leave_wal()
        try:
            with self.transaction():
                yield
        finally:
            if switched:
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self._use_wal(self.conn)

    def _leave_wal(self) -> bool:
        if self.path == ":memory:" or self._depth or self.readonly:
            return False
        conn = self.conn
        conn.execute("PRAGMA busy_timeout = 0")  # someone else has it open: keep WAL, at once
        try:
            mode = str(conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower()
        except sqlite3.OperationalError:
            mode = "wal"
        finally:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        if mode != "delete":
            return False
        conn.execute("PRAGMA synchronous = FULL")
        return True

    @_guarded
    def insert_rows(
        self, instances: Iterable[tuple[Any, ...]], events: Iterable[tuple[Any, ...]]
    ) -> None:
        """Insert or replace rows built by `instance_row` / `event_rows` (e.g. in a worker
        process): one executemany per table, in the current transaction (or a new one)."""
        with self.transaction():
            self.conn.executemany(_INSTANCE_INSERT, instances)
            self.conn.executemany(_EVENT_INSERT, events)
