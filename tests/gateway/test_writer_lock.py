"""The ``.writer-lock`` file beside a SQLite database goes when its last user does.

It used to stay behind after every run, even a refused start; it must not go while
another process (a live server) still uses it, and a store that outlives a removal must
keep serializing its writes with newcomers.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from mock_gateway.store import Store

_HOLDER = textwrap.dedent(
    """
    import sys
    from mock_gateway.store import Store
    store = Store(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()
    store.close()
    print("closed", flush=True)
    """
)


def _lock(database: Path) -> Path:
    return database.with_name(database.name + ".writer-lock")


def test_closing_the_last_store_removes_the_lock_file(tmp_path: Path) -> None:
    database = tmp_path / "gateway.sqlite3"
    first, second = Store(f"sqlite:///{database}"), Store(f"sqlite:///{database}")
    assert _lock(database).exists()
    first.close()
    assert _lock(database).exists()  # the other store of this process still uses it
    with second.write() as conn:
        conn.exec_driver_sql("SELECT 1")
    second.close()
    assert database.exists() and not _lock(database).exists()


def test_the_lock_file_stays_while_another_process_uses_it(tmp_path: Path) -> None:
    database = tmp_path / "gateway.sqlite3"
    url = f"sqlite:///{database}"
    Store(url).close()  # the schema exists before the other process opens it
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "open"
            mine = Store(url)
            mine.close()
            assert _lock(database).exists()  # a live server holds it: not removed under it
            again = Store(url)  # and a newcomer shares that very file
            with again.write() as conn:
                conn.exec_driver_sql("SELECT 1")
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "closed"
            assert _lock(database).exists()  # this process still uses it
            again.close()
            assert not _lock(database).exists()
        finally:
            holder.kill()
