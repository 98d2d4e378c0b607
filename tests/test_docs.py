"""The docs site builds, strictly and offline, in under a minute, and its generated reference
says everything the program has: every command and subcommand of the real parser, every
permission, and every key the site-file loader allows."""

from __future__ import annotations

import argparse
import ast
import html
import importlib.util
import os
import re
import resource
import subprocess
import sys
from html.parser import HTMLParser
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest

import engine.config
import engine.mqtt.settings
from console.cli import build_parser
from engine.access import ROLE_PERMISSIONS, Permission, Role
from engine.config import SiteConfigError, parse_site
from tests.test_frozen_build import _excludes

ROOT = Path(__file__).resolve().parent.parent
# Issue 69's target for `mkdocs build --strict` in CI, as the build's own processor time:
# the clock on the wall also counts the other test workers sharing the cores.
BUILD_LIMIT_CPU_S = 60.0

# What the lock gained for the docs (mkdocs, Material for MkDocs and what only they need):
# dev dependencies the frozen app leaves out (build.spec's excludes), except the modules
# that installed libraries import at run time when present.
DOCS_TOOLCHAIN = {
    "mkdocs",
    "mkdocs-material",
    "mkdocs-material-extensions",
    "mkdocs-get-deps",
    "pymdown-extensions",
    "markdown",
    "jinja2",
    "babel",
    "backrefs",
    "ghp-import",
    "mergedeep",
    "paginate",
    "pyyaml-env-tag",
    "watchdog",
    "requests",
    "urllib3",
    "charset-normalizer",
}
IMPORTED_WHEN_PRESENT = {"charset_normalizer"}  # by numpy.f2py, under scipy.signal

slow = pytest.mark.slow  # one build of the site: about 15 s


class _Built:
    def __init__(self, site: Path, cpu_s: float, result: subprocess.CompletedProcess[str]):
        self.site = site
        self.cpu_s = cpu_s
        self.result = result


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> _Built:
    """The site as ``mkdocs build --strict`` makes it, with every proxy pointing at a closed
    port, so a build that reached for the network would fail."""
    site = tmp_path_factory.mktemp("docs") / "site"
    dead = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "ALL_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "all_proxy": dead,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    started = _children_cpu_s()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return _Built(site, _children_cpu_s() - started, result)


class _Texts(HTMLParser):
    """A page's headings (without their permalink mark), its ``<code>`` texts, and the
    resources it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.codes: list[str] = []
        self.resources: list[str] = []
        self.header_cells: list[str] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.resources.append(str(values["src"]))
        if tag == "link" and values.get("rel") in ("stylesheet", "preload", "icon"):
            self.resources.append(str(values.get("href")))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "code", "th"):
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, parts = self._open.pop()
            text = "".join(parts).replace("¶", "").strip()
            {"code": self.codes, "th": self.header_cells}.get(tag, self.headings).append(text)
            if self._open:
                self._open[-1][1].append("".join(parts))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def _page(built: _Built, name: str) -> _Texts:
    texts = _Texts()
    texts.feed((built.site / name).read_text(encoding="utf-8"))
    return texts


@slow
def test_the_docs_build_strictly_offline_in_under_a_minute(built: _Built) -> None:
    assert built.result.returncode == 0, built.result.stdout + built.result.stderr
    assert built.cpu_s < BUILD_LIMIT_CPU_S
    for page in ("index.html", "getting-started.html", "reference/cli.html"):
        remote = [r for r in _page(built, page).resources if "://" in r or r.startswith("//")]
        assert remote == [], f"{page} loads {remote}: the docs must open with no network"


def _subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append(((*path, name), child))
                found += _subcommands(child, (*path, name))
    return found


@slow
def test_every_command_and_its_options_are_in_the_reference(built: _Built) -> None:
    page = _page(built, "reference/cli.html")
    commands = _subcommands(build_parser())
    assert len(commands) > 50  # the walk found the parser's tree
    for path, parser in commands:
        name = " ".join(("watchfloor", *path))
        assert name in page.headings, f"{name} is not in the command-line reference"
        options = {
            option
            for action in parser._actions
            if action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)
            for option in action.option_strings
        }
        assert options <= set(page.codes), f"{name}: {sorted(options - set(page.codes))}"


@slow
def test_every_permission_and_role_is_in_the_reference(built: _Built) -> None:
    page = _page(built, "reference/permissions.html")
    assert {p.value for p in Permission} <= set(page.headings)
    assert page.header_cells[: len(Role) + 1] == ["Permission", *(r.value for r in Role)]
    # Each role's list names exactly the permissions it holds.
    text = (built.site / "reference/permissions.html").read_text(encoding="utf-8")
    for role in Role:
        line = text.partition(f"<strong>{role.value}</strong>: ")[2].partition("</li>")[0]
        listed = set(re.findall(r"<code>([^<]*)</code>", line))
        assert listed == {p.value for p in ROLE_PERMISSIONS[role]}, role


def _allowed_keys(module: object) -> set[str]:
    """Every key the loader in ``module``'s source allows: the third argument of each of
    its ``….table(value, path, allowed)`` calls, evaluated in the module's namespace."""
    source = Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8")
    keys: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "table"
            and len(node.args) == 3
        ):
            # Our own source: a set literal, or an expression of the module's constants.
            allowed = eval(ast.unparse(node.args[2]), vars(module))
            keys |= {str(k) for k in allowed}
    return keys


@slow
def test_every_site_file_key_is_in_the_reference(built: _Built) -> None:
    page = _page(built, "reference/site-file.html")
    documented = {code.rsplit(".", 1)[-1].removesuffix("[]") for code in page.codes}
    loader_keys = _allowed_keys(engine.config) | _allowed_keys(engine.mqtt.settings)
    assert {"url", "keep_all_days", "fov", "topic_prefix"} <= loader_keys  # the walk worked
    assert loader_keys <= documented, sorted(loader_keys - documented)
    # The top level, as the loader itself names it when it refuses an unknown table.
    with pytest.raises(SiteConfigError) as refused:
        parse_site(ROOT / "probe.toml", "[no_such_table]\n")
    top_level = refused.value.message.partition("(allowed: ")[2].rstrip(")").split(", ")
    assert len(top_level) > 5
    assert set(top_level) <= set(page.codes)


@slow
def test_a_key_required_only_in_some_cases_says_in_which(built: _Built) -> None:
    """The Required column says "yes" only for a key the loader wants in every case; a key
    it asks for only in some (a simulated camera's view) says which, in the loader's words."""
    text = (built.site / "reference/site-file.html").read_text(encoding="utf-8")
    required = {key: cells[3] for key, cells in _table_rows(text).items() if len(cells) == 6}
    assert required["cameras[].view"] == "only for a simulated camera"
    assert required["sensing_nodes[].room"] == "only when the site has more than one room"
    assert required["rooms[].port"] == "only when the site has more than one room of real nodes"
    assert required["cameras[].id"] == required["cameras[].view.fov"] == "yes"
    assert required["cameras[].name"] == ""
    # Every case the loader's refusals name ("required for …", "required when …") is said.
    source = Path(str(engine.config.__file__)).read_text(encoding="utf-8")
    cases = {m.strip() for m in re.findall(r'"required ((?:for|when) [^:("]+)', source)}
    assert len(cases) >= 3
    shown = " ".join(required.values())
    assert all(f"only {case}" in shown for case in cases), cases


def _permission_sections(built: _Built) -> dict[str, str]:
    """permissions.html's section of each permission (its HTML, to the next heading)."""
    text = (built.site / "reference/permissions.html").read_text(encoding="utf-8")
    parts = re.split(r'<h3 id="([^"]+)"', text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@slow
def test_each_permission_lists_each_action_once_in_the_audit_trail_s_words(
    built: _Built,
) -> None:
    """An action several commands record is listed once, in the words the audit trail
    and the console read for it (engine/wording.py), never made up from its id."""
    from engine import wording

    sections = _permission_sections(built)
    assert set(sections) == {p.value for p in Permission}
    events = _table_rows((built.site / "reference/events.html").read_text(encoding="utf-8"))
    listed = 0
    for permission, section in sections.items():
        items = re.findall(r"<li>([^<]*) \(<code>([a-z_.]+)</code>\)</li>", section)
        actions = [action for _words, action in items]
        assert len(actions) == len(set(actions)), (permission, actions)
        words = [html.unescape(w) for w, _action in items]
        assert len(words) == len(set(words)), (permission, words)
        for said, action in zip(words, actions, strict=True):
            assert action in wording._AUDIT_ACTIONS, f"{action} has no words of its own"
            assert said == wording.audit_action(action), action
            assert events.get(action, [None])[1:2] == [said], f"{action} is not on events.md"
            # and a refusal of it reads in words too ("may not snooze cameras' alerts")
            assert action in wording._ACTION_WORDS, f"a refused {action} has no words"
            assert events[action][2] == wording.action_words(action), action
            listed += 1
        assert "use case" not in section, permission  # no Python names for people
        assert "</ul>" in section or "Checked for:" in section, f"{permission} says nothing"
    assert listed > 40


@slow
def test_a_command_says_what_it_does_not_what_another_does(built: _Built) -> None:
    """Each command of a permission is listed with its own words: setting the cameras'
    recording tiers is not "change a setting" (that is `settings set`)."""
    for permission, section in _permission_sections(built).items():
        rows = re.findall(r"<code>watchfloor ([^<]+)</code></a>: ([^<]*)</li>", section)
        doing = {command: html.unescape(words) for command, words in rows}
        if permission == "change_settings":
            assert doing["retention set-tiers"] == "set cameras' recording tiers"
            assert doing["settings set"] == "change a setting"
        if permission == "watch":
            assert doing["retention tiers"] == "read cameras' recording tiers"
        # and an extra check does not repeat a command's words
        extra = section.partition("Also checked for:")[2]
        assert not set(re.findall(r"<li>([^<]*)</li>", extra)) & set(doing.values()), permission


def test_the_frozen_app_leaves_the_docs_toolchain_out() -> None:
    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    modules = {
        module
        for module, dists in packages_distributions().items()
        if not module.startswith("_") and any(canonical(d) in DOCS_TOOLCHAIN for d in dists)
    }
    assert {"mkdocs", "material", "pymdownx", "jinja2"} <= modules  # the toolchain is installed
    assert modules - IMPORTED_WHEN_PRESENT <= set(_excludes()), sorted(
        modules - IMPORTED_WHEN_PRESENT - set(_excludes())
    )


def _sections(text: str, prefix: str) -> dict[str, tuple[str, str]]:
    """A built page's ``<h2>`` sections whose id starts with ``prefix``: id → (heading text,
    the section's HTML up to the next ``<h2``)."""
    found = {}
    for match in re.finditer(
        rf'<h2 id="({re.escape(prefix)}[^"]*)">(.*?)<a class="headerlink"', text
    ):
        body = text[match.end() :].partition("<h2")[0]
        found[match.group(1)] = (html.unescape(match.group(2)), body)
    return found


@slow
def test_every_pane_has_its_entry_and_anchor_in_the_reference(built: _Built) -> None:
    """Each pane the console declares has its section at ``reference/panes.html#pane-<name>``
    (what F1 opens) with its title, its permission, and its place in every layout (a wall
    pane) or its being an administration page."""
    from console.layouts import ADMIN_PAGES, WALL_PANES
    from console.plugins import PANES
    from widgets.pane import BOTTOM, LEFT, RIGHT, Layout

    text = (built.site / "reference/panes.html").read_text(encoding="utf-8")
    sections = _sections(text, "pane-")
    assert len(PANES) > 20  # the walk found the console's panes
    assert set(sections) == {f"pane-{spec.name}" for spec in PANES}
    areas = {LEFT: "left", RIGHT: "right", BOTTOM: "bottom"}
    admin = {name for name, _title in ADMIN_PAGES}
    for spec in PANES:
        title, body = sections[f"pane-{spec.name}"]
        assert title == spec.title, spec.name
        assert f"<code>{spec.permission.value}</code>" in body, spec.name
        if spec.name in admin:
            assert "administration page" in body, spec.name
        for layout in Layout if spec in WALL_PANES else ():
            line = body.partition(f"<li>{layout.value} layout: ")[2].partition("</li>")[0]
            place = spec.places[layout]
            assert line.startswith(f"{areas[place.area]} column"), (spec.name, layout, line)
            if place.onto:
                assert f'href="#pane-{place.onto}"' in line, (spec.name, layout, line)
            assert ("closed until opened" in line) == place.hidden, (spec.name, layout, line)
    assert admin and WALL_PANES


def _table_rows(text: str) -> dict[str, list[str]]:
    """A built page's table rows by their first cell's code: code → the row's cells (as
    text, tags removed)."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", text, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        first = re.search(r"<td[^>]*><code>([^<]*)</code>", row)
        if first and cells:
            rows[html.unescape(first.group(1))] = cells
    return rows


@slow
def test_every_event_kind_and_audit_action_is_in_the_reference_in_its_words(
    built: _Built,
) -> None:
    """Every kind the wording renders is listed under its category with the title people
    read, and every audit action the wording names with its words."""
    from engine import wording

    text = (built.site / "reference/events.html").read_text(encoding="utf-8")
    page = _page(built, "reference/events.html")
    rows = _table_rows(text)
    kinds = wording.known_kinds()
    assert len(kinds) > 30  # the walk found the renderers
    for kind in kinds:
        assert rows.get(kind) == [kind, wording.kind_title(kind)], kind
        category = wording.kind_category(kind).value
        assert category in page.headings, kind
        section = text.partition(f">{category}<a")[2].partition("<h3")[0]
        assert f"<code>{kind}</code>" in section, (kind, category)
    actions = set(wording._AUDIT_ACTIONS) | set(wording._ACTION_WORDS)
    assert {"alert.acknowledge", "session.login", "person.erase"} <= actions
    for action in actions:
        cells = rows.get(action)
        assert cells is not None, f"{action} is not in the events reference"
        assert cells[1] == wording.audit_action(action), action
        if action in wording._ACTION_WORDS:
            assert cells[2] == wording.action_words(action), action


@slow
def test_every_mqtt_topic_is_in_the_reference_with_its_payload_fields(built: _Built) -> None:
    """Each topic the MQTT bridge declares (its table, which names its topics and
    subscriptions) has its section: its pattern, direction, whether it is retained, and
    example payloads (built by the bridge's own payload functions) whose every field is
    listed; every command and every Home Assistant discovery config is there too."""
    import json

    from engine.mqtt.settings import MqttConfig
    from engine.mqtt.topics import COMMANDS, TOPIC_TABLE, Topics, discovery_configs

    text = (built.site / "reference/mqtt.html").read_text(encoding="utf-8")
    sections = _sections(text, "topic-")
    assert len(TOPIC_TABLE) > 10  # the walk found the bridge's table
    assert set(sections) == {f"topic-{spec.name}" for spec in TOPIC_TABLE}
    for spec in TOPIC_TABLE:
        heading, body = sections[f"topic-{spec.name}"]
        assert heading == spec.pattern.replace("{", "<").replace("}", ">"), spec.name
        assert f"<li>Direction: {spec.direction.value} (" in body, spec.name
        assert f"<li>Retained: {'yes' if spec.retained else 'no'}</li>" in body, spec.name
        examples = [
            json.loads(html.unescape(block))
            for block in re.findall(r'<code class="language-json">(.*?)</code>', body, re.S)
        ]
        if not examples:
            assert "<li>Payload: plain text" in body, spec.name
            continue
        listed = body.partition("<li>Fields: ")[2].partition("</li>")[0]
        fields = set(re.findall(r"<code>([^<]*)</code>", listed))
        for example in examples:
            assert set(example) <= fields, (spec.name, sorted(set(example) - fields))
        if spec.name == "command":
            assert {f"<code>{name}</code>" for name in COMMANDS} <= set(
                re.findall(r"<code>[^<]*</code>", body)
            )
    # Every config discovery sends for the page's sample site is in its table.
    generator = _generator()
    topics = Topics(
        MqttConfig(url="mqtt://broker", host="broker", port=1883, tls=False),
        generator.MQTT_SITE,
    )
    configs = discovery_configs(topics, generator.MQTT_CAMERAS, generator.MQTT_ROOMS)
    assert len(configs) > 5
    assert set(configs) <= set(_page(built, "reference/mqtt.html").codes)


def _load(path: Path, name: str) -> Any:
    """The module in ``path`` (not a package's: docs/, scripts/), under ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _generator() -> Any:
    """docs/gen_reference.py, loaded as the docs' build hook loads it."""
    return _load(ROOT / "docs" / "gen_reference.py", "watchfloor_docs_reference")


# ---------------------------------------------------------------------------------------
# The written pages: every page of the nav is there and written, each pane's guide names
# it, the pictures the pages embed are the album's, and the README stays a front page.

MIN_WORDS = 150  # a page shorter than this is a heading and a sentence, not a page


def _nav_pages(entries: Any) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages += _nav_pages(value) if isinstance(value, list) else [str(value)]
    return pages


def _config() -> dict[str, Any]:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may name Python objects (!!python/name:…); the nav needs none of them.
    _Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_args: None)
    with (ROOT / "mkdocs.yml").open(encoding="utf-8") as handle:
        config: dict[str, Any] = yaml.load(handle, Loader=_Loader)
    return config


def _words(markdown: str) -> int:
    prose = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    return len(re.findall(r"[A-Za-z]{2,}", prose))


def test_every_page_of_the_nav_is_written() -> None:
    """Each written page in the nav exists and says something: no stub, no placeholder."""
    pages = [p for p in _nav_pages(_config()["nav"]) if not p.startswith("reference/")]
    assert len(pages) > 30
    short = {}
    for page in pages:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert not re.search(r"\bSTUB\b|\bTODO\b|coming soon", text), page
        if _words(text) < MIN_WORDS:
            short[page] = _words(text)
    assert short == {}, f"pages with fewer than {MIN_WORDS} words: {short}"


@slow
def test_f1_opens_a_guide_that_names_the_pane(built: _Built) -> None:
    """Every pane has a guide page (what F1 opens), the page is in the built site, and it
    names the pane by the title the person sees; the panes reference links it."""
    from console.docs_site import PANE_GUIDES
    from console.plugins import PANES

    assert set(PANE_GUIDES) == {spec.name for spec in PANES}
    panes = (built.site / "reference/panes.html").read_text(encoding="utf-8")
    for spec in PANES:
        guide = built.site / PANE_GUIDES[spec.name]
        assert guide.is_file(), (spec.name, PANE_GUIDES[spec.name])
        text = html.unescape(re.sub(r"<[^>]+>", "", guide.read_text(encoding="utf-8")))
        assert spec.title in text, f"{PANE_GUIDES[spec.name]} never names the {spec.title} pane"
        assert f'href="../{PANE_GUIDES[spec.name]}"' in panes, spec.name


def test_every_embedded_picture_is_in_the_docs_and_none_is_left_over() -> None:
    """The pages' pictures are in docs/images/ (written from the screenshot album by
    scripts/docs_images.py), and docs/images/ holds nothing no page shows."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docs_images.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    module = _load(ROOT / "scripts" / "docs_images.py", "docs_images")
    assert len(module.embedded()) >= 10  # the guides show the console


README_LIMIT_BYTES = 8 * 1024  # issue 69: the README is a front page, the docs say the rest


def test_the_readme_is_a_front_page_with_the_two_commands_and_links_into_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= README_LIMIT_BYTES
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, flags=re.S)
    assert commands == ["scripts/run.sh", "scripts/check.sh"]
    for script in ("run.sh", "check.sh"):
        assert (ROOT / "scripts" / script).stat().st_mode & 0o111, script
    links = re.findall(r"\]\(((?:docs|artifacts)/[^)#\s]+)", readme)
    assert len(links) >= 5
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == [], f"README links to missing files: {missing}"


@slow
def test_every_exit_code_is_in_the_reference_with_its_meaning(built: _Built) -> None:
    """Each code `watchfloor` can exit with (console/exit_codes.py) is in the command-line
    reference with its words: the reference once stopped at 5 while engine exits 6."""
    from console import exit_codes

    codes = {
        value
        for name, value in vars(exit_codes).items()
        if name.isupper() and isinstance(value, int)
    }
    assert codes == set(exit_codes.MEANINGS)
    rows = _table_rows((built.site / "reference/cli.html").read_text(encoding="utf-8"))
    for code in codes:
        assert rows.get(str(code)) == [str(code), exit_codes.MEANINGS[code]], code


def test_the_engine_s_help_gives_the_lease_the_code_uses() -> None:
    """`watchfloor engine --help` (and so the reference) once said an engine takes over
    within 30 s, while a lease lapses after 15."""
    from engine.cluster.leases import LEASE_TTL_S

    engine = dict(_subcommands(build_parser()))[("engine",)]
    lease = next(a for a in engine._actions if "--lease-s" in a.option_strings)
    said = f"{LEASE_TTL_S:g}"
    assert f"({said} s unless --lease-s" in (engine.description or "")
    assert f"(default {said};" in (lease.help or "")
    assert not re.search(r"within \d+ s", engine.description or "")


@slow
def test_every_picture_opens_at_full_size_with_a_click(built: _Built) -> None:
    """A screenshot is 1400 px wide and the page's text column about 700: each picture links
    to itself (docs/hooks.py), so the words in it can be read."""
    pictures = linked = 0
    for page in built.site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        pictures += len(re.findall(r'<img [^>]*src="[^"]*images/[^"]+"', text))
        linked += len(re.findall(r'<a href="([^"]*images/[^"]+)"><img [^>]*src="\1"', text))
    assert pictures >= 10
    assert linked == pictures


@slow
def test_the_site_file_reference_says_nothing_of_the_code_s_insides(built: _Built) -> None:
    """The tables' notes come from the config classes' docstrings; their pointers into the
    code (``engine.store.sites.give_default_rules``, ``SiteConfig.node_port``) once showed
    to the admin reading the page."""
    codes = _page(built, "reference/site-file.html").codes
    python = [c for c in codes if re.fullmatch(r"(engine|console|widgets)\.[\w.]+", c)]
    python += [c for c in codes if re.fullmatch(r"[A-Z]\w+Config(\.\w+)?", c)]
    assert python == []
