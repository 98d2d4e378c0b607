"""Shared fixtures: isolated data dirs, real SQLite and PostgreSQL databases, test videos.

Which databases a test runs on (issue 65: tests by boundary, on real parts). A test whose
subject is SQL runs on SQLite and on the real PostgreSQL server; every other test that
takes a database (:func:`db_url`, :func:`store`) runs on SQLite only. The subject is SQL
when the test is about what the database does or what the code asks of it: store
commands and the store writer, queries (filters, ordering, grouping, JSON fields, time
zones, text search), migrations (:func:`empty_db_url`, always on both), cluster leases and
the cluster feed, the audit chain and its checkpoints in the database, retention's and
erasure's deletes, locking, concurrency, unique violations and retries on lock or
serialization errors, and any code that branches on the dialect (``dialect``,
``backend ==``, ``@compiles``, ``sqlite_insert``/``postgresql_insert``). Such a module
says so with ``pytestmark = pytest.mark.sql`` (or a single test with
``@pytest.mark.sql``). Panes, the CLI's wording, video, sensing and other tests that only
use a store to hold their data are not about SQL: one real database (SQLite) is enough,
and running them twice cost minutes for nothing. When in doubt, mark it ``sql``.

The PostgreSQL params keep the ``postgres`` marker: ``-m "not postgres"`` (``scripts/
check.sh --quick``) runs everything on SQLite only, with no server. A test that names its
databases itself (``pytest.mark.parametrize("db_url", [...], indirect=True)``) keeps them.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import sys
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from console.session_bus import no_dbus_autolaunch
from engine.clock import REAL_CLOCK, Clock
from engine.cv import import_cv2
from engine.sitetime import UTC_TIME, SiteTime, set_display
from engine.store import Store
from engine.store.writer import StoreWriter

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TESTDATA = SHARED / "testdata"
DEBIAN_VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
ENGINE_THREAD_PREFIXES = (
    "camera-",
    "decode-",
    "record-",
    "engine-site-file",
    "clip-writer-",
    "clip-encoder-",
    "face-worker",
    "gesture-worker",
    "sensing-server",
    "sensing-sim",
    "sensing-fusion",
    "sensing-recorder",
    "query-",
    "replay-decoder",
    "store-writer",
    "risk-class-refresh",
    "engine-watchdog",
    "engine-settings",
    "risk-retrain",
    "retention",
    "audit-checkpoint",
    "ble-scan",
    "alert-webhook",
    "alert-escalation",
    "text-indexer",
)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the real user data/config dirs and database."""
    monkeypatch.setenv("WATCHFLOOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WATCHFLOOR_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("WATCHFLOOR_DB_URL", raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def views_show_utc() -> Iterator[None]:
    """Each test starts with the views showing UTC, whatever the machine's zone and
    whatever zone a console opened by an earlier test showed, so no test depends on the
    machine it runs on; a test of site time picks its zone with ``shown_zone``."""
    set_display(UTC_TIME)
    yield
    set_display(None)


@pytest.fixture
def shown_zone() -> Callable[[str], SiteTime]:
    """``shown_zone("America/Los_Angeles")``: the views show that zone, as when a console
    opened a site there; returns its :class:`SiteTime`. Tests of what a person reads pick a
    zone far from UTC so they cannot pass by showing this (UTC) machine's zone."""

    def show(name: str) -> SiteTime:
        site_time = SiteTime.named(name)
        set_display(site_time)
        return site_time

    return show


@pytest.fixture(scope="session", autouse=True)
def imports_out_of_the_collectors_sight() -> None:
    """Everything imported by now is kept for the whole run: out of the garbage collector's
    sight (as the console does after starting), a full collection takes milliseconds."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def qt_garbage_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test with Qt widgets collects Python's garbage on the GUI thread, as the console
    does (:class:`console.app.GuiThreadCollector`), and all of it at its end: Qt wrappers
    it leaves are never destroyed by an engine or query thread of this or a later test (a
    test process crashed so, "Garbage-collecting" in a query worker)."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    from console.app import GuiThreadCollector

    collector = GuiThreadCollector()
    collector.start()
    try:
        yield
    finally:
        collector.stop()
        # What is still alive now (modules and caches this test imported or filled) is
        # kept out of the collector's sight, as at the session's start: each full collection
        # then walks only what later tests make. Without it, collecting at a Qt test's end
        # walked everything every earlier test had left (~200 s of a whole run's CPU,
        # py-spy). Only cyclic garbage made of these objects later is never collected.
        gc.freeze()


@pytest.fixture(autouse=True)
def no_leaked_engine_threads() -> Iterator[None]:
    """Fail a test that leaves camera, writer or watchdog threads running: only the test
    that started them (a leak once failed every later test of its worker, 951 errors for
    one failure, and hid which test it was)."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t.is_alive() and t.name.startswith(ENGINE_THREAD_PREFIXES) and t not in before
    ]
    # Where each is now, so that a leak says what the thread was still doing.
    frames = sys._current_frames()
    where = "".join(
        f"\n--- {t.name}:\n" + "".join(traceback.format_stack(frames[t.ident])[-6:])
        for t in leaked
        if t.ident is not None and t.ident in frames
    )
    assert not leaked, f"test leaked running engine threads: {[t.name for t in leaked]}{where}"


@pytest.fixture(scope="session")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A sensing recording of a live simulated room (about 12 s, one walker) and the blob
    records its run published; made once per test process, on a simulated clock (about 1 s
    of real time on an idle machine, the same recording on a busy one), and only read."""
    from tests.engine.sensing.test_replay import record_live_room

    return record_live_room(tmp_path_factory.mktemp("recording"))


@pytest.fixture
def vtest_avi() -> Path:
    """The pedestrian sample video (768×576, 10 fps) the demo site plays."""
    if not DEBIAN_VTEST.exists():
        pytest.fail(f"{DEBIAN_VTEST} missing: install Debian's opencv-doc (scripts/bootstrap.sh)")
    return DEBIAN_VTEST


def cut_video(source: Path, target: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``source`` as an MJPG AVI at 10 fps: real footage,
    short, for a test that does not need the whole video."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(source))
    writer = None
    try:
        for _ in range(frames):
            ok, image = capture.read()
            if not ok:
                break
            if writer is None:
                height, width = image.shape[:2]
                fourcc = cv2.VideoWriter_fourcc(*"MJPG")
                writer = cv2.VideoWriter(str(target), fourcc, 10.0, (width, height))
            writer.write(image)
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    assert writer is not None, f"{source}: no frame could be read"
    return target


@pytest.fixture(scope="session")
def plaza_15s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 15 s (150 frames) of the pedestrian sample, cut once per test process.
    Read-only: a test that changes it copies it first."""
    if not DEBIAN_VTEST.exists():
        pytest.fail(f"{DEBIAN_VTEST} missing: install Debian's opencv-doc (scripts/bootstrap.sh)")
    return cut_video(DEBIAN_VTEST, tmp_path_factory.mktemp("plaza") / "plaza_15s.avi", 150)


@pytest.fixture(scope="session")
def plaza_15s_analysed(tmp_path_factory: pytest.TempPathFactory, plaza_15s: Path) -> Path:
    """:func:`plaza_15s` analysed with clips and snapshots (no faces), once per test process:
    a folder holding its SQLite database (``evidence.db``) and data dir (``data``). Media
    paths are stored relative to the data dir, so a test copies both and works on the copy
    (tests/engine/test_evidence.py's ``recorded``)."""
    from engine.analyze import analyze_video

    folder = tmp_path_factory.mktemp("analysed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WATCHFLOOR_DATA_DIR", str(folder / "data"))
        store = Store(f"sqlite:///{folder / 'evidence.db'}")
        try:
            report = analyze_video(
                plaza_15s, clock=REAL_CLOCK, store=store, camera="plaza", faces=False
            )
        finally:
            store.close()
    assert report["error"] is None, report["error"]
    return folder


@pytest.fixture
def hamilton_clip() -> Path:
    """A short real clip from ../shared/testdata (640×360, 29.97 fps, 275 frames)."""
    path = TESTDATA / "video" / "short_hamilton_clip.mp4"
    assert path.exists(), f"shared test data missing: {path}"
    return path


def _postgres_admin_url() -> str | None:
    url = os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail(
            "CI must run the storage tests against PostgreSQL: "
            "WATCHFLOOR_TEST_PG_URL is not set (scripts/with-postgres.sh sets it)"
        )
    return url


def _create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` on the server (a copy of ``template`` if given); its URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template() -> Iterator[dict[str, str]]:
    """Schemas at the head revision that each test's database is copied from, made once per
    test process (each xdist worker has its own): ``{"sqlite": path, "postgresql": name}``,
    filled on first use. Migrating costs ~0.3 s on PostgreSQL and ~0.07 s on SQLite; a copy
    costs ~0.02 s and a few milliseconds."""
    made: dict[str, str] = {}
    yield made
    admin_url = os.environ.get("WATCHFLOOR_TEST_PG_URL")
    if "postgresql" in made and admin_url:
        _drop_database(admin_url, made["postgresql"])
    if "sqlite" in made:
        shutil.rmtree(Path(made["sqlite"]).parent, ignore_errors=True)


def _template_for(backend: str, made: dict[str, str]) -> str:
    if backend in made:
        return made[backend]
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="watchfloor-template-"))
        path = folder / "template.db"
        Store(f"sqlite:///{path}").close()  # closing checkpoints the WAL into the file
        assert not path.with_name(path.name + "-wal").exists(), "template left a WAL behind"
        made["sqlite"] = str(path)
        return made["sqlite"]
    admin_url = _postgres_admin_url()
    assert admin_url is not None
    name = f"wf_template_{uuid.uuid4().hex[:12]}"
    Store(_create_database(admin_url, name)).close()  # no session may stay open on it
    made["postgresql"] = name
    return name


def _fresh_database(backend: str, tmp_path: Path, template: dict[str, str] | None) -> Iterator[str]:
    """A fresh database URL: a SQLite file, or a new database on the real server (dropped
    afterwards); a copy of the head-migrated ``template`` when given, empty otherwise."""
    if backend == "sqlite":
        path = tmp_path / "watchfloor-test.db"
        if template is not None:
            shutil.copyfile(_template_for("sqlite", template), path)
        yield f"sqlite:///{path}"
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("no PostgreSQL server (run the tests through scripts/check.sh)")
    name = f"wf_test_{uuid.uuid4().hex[:12]}"
    copied = _template_for("postgresql", template) if template is not None else None
    try:
        yield _create_database(admin_url, name, copied)
    finally:
        _drop_database(admin_url, name)


BOTH_DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
SQLITE_ONLY = ["sqlite"]


def _named_by_the_test(metafunc: pytest.Metafunc, fixture: str) -> bool:
    """Whether the test parametrizes ``fixture`` itself (``@pytest.mark.parametrize``)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if fixture in names:
            return True
    return False


def _ours(metafunc: pytest.Metafunc, fixture: str) -> bool:
    """Whether the test gets ``fixture`` from this file, not from a module's own fixture of
    that name (tests/console/test_gestures_cli.py has a SQLite ``db_url`` of its own)."""
    definitions = metafunc._arg2fixturedefs.get(fixture, ())
    return bool(definitions) and definitions[-1].func.__code__.co_filename == __file__


def pytest_configure(config: pytest.Config) -> None:
    # Before pytest-qt makes the QApplication, as the console does before it makes its own:
    # without a session bus, Qt's accessibility lookup forked (console.session_bus).
    no_dbus_autolaunch()


_CPU_AT_START = pytest.StashKey[float]()


def _cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_CPU_AT_START] = _cpu_seconds()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each test's CPU seconds (setup to teardown: its threads and the child processes it
    waited for), as the ``cpu_s`` property of its JUnit XML report: with the workers the
    suite runs, the CPU is what limits it, and scripts/test_durations.py says where it
    goes."""
    if call.when == "teardown" and _CPU_AT_START in item.stash:
        used = _cpu_seconds() - item.stash[_CPU_AT_START]
        item.user_properties.append(("cpu_s", f"{used:.3f}"))
    return (yield)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The databases a test runs on (this module's docstring): both for a test marked
    ``sql`` and for every test of migrating (:func:`empty_db_url`), SQLite for the rest."""
    sql = metafunc.definition.get_closest_marker("sql") is not None
    chosen = {"db_url": BOTH_DATABASES if sql else SQLITE_ONLY, "empty_db_url": BOTH_DATABASES}
    for fixture, databases in chosen.items():
        if (
            fixture in metafunc.fixturenames
            and _ours(metafunc, fixture)
            and not _named_by_the_test(metafunc, fixture)
        ):
            metafunc.parametrize(fixture, databases, indirect=True)


@pytest.fixture
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_template: dict[str, str]
) -> Iterator[str]:
    """A fresh database already at the head schema: a SQLite file, or a new database on the
    real server, each copied from a template migrated once per test process. On both for a
    test marked ``sql``, on SQLite for others (:func:`pytest_generate_tests`). A test of
    the migrations themselves takes :func:`empty_db_url`."""
    yield from _fresh_database(request.param, tmp_path, migrated_template)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A :class:`Store` on :func:`db_url` (SQLite, and PostgreSQL for a test marked ``sql``),
    closed after the test."""
    opened = Store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL (no schema): a SQLite file, or a new database on the
    real server; always both. For tests of migrating; others take :func:`db_url`."""
    yield from _fresh_database(request.param, tmp_path, None)


def write_site(
    path: Path, cameras: str = "", extra: str = "", *, default_rules: bool = False
) -> Path:
    """Write a minimal valid site file with the given [[cameras]] tables. Its cameras get
    no default alert rules unless ``default_rules``: an engine on the real clock would
    otherwise raise "after hours" alerts by the time of day the test runs at."""
    text = '[site]\nname = "Test site"\ngeo = { lat = 51.5, lon = -0.14 }\n' + extra + cameras
    if not default_rules:
        if "\n[alerts]\n" in f"\n{text}":
            text = f"\n{text}".replace("\n[alerts]\n", "\n[alerts]\ndefault_rules = false\n", 1)[1:]
        else:
            text += "\n[alerts]\ndefault_rules = false\n"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def copied_video(tmp_path: Path, vtest_avi: Path) -> Path:
    """A private copy of vtest.avi that a test may move away and bring back."""
    target = tmp_path / "camera.avi"
    shutil.copyfile(vtest_avi, target)
    return target


@pytest.fixture
def start_writer() -> Iterator[Callable[..., StoreWriter]]:
    """Starts store writers for a test (``start_writer(store, clock=...)``) and stops them
    (after writing everything) when it ends."""
    started: list[StoreWriter] = []

    def start(store: Store, clock: Clock = REAL_CLOCK) -> StoreWriter:
        writer = StoreWriter(store, clock=clock)
        writer.start()
        started.append(writer)
        return writer

    yield start
    for writer in started:
        writer.stop()
