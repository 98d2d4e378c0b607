"""Every colour pair of the dark theme meets WCAG AA, and unchecked boxes can be seen.

The theme is resources/theme.qss, the application palette (console.app.theme_palette) and
the signal colours of widgets/colours.py. The stylesheet is parsed rule by rule, so a colour
changed or a rule added later is checked without this file changing; a rule whose text sits
on a background the stylesheet does not state must say so in ``DRAWN_ON`` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLineEdit,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.app import apply_theme, theme_palette
from resources import RESOURCES_DIR, THEME_QSS
from widgets import colours
from widgets.contrast import (
    AA_LARGE_TEXT,
    AA_NON_TEXT,
    AA_TEXT,
    blend,
    contrast_ratio,
    parse_hex,
    relative_luminance,
)

# --- the contrast arithmetic ------------------------------------------------------------


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WCAG's own examples: #777777 on white just fails AA (4.48), #767676 just passes.
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")
    assert relative_luminance("#ff0000") == pytest.approx(0.2126)
    assert relative_luminance((0, 255, 0)) == pytest.approx(0.7152)
    assert relative_luminance("#fff") == pytest.approx(1.0)


def test_bad_colours_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'red'"):
        parse_hex("red")
    with pytest.raises(ValueError, match="'#12345'"):
        parse_hex("#12345")
    with pytest.raises(ValueError, match="256"):
        relative_luminance((256, 0, 0))
    with pytest.raises(ValueError, match=r"1\.5"):
        blend("#ffffff", 1.5, "#000000")


def test_blend_lays_a_see_through_colour_on_its_background() -> None:
    assert blend("#ffffff", 0.5, "#000000") == (128, 128, 128)
    assert blend("#f85149", 0.0, "#0d1117") == (13, 17, 23)


# --- the stylesheet ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    selector: str
    declarations: dict[str, str]

    def colour(self, *names: str) -> str | None:
        for name in names:
            value = self.declarations.get(name)
            if value is not None:
                found = re.search(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", value)
                if found:
                    return found.group(0).lower()
        return None


def parse_qss(text: str) -> list[Rule]:
    """Each selector of each rule with its declarations (one Rule per comma-separated one)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    rules: list[Rule] = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = {}
        for item in body.split(";"):
            if ":" in item:
                name, value = item.split(":", 1)
                declarations[name.strip().lower()] = value.strip()
        for selector in selectors.split(","):
            rules.append(Rule(" ".join(selector.split()), declarations))
    return rules


RULES = parse_qss(THEME_QSS.read_text(encoding="utf-8"))

DEFAULT = next(r for r in RULES if r.selector == "QWidget")
DEFAULT_TEXT = DEFAULT.colour("color")
DEFAULT_BACKGROUND = DEFAULT.colour("background")
SURFACES = (colours.CANVAS, colours.SURFACE, colours.RAISED)

# Rules that colour text without stating the background it sits on: where each is drawn.
DRAWN_ON: dict[str, tuple[str, ...]] = {
    "QLabel#lock-product": (colours.CANVAS,),  # inside the lock card
    "QLabel#lock-site": (colours.CANVAS,),
    'QLabel[role="error"]': SURFACES,  # any pane, the lock card, a dialog
    "QLabel#action-status": (colours.SURFACE,),
    "QLabel#admin-heading": (colours.SURFACE,),
    "QGroupBox::title": (colours.SURFACE,),
    "QGroupBox:disabled": (colours.SURFACE,),
    "QGroupBox::title:disabled": (colours.SURFACE,),
    "QCheckBox:disabled": (colours.CANVAS, colours.SURFACE),  # on panes and the lock card
    "QRadioButton:disabled": (colours.CANVAS, colours.SURFACE),
}

# Borders that separate areas but mark no control (WCAG 1.4.11 asks nothing of them).
DECORATIVE_BORDERS = {
    "QFrame#lock-card",  # the card is told apart by its own fill and content
    "QListWidget#admin-sidebar",  # the divider beside the sidebar of pages
    "QGroupBox",  # the group's title names it
    "QTabBar::tab",  # tabs are told apart by their text; the chosen one by its blue line
    "QPushButton:disabled",  # a disabled control is exempt; its text says what it is
    "QToolButton:disabled",
}

PSEUDO = re.compile(r"(::[a-z-]+|:[a-z-]+|\[[^\]]*\])")


def base_selector(selector: str) -> str:
    """The selector with its states and subcontrols dropped: ``QMenu::item:selected`` →
    ``QMenu``; the last part of a descendant selector."""
    return PSEUDO.sub("", selector.split()[-1])


def stated(selector: str, *names: str) -> str | None:
    """The colour the stylesheet states for ``selector`` (or its plainer forms)."""
    candidates = [selector]
    plain = re.sub(r"(?<!:):(?!:)[a-z-]+", "", selector)  # the same subcontrol, without states
    candidates += [plain, base_selector(selector)]
    for candidate in candidates:
        for rule in RULES:
            if rule.selector == candidate:
                value = rule.colour(*names)
                if value:
                    return value
    return None


def backgrounds_of(rule: Rule) -> tuple[str, ...]:
    own = stated(rule.selector, "background", "background-color")
    if own:
        return (own,)
    if rule.selector in DRAWN_ON:
        return DRAWN_ON[rule.selector]
    return ()


def text_rules() -> list[Rule]:
    """Rules that colour text or lay a fill under text (not handles, grooves, indicators)."""
    wordless = (
        "::chunk",
        "::groove",
        "::handle",
        "::sub-page",
        "::indicator",
        "-button",
        "-arrow",
        "::drop-down",
    )
    return [
        r
        for r in RULES
        if not any(part in r.selector for part in wordless)
        and (r.colour("color", "background", "background-color") is not None)
        and "#action-busy" not in r.selector  # the busy bar is 4 px high and has no text
    ]


@pytest.mark.parametrize("rule", text_rules(), ids=lambda r: r.selector)
def test_every_text_colour_meets_aa_on_its_background(rule: Rule) -> None:
    text = stated(rule.selector, "color") or DEFAULT_TEXT
    backgrounds = backgrounds_of(rule)
    assert backgrounds, f"{rule.selector}: say in DRAWN_ON what background its text is on"
    disabled = ":disabled" in rule.selector
    large = re.search(r"font-size:\s*(\d+)pt", " ".join(rule.declarations.values()))
    needed = AA_LARGE_TEXT if disabled or (large and int(large.group(1)) >= 18) else AA_TEXT
    assert text is not None
    for background in backgrounds:
        ratio = contrast_ratio(text, background)
        assert ratio >= needed, f"{rule.selector}: {text} on {background} is {ratio:.2f}:1"


def test_disabled_text_is_still_legible() -> None:
    """Disabled controls are exempt from AA, yet an operator must read what they are."""
    for rule in RULES:
        if ":disabled" in rule.selector and rule.colour("color"):
            for background in SURFACES:
                assert contrast_ratio(rule.colour("color") or "", background) >= AA_TEXT - 0.5


SELECTION_RULES = [r for r in RULES if r.colour("selection-background-color")]


@pytest.mark.parametrize("rule", SELECTION_RULES, ids=lambda r: r.selector)
def test_selections_read_and_stand_out(rule: Rule) -> None:
    selection = rule.colour("selection-background-color") or ""
    text = rule.colour("selection-color")
    assert text is not None, f"{rule.selector}: a selection states its text colour"
    assert contrast_ratio(text, selection) >= AA_TEXT
    for row in (rule.colour("background"), rule.colour("alternate-background-color")):
        if row:
            assert contrast_ratio(selection, row) >= AA_NON_TEXT, f"{rule.selector} on {row}"
            assert contrast_ratio(stated(rule.selector, "color") or DEFAULT_TEXT, row) >= AA_TEXT


def test_selected_items_state_a_readable_text_colour() -> None:
    for rule in RULES:
        if ":selected" in rule.selector or ":checked" in rule.selector:
            fill = rule.colour("background")
            if fill and "::indicator" not in rule.selector:
                text = stated(rule.selector, "color") or DEFAULT_TEXT
                ratio = contrast_ratio(text, fill)
                assert ratio >= AA_TEXT, f"{rule.selector}: {text} on {fill} is {ratio:.2f}:1"


EDGES = ("border", "border-color", "border-right", "border-bottom", "gridline-color")


def border_rules() -> list[tuple[Rule, str]]:
    return [
        (r, name)
        for r in RULES
        for name in EDGES
        if r.colour(name) and r.selector not in DECORATIVE_BORDERS
    ]


@pytest.mark.parametrize(
    ("rule", "name"), border_rules(), ids=lambda x: x.selector if isinstance(x, Rule) else x
)
def test_control_edges_focus_rings_and_grids_are_seen(rule: Rule, name: str) -> None:
    """Non-text parts (1.4.11): an edge that marks a control, an indicator, a focus ring or
    a table grid is 3:1 against every surface it can sit on."""
    edge = rule.colour(name)
    assert edge is not None
    own = stated(rule.selector, "background", "background-color")
    if own == edge:
        return  # a frame in the widget's own fill: invisible on purpose (no shift on focus)
    around = list(SURFACES)
    if ":focus" in rule.selector and own:
        around.append(own)  # a focus ring must also stand off the control it rings
    if "::indicator" in rule.selector and ":disabled" in rule.selector:
        needed = AA_NON_TEXT - 0.5  # disabled: exempt, still drawn
    else:
        needed = AA_NON_TEXT
    for surface in around:
        ratio = contrast_ratio(edge, surface)
        assert ratio >= needed, f"{rule.selector}: {edge} on {surface} is {ratio:.2f}:1"


def test_gridlines_are_checked() -> None:
    assert any(name == "gridline-color" for _, name in border_rules())


@pytest.mark.parametrize(
    "part",
    ["::handle", "::sub-page", "::groove", "::chunk", "::indicator:checked", "-arrow"],
)
def test_handles_grooves_and_marks_stand_off_the_surface(part: str) -> None:
    rules = [r for r in RULES if part in r.selector and r.colour("background", "image")]
    assert rules or part == "-arrow", f"no rule for {part}"
    for rule in rules:
        fill = rule.colour("background")
        if fill is None:
            continue
        # The busy bar's chunk runs over the bar's own groove.
        behind = (
            stated(rule.selector.replace("::chunk", ""), "background")
            if part == "::chunk"
            else None
        )
        for surface in [*SURFACES, *([behind] if behind else [])]:
            ratio = contrast_ratio(fill, surface)
            assert ratio >= AA_NON_TEXT - (0.5 if ":disabled" in rule.selector else 0), (
                f"{rule.selector}: {fill} on {surface} is {ratio:.2f}:1"
            )


def test_the_focus_ring_is_declared_for_every_kind_of_control() -> None:
    focused = {base_selector(r.selector) for r in RULES if ":focus" in r.selector}
    for kind in (
        "QLineEdit",
        "QComboBox",
        "QAbstractSpinBox",
        "QPushButton",
        "QToolButton",
        "QCheckBox",
        "QRadioButton",
        "QTableView",
        "QTreeView",
        "QListView",
    ):
        assert kind in focused, f"{kind} shows no focus ring"


def test_images_the_stylesheet_names_exist() -> None:
    text = re.sub(r"/\*.*?\*/", "", THEME_QSS.read_text(encoding="utf-8"), flags=re.DOTALL)
    names = re.findall(r"url\(theme:([^)]+)\)", text)
    assert names
    for name in names:
        assert (RESOURCES_DIR / name).is_file(), name


# --- the palette and the signal colours -------------------------------------------------

TEXT_ON = [
    ("WindowText", "Window"),
    ("Text", "Base"),
    ("Text", "AlternateBase"),
    ("ButtonText", "Button"),
    ("HighlightedText", "Highlight"),
    ("ToolTipText", "ToolTipBase"),
    ("Link", "Base"),
    ("Link", "Window"),
    ("LinkVisited", "Base"),
    ("LinkVisited", "Window"),
    ("PlaceholderText", "Base"),
    ("BrightText", "Highlight"),
]


@pytest.mark.parametrize(("text", "background"), TEXT_ON)
def test_palette_text_meets_aa(qapp: QApplication, text: str, background: str) -> None:
    palette = theme_palette()
    fg = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole[text]).name()
    bg = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole[background]).name()
    assert contrast_ratio(fg, bg) >= AA_TEXT, f"{text} {fg} on {background} {bg}"


def test_palette_links_are_not_the_default_dark_blue(qapp: QApplication) -> None:
    palette = theme_palette()
    assert palette.color(QPalette.ColorRole.Link).name() == colours.ACCENT
    assert palette.color(QPalette.ColorRole.LinkVisited).name() == colours.LINK_VISITED


def test_palette_disabled_text_is_legible(qapp: QApplication) -> None:
    palette = theme_palette()
    group = QPalette.ColorGroup.Disabled
    for text, background in (
        ("WindowText", "Window"),
        ("Text", "Base"),
        ("ButtonText", "Button"),
        ("HighlightedText", "Highlight"),
    ):
        fg = palette.color(group, QPalette.ColorRole[text]).name()
        bg = palette.color(group, QPalette.ColorRole[background]).name()
        assert contrast_ratio(fg, bg) >= AA_NON_TEXT, f"disabled {text} on {background}"


def test_palette_selection_stands_off_the_rows(qapp: QApplication) -> None:
    palette = theme_palette()
    highlight = palette.color(QPalette.ColorRole.Highlight).name()
    for row in ("Base", "AlternateBase", "Window"):
        assert contrast_ratio(highlight, palette.color(QPalette.ColorRole[row]).name()) >= 3


def test_palette_and_stylesheet_agree() -> None:
    assert DEFAULT_BACKGROUND == colours.SURFACE
    assert DEFAULT_TEXT == colours.TEXT
    error = next(r for r in RULES if r.selector == 'QLabel[role="error"]')
    assert error.colour("color") == colours.ALARM_RED.lower()


SIGNAL_COLOURS = {
    **colours.TONE_COLOURS,
    "amber": colours.WARNING_AMBER,
    "muted": colours.MUTED_GREY,
    "error red": colours.ALARM_RED,
}


@pytest.mark.parametrize(("name", "colour"), sorted(SIGNAL_COLOURS.items()))
def test_signal_colours_read_on_rows_and_panes(name: str, colour: str) -> None:
    # Tables draw rows on the canvas and alternate rows on the surface; labels sit on the
    # surface, buttons and headers on the raised grey.
    for background in SURFACES:
        ratio = contrast_ratio(colour, background)
        assert ratio >= AA_TEXT, f"{name} {colour} on {background} is {ratio:.2f}:1"


# --- what is actually drawn -------------------------------------------------------------


@pytest.fixture
def themed(qapp: QApplication):  # type: ignore[no-untyped-def]
    old_style = qapp.style().name()
    old_sheet = qapp.styleSheet()
    old_palette = qapp.palette()
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet(old_sheet)
    qapp.setPalette(old_palette)
    qapp.setStyle(old_style)


def _rgb(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    colour = QColor(image.pixel(x, y))
    return colour.red(), colour.green(), colour.blue()


def _indicator(box: QCheckBox | QRadioButton) -> QRect:
    option = QStyleOptionButton()
    box.initStyleOption(option)
    element = (
        QStyle.SubElement.SE_CheckBoxIndicator
        if isinstance(box, QCheckBox)
        else QStyle.SubElement.SE_RadioButtonIndicator
    )
    return box.style().subElementRect(element, option, box)


def _render(qtbot, widget: QWidget) -> QImage:  # type: ignore[no-untyped-def]
    """``widget`` shown in a pane-sized host with the theme, as the screen shows it."""
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    layout.addWidget(widget)
    host.resize(240, 60)
    host.show()
    qtbot.waitExposed(host)
    image = widget.grab().toImage()
    widget.setParent(None)  # the caller keeps the widget; the host closes with the test
    qtbot.addWidget(widget)
    return image


def _strongest_contrast(image: QImage, rect: QRect, background: tuple[int, int, int]) -> float:
    return max(
        contrast_ratio(_rgb(image, x, y), background)
        for x in range(max(rect.left(), 0), min(rect.right() + 1, image.width()))
        for y in range(max(rect.top(), 0), min(rect.bottom() + 1, image.height()))
    )


def _edge_pixels(rect: QRect) -> list[QPoint]:
    """The middle of each side of ``rect`` (where a drawn border is, not a rounded corner)."""
    c = rect.center()
    return [
        QPoint(rect.left(), c.y()),
        QPoint(rect.right(), c.y()),
        QPoint(c.x(), rect.top()),
        QPoint(c.x(), rect.bottom()),
    ]


@pytest.mark.parametrize("kind", [QCheckBox, QRadioButton])
def test_an_unchecked_indicator_is_seen_on_the_dark_theme(qtbot, themed, kind) -> None:  # type: ignore[no-untyped-def]
    box = kind("Offline only")
    image = _render(qtbot, box)
    background = _rgb(image, image.width() - 2, image.height() // 2)  # right of the label
    assert contrast_ratio(background, colours.SURFACE) < 1.05  # the pane's own surface
    rect = _indicator(box)
    assert rect.width() >= 10 and rect.height() >= 10
    for point in _edge_pixels(rect):
        # the drawn line within a pixel of where it should be (a circle is antialiased)
        ratio = _strongest_contrast(image, QRect(point.x() - 1, point.y() - 1, 3, 3), background)
        assert ratio >= AA_NON_TEXT, (
            f"{kind.__name__} edge at {point.x()},{point.y()} is {ratio:.2f}:1 on the pane"
        )


def test_a_checked_box_differs_from_an_unchecked_one(qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    off = QCheckBox("Offline only")
    on = QCheckBox("Offline only")
    on.setChecked(True)
    off_image, on_image = _render(qtbot, off), _render(qtbot, on)
    rect = _indicator(on)
    inside = rect.adjusted(3, 3, -3, -3)
    centre_off = _rgb(off_image, inside.center().x(), inside.center().y())
    # The white check mark on the blue fill: the box's inside is no longer the canvas.
    assert _strongest_contrast(on_image, inside, centre_off) >= AA_NON_TEXT


def test_an_unticked_row_of_a_list_shows_its_box(qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    """A list of checkable rows (the export dialog's cameras): an unticked row's box is
    drawn with an edge that stands off the list (Fusion's own was dark on dark)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QListWidget, QListWidgetItem

    listed = QListWidget()
    for index, name in enumerate(("Gate", "Yard")):
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if index == 0 else Qt.CheckState.Unchecked)
        listed.addItem(item)
    image = _render(qtbot, listed)
    row = listed.visualItemRect(listed.item(1)).translated(listed.viewport().pos())
    background = _rgb(image, row.right() - 2, row.center().y())
    box = QRect(row.left(), row.top(), row.height() + 4, row.height())  # the box leads the row
    assert _strongest_contrast(image, box, background) >= AA_NON_TEXT
    ticked = listed.visualItemRect(listed.item(0)).translated(listed.viewport().pos())
    mark = QRect(ticked.left(), ticked.top(), ticked.height() + 4, ticked.height())
    assert _strongest_contrast(image, mark, background) >= AA_NON_TEXT


def test_a_drop_down_list_opens_below_its_box_with_its_rows(qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    """A drop-down list opens under its box showing up to ten rows whatever row is chosen:
    Fusion's popup put the chosen row over the box and, near an edge, shrank to a row and a
    half (the rule trigger, the Events mode, the bookmark source)."""
    from PySide6.QtWidgets import QComboBox

    combo = QComboBox()
    combo.addItems(["A person enters", "Loitering", "Room should be empty", "Gesture", "Fall"])
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    layout.addWidget(combo)
    layout.addStretch(1)
    host.resize(300, 300)
    host.show()
    qtbot.waitExposed(host)
    combo.setCurrentIndex(4)
    combo.showPopup()
    popup = combo.view().window()
    qtbot.waitUntil(popup.isVisible)
    try:
        row = combo.view().sizeHintForRow(0)
        assert row >= 20  # rows a finger or a tired eye can hit
        assert combo.view().height() >= 5 * row
        below = combo.mapToGlobal(QPoint(0, combo.height()))
        assert popup.geometry().top() >= below.y() - 1
    finally:
        combo.hidePopup()


def test_a_focused_text_box_shows_a_ring(qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    edit = QLineEdit("lobby")
    other = QLineEdit()
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    layout.addWidget(edit)
    layout.addWidget(other)
    host.show()
    qtbot.waitExposed(host)
    # Under an X server only the active window's widgets take the focus (offscreen, any).
    host.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is host)
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    image = host.grab().toImage()
    ring = edit.geometry()
    left_edge = _rgb(image, ring.left(), ring.center().y())
    assert contrast_ratio(left_edge, colours.SURFACE) >= AA_NON_TEXT
    assert contrast_ratio(left_edge, colours.CANVAS) >= AA_NON_TEXT
    unfocused = _rgb(image, other.geometry().left(), other.geometry().center().y())
    assert left_edge != unfocused


def test_a_selected_row_reads_on_the_fill_fusion_paints(qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    """Fusion paints a selected row lighter than the declared highlight (a gradient): the
    white text must meet AA on every pixel of that fill, and the fill stand off the rows."""
    table = QTableWidget(2, 1)
    table.setItem(0, 0, QTableWidgetItem(""))
    table.selectRow(0)
    image = _render(qtbot, table)
    rect = table.visualRect(table.model().index(0, 0)).translated(table.viewport().pos())
    fill = {
        _rgb(image, x, y)
        for x in range(rect.left() + 2, rect.right() - 1)
        for y in range(rect.top() + 1, rect.bottom())
    }
    assert min(contrast_ratio(colours.SELECTED_TEXT, p) for p in fill) >= AA_TEXT
    assert min(contrast_ratio(p, colours.SURFACE) for p in fill) >= AA_NON_TEXT


# --- colours panes draw themselves ------------------------------------------------------
# What a pane paints or styles in code does not go through the stylesheet: each pair is
# measured here with the very objects the pane uses.

SIGNAL_TEXT = {
    "body text": colours.TEXT,
    "muted grey": colours.MUTED_GREY,
    "alarm red": colours.ALARM_RED,
    "amber": colours.WARNING_AMBER,
}


def _style_colour(style: str, name: str) -> str:
    found = re.search(rf"(?<![-\w]){name}:\s*(#[0-9a-fA-F]{{6}})\b", style)
    assert found, f"no {name} colour in {style!r}"
    return found.group(1)


def _opaque(colour: QColor) -> str:
    assert colour.alpha() == 255, f"{colour.name()} is see-through: its contrast depends on the row"
    return colour.name()


def test_ask_offline_note_and_answer_footer_read(qapp: QApplication) -> None:
    from engine.history.chat import ChatTurn
    from widgets.chat import view as chat

    note = _style_colour(chat._OFFLINE_STYLE, "color")
    assert contrast_ratio(note, colours.SURFACE) >= AA_TEXT  # the status and mode lines
    from datetime import UTC, datetime

    turn = ChatTurn(
        id=1,
        role="assistant",
        text="Two people.",
        mode="offline",
        citations=(),
        created_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
    )
    footer = re.search(r"<small style='color:(#[0-9a-fA-F]{6})'>", chat._turn_html(turn))
    assert footer, chat._turn_html(turn)
    assert contrast_ratio(footer.group(1), colours.CANVAS) >= AA_TEXT  # in the transcript


def test_people_placeholder_is_seen(qapp: QApplication) -> None:
    from widgets.people.view import draw_placeholder_thumbnail

    image = draw_placeholder_thumbnail(48).toImage()
    head = image.pixelColor(24, 16)  # the middle of the drawn head
    for surface in (colours.CANVAS, colours.SURFACE):  # plain and alternate rows
        assert contrast_ratio(_opaque(head), surface) >= AA_NON_TEXT


def _audit_record(seq: int, outcome: str):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from engine.audit_records import AuditRecord

    return AuditRecord(
        seq=seq,
        ts=datetime(2024, 5, 1, 12, tzinfo=UTC),
        actor="account:olga",
        action="settings.change",
        target="retention",
        outcome=outcome,
        detail={},
    )


def test_audit_refused_and_tampered_rows_read(qapp: QApplication) -> None:
    from PySide6.QtCore import Qt

    from widgets.audit.view import _AuditModel

    model = _AuditModel()
    model.set_records([_audit_record(3, "denied"), _audit_record(2, "ok"), _audit_record(1, "ok")])
    model.set_problems({1: "was changed after it was written"})
    refused = model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole)
    tampered = model.index(2, 0).data(Qt.ItemDataRole.BackgroundRole)
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    for name, text in SIGNAL_TEXT.items():  # any text a refused row may carry
        ratio = contrast_ratio(text, _opaque(refused))
        assert ratio >= AA_TEXT, f"{name} on a refused row is {ratio:.2f}:1"
    text = model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole)
    assert text is not None, "a tampered row states its text colour"
    assert contrast_ratio(_opaque(text), _opaque(tampered)) >= AA_TEXT
    assert contrast_ratio(_opaque(tampered), colours.SURFACE) >= AA_NON_TEXT - 0.5  # stands out


def test_accounts_and_sensing_tints_keep_text_readable() -> None:
    from widgets.accounts.view import _DELAYED_BACKGROUND
    from widgets.sensing import view as sensing

    tints = {
        "delayed login": _DELAYED_BACKGROUND,
        "offline node": sensing._OFFLINE_BACKGROUND,
        "degraded link": sensing._DEGRADED_BACKGROUND,
    }
    for row, tint in tints.items():
        for name, text in SIGNAL_TEXT.items():
            ratio = contrast_ratio(text, _opaque(tint))
            assert ratio >= AA_TEXT, f"{name} on a {row} cell is {ratio:.2f}:1"
    for style in (sensing.SIMULATED_STYLE, sensing.REPLAY_STYLE):
        text, fill = _style_colour(style, "color"), _style_colour(style, "background")
        assert contrast_ratio(text, fill) >= AA_TEXT, style
    assert contrast_ratio(_style_colour(sensing.DEGRADED_STYLE, "color"), colours.SURFACE) >= 4.5


def test_alert_rules_picture_stand_in_reads_and_shows_the_zone(qtbot) -> None:  # type: ignore[no-untyped-def]
    from widgets.alert_rules.view import ZoneCanvas

    canvas = ZoneCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(320, 180)
    image = canvas.grab().toImage()
    rect = canvas.picture_rect().toRect()
    fill = _rgb(image, rect.left() + 6, rect.top() + 6)
    text_ratio = _strongest_contrast(image, rect.adjusted(8, 8, -8, -8), fill)
    assert text_ratio >= AA_TEXT, f"the hint is {text_ratio:.2f}:1 on its grey"
    edge = _rgb(image, rect.left(), rect.center().y())
    assert contrast_ratio(edge, colours.SURFACE) >= AA_NON_TEXT  # the area is seen on the pane
    assert contrast_ratio(colours.ZONE_ORANGE, fill) >= AA_NON_TEXT  # a zone drawn on it


def test_amber_is_the_console_one() -> None:
    from widgets.alert_list import view as alert_list
    from widgets.risk_map import view as risk_map

    assert alert_list.WARNING_AMBER is colours.WARNING_AMBER
    assert risk_map.WARNING_AMBER is colours.WARNING_AMBER
    assert alert_list.SETTLED_GREY is colours.MUTED_GREY


WIDGETS_DIR = RESOURCES_DIR.parent / "widgets"
HEX_LITERAL = re.compile(r"(?<![&\w])#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")

# Modules that still spell colours out, with how many: none may gain one, and a module
# that loses its last is taken off. The risk map's are its data palettes (the risk scale
# and the incident categories, chosen against each other, not as text colours).
NOT_YET_NAMED = {
    "alerts/view.py": 3,
    "ble_devices/view.py": 2,
    "cameras/tile.py": 11,
    "evidence_export/view.py": 1,
    "gestures/skeleton.py": 6,
    "gestures/teach_dialog.py": 1,
    "health_bar.py": 3,
    "incidents/view.py": 1,
    "introductions/view.py": 1,
    "risk_map/pin_dialog.py": 5,
    "risk_map/view.py": 16,
    "timeline/replay_bar.py": 2,
    "timeline/view.py": 19,
}


def _hex_literals(path) -> list[str]:  # type: ignore[no-untyped-def]
    """The ``#rrggbb``/``#rgb`` colours written in the strings of a module (not comments)."""
    import tokenize

    with path.open("rb") as source:
        return [
            found
            for token in tokenize.tokenize(source.readline)
            if token.type == tokenize.STRING
            for found in HEX_LITERAL.findall(token.string)
        ]


def test_hex_literal_finder_sees_strings_not_comments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    module = tmp_path / "m.py"
    module.write_text(
        'A = "color: #b26a00;"  # the old #777\nB = f"<b style=\'color:#777\'>x</b>"\n'
        'C = "&#123; #12"\n',
        encoding="utf-8",
    )
    assert _hex_literals(module) == ["#b26a00", "#777"]


def test_widgets_take_their_colours_from_widgets_colours() -> None:
    found = {
        path.relative_to(WIDGETS_DIR).as_posix(): _hex_literals(path)
        for path in sorted(WIDGETS_DIR.rglob("*.py"))
        if path.name != "colours.py"
    }
    for module, literals in found.items():
        allowed = NOT_YET_NAMED.get(module, 0)
        assert len(literals) <= allowed, (
            f"widgets/{module} spells out colours {literals}: import them from widgets.colours"
        )
    for module in NOT_YET_NAMED:
        assert found.get(module), f"widgets/{module} names no colour now: take it off the list"


def test_the_risk_map_hour_slider_handle_and_ticks_are_seen(qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QSlider, QStyleOptionSlider

    from widgets.risk_map.view import HourSlider

    slider = HourSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 24)
    slider.setValue(5)
    slider.setTickPosition(QSlider.TickPosition.TicksBelow)
    slider.setTickInterval(1)
    image = _render(qtbot, slider)
    assert slider.tickPosition() == QSlider.TickPosition.TicksBelow  # the hours stay marked
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    handle = slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, slider
    )
    inside = handle.adjusted(3, 3, -3, -3).intersected(image.rect())
    weakest = min(
        contrast_ratio(_rgb(image, x, y), colours.SURFACE)
        for x in range(inside.left(), inside.right() + 1)
        for y in range(inside.top(), inside.bottom() + 1)
    )
    assert weakest >= AA_NON_TEXT, f"the handle is {weakest:.2f}:1 on the pane"
    below = QRect(0, handle.bottom() + 1, image.width(), image.height() - handle.bottom() - 1)
    ticks = _strongest_contrast(image, below, parse_hex(colours.SURFACE))
    assert ticks >= AA_NON_TEXT, f"the tick marks are {ticks:.2f}:1 on the pane"
