"""System pane, Engines group: who runs what when engines share the site, in site time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pytestqt.qtbot import QtBot

from engine.cluster.status import RUNNING, SILENT, STOPPED, EngineLine, EnginesStatus
from engine.history.query_service import QueryRequest, QueryResult
from engine.settings import SettingsRequest
from engine.sitetime import SiteTime
from engine.status import SystemStatus
from engine.store import Store
from widgets.system.view import SystemPane

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # 21:06:07 the day before in Los Angeles
GIB = 2**30


def engine(name: str, state: str, **fields: Any) -> EngineLine:
    values: dict[str, Any] = {
        "site": "north",
        "name": name,
        "host": f"{name}.lan",
        "pid": 4242,
        "state": state,
        "capacity": 8,
        "started_at": T0 - timedelta(days=1),
        "last_heard_at": T0 - timedelta(seconds=3),
        "clock_offset_ms": 0.0,
        "cameras": (),
        "rooms": (),
        "site_services": False,
    }
    return EngineLine(**(values | fields))


CLUSTER = EnginesStatus(
    at=T0,
    engines=(
        engine(
            "server-a",
            RUNNING,
            cameras=("plaza", "gate", "dock", "yard"),
            rooms=("lab",),
            site_services=True,
            clock_offset_ms=1600.0,
        ),
        engine("server-b", SILENT, last_heard_at=T0 - timedelta(minutes=4)),
        engine("server-c", STOPPED, last_heard_at=T0 - timedelta(hours=3)),
    ),
    unowned=("north: camera lobby",),
    problems=(
        "engine server-b on server-b.lan has not been heard from since 2026-03-04 05:02:07 UTC",
        "engine server-a: its clock is 1.6 s ahead of the database's (set up NTP on server-a.lan)",
    ),
)


def system_status(cluster: EnginesStatus | None) -> SystemStatus:
    return SystemStatus(
        at=T0,
        database="sqlite:///watchfloor.db",
        backend="sqlite",
        database_bytes=GIB,
        media_bytes={"clip": 2 * GIB},
        media_files={"clip": 12},
        data_dir="/var/lib/watchfloor",
        free_bytes=50 * GIB,
        free_floor_bytes=2 * GIB,
        persons=3,
        events_total=120,
        events_per_day=[("2026-03-04", 20)],
        last_retention_at=T0 - timedelta(hours=1),
        problems=list(cluster.problems) if cluster else [],
        cluster=cluster,
    )


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """A status request that answers with a status built by the test."""

    status: SystemStatus

    def run(self, store: Store) -> SystemStatus:
        return self.status


class AnsweringClient:
    """The pane's query client without threads: answers on the GUI thread at once (the
    status it is given; no settings)."""

    def submit(
        self,
        channel: str,
        request: QueryRequest[Any],
        on_done: Callable[[QueryResult[Any]], None],
    ) -> int:
        value = [] if isinstance(request, SettingsRequest) else request.run(None)  # type: ignore[arg-type]
        on_done(QueryResult(channel, request, 1, value=value))
        return 1

    def submit_action(
        self,
        channel: str,
        action: Callable[[], Any],
        on_done: Callable[[QueryResult[Any]], None],
        *,
        name: str = "",
    ) -> int:
        raise AssertionError("the Engines group runs no action")


def shown_pane(qtbot: QtBot, *statuses: SystemStatus) -> SystemPane:
    """The pane at the console's smallest window size, showing the first of ``statuses``;
    each :meth:`SystemPane.refresh` shows the next."""
    readings = list(statuses)
    pane = SystemPane(
        AnsweringClient(),
        lambda: StatusAnswer(readings.pop(0) if len(readings) > 1 else readings[0]),
        lambda: "",
        lambda _key, _value: None,
    )
    qtbot.addWidget(pane)
    pane.resize(1400, 860)
    pane.show()
    qtbot.waitExposed(pane)
    assert pane.status is statuses[0]
    return pane


def test_each_engine_is_one_row_in_words_and_site_time(
    qtbot: QtBot, shown_zone: Callable[[str], SiteTime]
) -> None:
    shown_zone("America/Los_Angeles")
    pane = shown_pane(qtbot, system_status(CLUSTER))

    assert pane.engines_group.isVisible()
    rows = [[label.text() for label in row.labels()] for row in pane.engine_rows]
    assert rows == [
        [
            "server-a",
            "running",
            "server-a.lan",
            "2026-03-03 21:06:04 (3 s ago)",
            "+1.6 s — OFF",
            "4 cameras: plaza, gate, dock, yard; room lab; site services",
        ],
        [
            "server-b",
            "silent — not heard from",
            "server-b.lan",
            "2026-03-03 21:02:07 (4 min ago)",
            "—",
            "nothing",
        ],
        [
            "server-c",
            "stopped",
            "server-c.lan",
            "2026-03-03 18:06:07 (3.0 h ago)",
            "—",
            "nothing",
        ],
    ]
    running, silent, stopped = pane.engine_rows
    assert "2026-03-03 21:02:07 PST" in silent.last_heard.toolTip()
    assert "process 4242 on server-b.lan" in silent.machine.toolTip()
    # No UTC time and no Python repr anywhere a person reads.
    shown = " ".join(
        text
        for row in pane.engine_rows
        for label in row.labels()
        for text in (label.text(), label.toolTip())
    )
    assert "05:0" not in shown and "+00:00" not in shown and "datetime" not in shown
    assert "UTC" not in shown and "EngineLine" not in shown

    # The problems in the pane's one red: the silent engine and the clock that is off.
    def red(label: Any) -> bool:
        return bool(label.property("role") == "error")

    assert red(silent.state) and red(silent.name) and red(silent.last_heard)
    assert red(running.clock) and "NTP on server-a.lan" in running.clock.toolTip()
    assert not red(running.state) and not red(running.runs) and not red(running.name)
    assert not any(red(label) for label in stopped.labels())
    assert "server-c" not in pane.problems_label.text()

    assert pane.unowned_label.isVisible()
    assert pane.unowned_label.text() == "Runs nowhere: north: camera lobby"
    assert red(pane.unowned_label)


def test_a_long_camera_list_wraps_and_its_tooltip_names_every_camera(qtbot: QtBot) -> None:
    cameras = tuple(f"camera-number-{n}" for n in range(1, 13))
    cluster = replace(
        CLUSTER,
        engines=(engine("server-a", RUNNING, cameras=cameras, clock_offset_ms=200.0),),
        unowned=(),
        problems=(),
    )
    pane = shown_pane(qtbot, system_status(cluster))

    (row,) = pane.engine_rows
    assert row.clock.text() == "+0.2 s"
    assert row.clock.property("role") != "error"
    assert row.runs.text().startswith("12 cameras: camera-number-1, ")
    assert row.runs.text().endswith(", …")
    assert row.runs.toolTip() == f"12 cameras: {', '.join(cameras)}"
    assert row.runs.wordWrap()
    # Nothing cut off: the row is as wide as the group lets it be, and tall enough to wrap.
    assert row.runs.geometry().right() <= pane.engines_group.contentsRect().right()
    assert row.runs.height() >= row.runs.heightForWidth(row.runs.width())
    assert not pane.unowned_label.isVisible()


def test_the_group_is_hidden_when_no_engine_ever_shared_the_site(qtbot: QtBot) -> None:
    pane = shown_pane(qtbot, system_status(None))

    assert not pane.engines_group.isVisible()
    assert pane.engine_rows == []


def test_the_rows_follow_the_engines_from_one_reading_to_the_next(qtbot: QtBot) -> None:
    one_left = replace(CLUSTER, engines=CLUSTER.engines[1:2], unowned=())
    pane = shown_pane(qtbot, system_status(CLUSTER), system_status(one_left), system_status(None))
    assert len(pane.engine_rows) == 3

    pane.refresh()
    assert [row.state.text() for row in pane.engine_rows] == ["silent — not heard from"]
    assert not pane.unowned_label.isVisible()
    assert pane.engines_group.isVisible()

    pane.refresh()
    assert not pane.engines_group.isVisible()


def test_the_connections_group_says_how_the_broker_and_recordings_are(qtbot: QtBot) -> None:
    """What the process talks to besides its store, one row each, a problem in red; the
    group is hidden when there is nothing."""
    plain = system_status(None)
    linked = replace(
        plain,
        links=(
            ("mqtt", "degraded", "mqtt://broker:1883: lost the broker; reconnecting (3 queued)"),
            ("recordings", "ok", "2 files (1.3 MB) fetched from the site's engines"),
        ),
    )
    pane = shown_pane(qtbot, plain, linked)
    assert not pane.links_group.isVisible()
    pane.refresh()
    qtbot.waitUntil(lambda: pane.links_group.isVisible())
    mqtt, recordings = pane.link_labels["mqtt"], pane.link_labels["recordings"]
    assert mqtt.text() == "Trouble: mqtt://broker:1883: lost the broker; reconnecting (3 queued)"
    assert recordings.text() == "OK: 2 files (1.3 MB) fetched from the site's engines"
    assert mqtt.styleSheet() != "" and recordings.styleSheet() == ""
    titles = [
        pane._links.itemAt(row, pane._links.ItemRole.LabelRole).widget().text()
        for row in range(pane._links.rowCount())
    ]
    assert titles == ["MQTT broker", "Recordings"]
