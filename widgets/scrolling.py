"""A pane whose content scrolls inside it, so that a tall pane (a form, a list and a
preview stacked) can share a dock column or an administration page without making the
window taller than the screen."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget


def scrolling_layout(pane: QWidget, *, margins: int | None = 4) -> QVBoxLayout:
    """Fill ``pane`` with a frameless scroll area and return the layout of what scrolls
    in it (``margins`` pixels around; None: the style's own)."""
    content = QWidget()
    layout = QVBoxLayout(content)
    if margins is not None:
        layout.setContentsMargins(margins, margins, margins, margins)
    scroll = QScrollArea(pane)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(content)
    outer = QVBoxLayout(pane)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    return layout
