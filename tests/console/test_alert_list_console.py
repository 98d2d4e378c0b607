"""The alert rules and the alert list on a running engine: an admin adds a rule in the rules
pane, people on that camera (the very events the camera analyzer publishes) become a
sequence and an alert, which notifies the desktop and shows in the alert list, where the
admin labels its sequence a false alarm (stored with their account)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
from pytestqt.qtbot import QtBot

from engine.access import machine_actor
from engine.alerts.filtering import AlertListRequest
from engine.data_dirs import data_dir
from engine.events import PeopleDetected, Sighting
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, add_person_rule


def test_a_rule_added_in_the_console_turns_people_into_an_alert_the_admin_labels(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "missing.mp4"\n',
        extra='[alerts]\nrisk_provider = "none"\n',
    )
    host, window = open_console(site, accounts={"ada": "admin"}, login="ada")
    add_person_rule(qtbot, window, "gate", "gate watch")

    runtime = window.runtime
    start = runtime.clock.now()
    # The picture the analyzer keeps when a track is confirmed (on its third sighting).
    snapshot = "snapshots/gate/track-4.jpg"
    picture = np.full((120, 90, 3), (40, 160, 220), np.uint8)
    (data_dir() / snapshot).parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(data_dir() / snapshot), picture)
    for i, conf in enumerate((0.5, 0.8, 0.6)):
        runtime.bus.publish(
            PeopleDetected(
                at=start + timedelta(seconds=0.3 * i),
                camera="gate",
                frame_size=(640, 480),
                sightings=(
                    Sighting(4, (100.0, 80.0, 60.0, 160.0), conf, snapshot if i == 2 else None),
                ),
            )
        )
    alerts = window.panes["alert_list"]
    qtbot.waitUntil(lambda: len(alerts.rows()) == 1, timeout=10_000)
    (row,) = alerts.rows()
    assert row.cameras == ("gate",) and row.max_conf == 0.8
    assert row.title == "Person on Gate (gate watch)"
    assert "none is hidden" in alerts.filter_text()
    assert "Alert: Person on Gate" in window.statusBar().currentMessage()
    stream = window.panes["alerts"]
    assert stream.alert(row.alert_id) is not None  # the stream has it too
    # Selected there, it shows the picture of the person who raised it (a rule's alert has
    # no event of its own: it showed only a line of words).
    with qtbot.waitSignal(stream.sig_evidence_shown, timeout=10_000):
        stream.select(row.alert_id)
    assert stream.preview.showing() == "picture"
    assert stream.preview.caption.text().startswith("Person on Gate (gate watch): first seen ")

    assert alerts.select_alert(row.alert_id)
    assert alerts.select_sequence(row.sequences[0].sequence_id)
    alerts.label_selected("false_alarm")
    assert runtime.store is not None
    qtbot.waitUntil(
        lambda: (
            AlertListRequest().run(runtime.store).rows[0].sequences[0].label  # type: ignore[arg-type]
            == "false_alarm"
        ),
        timeout=10_000,
    )
    labelled = AlertListRequest().run(runtime.store).rows[0].sequences[0]
    assert labelled.labelled_by == "account:ada"
    window.shut_down("end of test", machine_actor())
    host.close()
