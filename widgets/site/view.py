"""Site overview: the site file as the engine understood it, with live camera status."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from engine.config import SiteConfig
from engine.events import CameraStatus


class SiteOverview(QTreeWidget):
    """Tree of the site: geo origin, room, cameras (with status) and sensing nodes."""

    def __init__(self, site: SiteConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Item", "Status / value", "Where"])
        root = QTreeWidgetItem([site.name, "", ""])
        self.addTopLevelItem(root)
        root.addChild(QTreeWidgetItem(["Site file", str(site.file), ""]))
        zone = site.site_time
        root.addChild(QTreeWidgetItem(["Time zone", zone.name, ""]))
        root.addChild(
            QTreeWidgetItem(
                ["Geo origin", f"{site.geo_origin.lat:.5f}, {site.geo_origin.lon:.5f}", ""]
            )
        )
        for room in site.rooms:
            box = room.box
            root.addChild(
                QTreeWidgetItem(
                    [
                        "Room" if len(site.rooms) == 1 else f"Room {room.name}",
                        f"{box.width_m:g} × {box.depth_m:g} × {box.height_m:g} m",
                        "",
                    ]
                )
            )
        self._cameras_item = QTreeWidgetItem(["Cameras", "", ""])
        root.addChild(self._cameras_item)
        self._camera_items: dict[str, QTreeWidgetItem] = {}
        self._list_cameras(site)
        nodes = QTreeWidgetItem([f"Sensing nodes ({len(site.sensing_nodes)})", "", ""])
        root.addChild(nodes)
        room_names = {room.id: room.name for room in site.rooms}
        for node in site.sensing_nodes:
            p = node.position
            where = f"({p.x_m:g}, {p.y_m:g}, {p.z_m:g}) m"
            if len(site.rooms) > 1:
                where = f"{room_names.get(node.room, node.room)}, {where}"
            nodes.addChild(QTreeWidgetItem([node.name, node.id, where]))
        self.expandAll()
        for column in range(self.columnCount()):
            self.resizeColumnToContents(column)

    def set_cameras(self, site: SiteConfig) -> None:
        """The site's cameras changed while the console runs (``site`` is the site running
        now): an added camera is listed (starting), a renamed one by its new name, a
        removed one no longer; a camera still there keeps its last status."""
        self._list_cameras(site)
        self._cameras_item.setExpanded(True)
        self.resizeColumnToContents(0)

    def _list_cameras(self, site: SiteConfig) -> None:
        cameras = self._cameras_item
        cameras.setText(0, f"Cameras ({len(site.cameras)})")
        kept = self._camera_items
        cameras.takeChildren()
        self._camera_items = {}
        for cam in site.cameras:
            where = f"({cam.position.x_m:g}, {cam.position.y_m:g}) m" if cam.position else ""
            before = kept.get(cam.id)
            status = before.text(1) if before is not None else "starting"
            item = QTreeWidgetItem([cam.name, status, where])
            item.setToolTip(0, f"{cam.id}: {cam.kind.value} {cam.url}")
            if before is not None:
                item.setToolTip(1, before.toolTip(1))
            cameras.addChild(item)
            self._camera_items[cam.id] = item

    def on_camera_status_changed(self, camera_id: str, status: CameraStatus, detail: str) -> None:
        item = self._camera_items.get(camera_id)
        if item is not None:
            item.setText(1, status.value.replace("_", " "))
            item.setToolTip(1, detail)
