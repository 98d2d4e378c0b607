"""The console host's own Bluetooth adapter, scanned for BLE advertisements with bleak.

:class:`HostBleScanner` listens for every BLE advertisement the host's adapter hears and
hands each one to ``on_sighting`` as a frozen :class:`BleSighting` (address, RSSI in dBm,
advertised name, engine monotonic time). :func:`scan_for` does the same for a fixed number of
seconds and returns what it heard (``watchfloor ble scan --seconds S``).

Threads. The scan runs on a thread of its own named ``ble-scan``, holding an asyncio event
loop in which :class:`bleak.BleakScanner` runs with a detection callback: on Linux bleak
speaks to BlueZ over the D-Bus system bus, and its D-Bus connection lives in that loop.
``on_sighting`` is called on the ``ble-scan`` thread, once per advertisement (a busy room
gives hundreds a second), and must not block: hand the sighting to a queue or the bus.
:meth:`HostBleScanner.start`, :meth:`HostBleScanner.stop` and
:attr:`HostBleScanner.status` may be called from any thread; ``stop`` joins the thread
(within about 2 s) and is idempotent.

Failure statuses. Nothing raised by bleak or the platform escapes the thread, and a missing
radio never crashes the console: the scan ends and :attr:`HostBleScanner.status` says why,
in words for the person at the console.

- ``"unavailable"``: Bluetooth cannot be used on this host as it is set up. Without BlueZ
  bleak raises :class:`FileNotFoundError` from D-Bus (the system bus socket is missing), not
  a :class:`~bleak.exc.BleakError`: "no BlueZ: the D-Bus system bus socket was not found
  (install and start dbus and bluez)". A bus that refuses connections, bluetoothd not
  running, no adapter ("no Bluetooth adapter found"), a named adapter that does not exist, an
  adapter that is powered off or cannot scan for BLE, a refused permission
  (:class:`PermissionError`, D-Bus access denied) and other :class:`OSError` s and
  :class:`~bleak.exc.BleakError` s land here too, each with its own wording.
- ``"failed"``: anything else (a bug, here or in bleak): the detail is the exception's type
  and message, and the traceback goes to the log with ``log.exception``.

A scan that ends this way stays in its failure status until :meth:`HostBleScanner.start` is
called again, which tries afresh. The other states are ``"stopped"`` (before ``start`` and
after ``stop``), ``"starting"`` (the adapter has not yet confirmed) and ``"scanning"``.

bleak is imported on the ``ble-scan`` thread when a scan starts, not when the console starts.
Tests and other platforms supply a scanner backend through bleak's own hook,
``BleakScanner(..., backend=...)``, a subclass of
:class:`bleak.backends.scanner.BaseBleakScanner`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from engine.clock import REAL_CLOCK, Clock

if TYPE_CHECKING:
    from bleak import BleakScanner
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

log = logging.getLogger(__name__)

THREAD_NAME: Final = "ble-scan"
BACKEND_STOP_TIMEOUT_S: Final = 1.5  # how long the platform gets to stop discovery
JOIN_TIMEOUT_S: Final = 2.5  # stop() waits this long for the thread (backend stop + loop close)

ScanState = Literal["stopped", "starting", "scanning", "unavailable", "failed"]

NO_BLUEZ_SOCKET: Final = (
    "no BlueZ: the D-Bus system bus socket was not found (install and start dbus and bluez)"
)
NO_BLUEZ_BUS_REFUSED: Final = (
    "no BlueZ: the D-Bus system bus refused the connection (start dbus, then bluez)"
)
NO_BLUEZ_SERVICE: Final = (
    "no BlueZ: the Bluetooth service (bluetoothd) is not running on the D-Bus system bus "
    "(install and start bluez)"
)
NO_ADAPTER: Final = "no Bluetooth adapter found"
NO_PERMISSION: Final = (
    "no permission to use Bluetooth: the system refused this user access to BlueZ "
    "(run as a user allowed to use Bluetooth, e.g. in the bluetooth group)"
)

_MAC = re.compile(r"^([0-9A-Fa-f]{2})(?:[:-]([0-9A-Fa-f]{2})){5}$")
_ADAPTER_NOT_FOUND = re.compile(r"adapter '([^']*)' not found")


@dataclass(frozen=True, slots=True)
class BleSighting:
    """One BLE advertisement heard by the host's adapter: the sender's ``address`` (upper
    case, colon separated, e.g. ``AA:BB:CC:DD:EE:FF``; on macOS an upper-case UUID, as the OS
    hides MACs there), its received signal strength ``rssi_dbm`` (dBm), its advertised
    ``name`` (None when it advertises none), and ``t_s``, the engine's monotonic time in
    seconds when the advertisement reached the scanner."""

    address: str
    rssi_dbm: int
    name: str | None
    t_s: float


@dataclass(frozen=True, slots=True)
class BleScanStatus:
    """What the host scanner is doing: ``state`` (``"stopped"``, ``"starting"``,
    ``"scanning"``, ``"unavailable"`` or ``"failed"``), ``detail`` (a sentence for the person
    at the console: what is wrong and how to fix it when it is a failure status) and
    ``sightings``, the number of advertisements heard since the last
    :meth:`HostBleScanner.start`."""

    state: ScanState
    detail: str
    sightings: int


class HostBleScanner:
    """Scans the console host's Bluetooth adapter for BLE advertisements on its own
    ``ble-scan`` thread, calling ``on_sighting`` there with each :class:`BleSighting` timed by
    ``clock_monotonic`` (engine monotonic seconds). ``adapter`` names the adapter (``"hci0"``;
    None for the system's default, BlueZ only) and ``backend`` replaces bleak's platform
    scanner (a :class:`bleak.backends.scanner.BaseBleakScanner` subclass; None for the
    platform's own). A missing adapter or BlueZ shows in :attr:`status`, never as an
    exception. ``start``, ``stop`` and ``status`` may be called from any thread."""

    def __init__(
        self,
        on_sighting: Callable[[BleSighting], None],
        clock_monotonic: Callable[[], float],
        backend: type[BaseBleakScanner] | None = None,
        adapter: str | None = None,
    ) -> None:
        self._on_sighting = on_sighting
        self._clock_monotonic = clock_monotonic
        self._backend = backend
        self._adapter = adapter

        self._lock = threading.Lock()  # guards _status, _thread and _wake
        self._status = BleScanStatus("stopped", "not scanning", 0)
        self._thread: threading.Thread | None = None
        self._stop_requested = threading.Event()
        self._ended = threading.Event()  # set when the worker thread is about to end
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._callback_failure_logged = False  # ble-scan thread only

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start scanning on a new ``ble-scan`` thread and return at once (status
        ``"starting"``, then ``"scanning"`` or a failure status). Does nothing while a scan
        thread is running; after :meth:`stop` or a failure it starts afresh, with the
        sightings count back at 0. Any thread."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop_requested.clear()
            self._ended.clear()
            self._callback_failure_logged = False
            self._status = BleScanStatus("starting", f"starting the BLE scan on {self._where}", 0)
            thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._thread = thread
        thread.start()

    def stop(self) -> None:
        """Stop scanning and join the ``ble-scan`` thread (about 2 s at most: the platform gets
        1.5 s to stop discovery). A running scan ends in ``"stopped"``; a failure status is
        kept so the reason stays visible. Idempotent; a no-op before :meth:`start`. Any
        thread (from ``on_sighting`` it asks the scan to stop without waiting)."""
        with self._lock:
            thread = self._thread
            self._stop_requested.set()
            wake = self._wake
        if thread is None:
            return
        if wake is not None:
            loop, event = wake
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(event.set)
        if thread is threading.current_thread():
            return
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.error("the BLE scan thread did not end within %g s", JOIN_TIMEOUT_S)

    @property
    def status(self) -> BleScanStatus:
        """The scanner's current :class:`BleScanStatus` (a frozen snapshot). Any thread."""
        with self._lock:
            return self._status

    @property
    def _where(self) -> str:
        if self._adapter:
            return f"Bluetooth adapter {self._adapter}"
        return "the default Bluetooth adapter"

    # --- the ble-scan thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._scan())
        except Exception as exc:  # the last guard: nothing may escape the thread
            self._set_failure(exc)
        finally:
            self._ended.set()

    async def _scan(self) -> None:
        wake = asyncio.Event()
        with self._lock:
            self._wake = (asyncio.get_running_loop(), wake)
        # stop() sets the flag before reading _wake under the lock, so either it saw _wake
        # and will set the event, or the flag is already visible here.
        if self._stop_requested.is_set():
            wake.set()
        try:
            await self._scan_until(wake)
        except Exception as exc:
            self._set_failure(exc)
        finally:
            with self._lock:
                self._wake = None

    async def _scan_until(self, wake: asyncio.Event) -> None:
        from bleak import BleakScanner  # here, not at console start-up: see the module doc

        scanner = BleakScanner(
            self._on_advertisement,
            bluez={"adapter": self._adapter} if self._adapter else {},
            backend=self._backend,
        )
        starting = asyncio.create_task(scanner.start())
        woken = asyncio.create_task(wake.wait())
        try:
            await asyncio.wait({starting, woken}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                # stop() came while the platform was still starting: do not wait for it
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
                await self._stop_backend(scanner)
                self._set_status("stopped", "stopped before the scan had started")
                return
            starting.result()  # a start failure is raised here and described by _scan
            self._set_status("scanning", f"scanning for BLE advertisements on {self._where}")
            log.info("BLE scan started on %s", self._where)
            await woken
        finally:
            woken.cancel()
        await self._stop_backend(scanner)
        self._set_status("stopped", "stopped")
        log.info("BLE scan stopped after %d advertisements", self.status.sightings)

    async def _stop_backend(self, scanner: BleakScanner) -> None:
        try:
            await asyncio.wait_for(scanner.stop(), BACKEND_STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning(
                "the Bluetooth adapter did not stop discovery within %g s", BACKEND_STOP_TIMEOUT_S
            )
        except Exception:
            # The scan is over from our side either way; BlueZ ends discovery itself when our
            # D-Bus connection closes.
            log.warning("stopping the BLE scan failed", exc_info=True)

    def _on_advertisement(self, device: BLEDevice, advertisement: AdvertisementData) -> None:
        sighting = BleSighting(
            address=_normalise_address(device.address),
            rssi_dbm=int(advertisement.rssi),
            name=advertisement.local_name or device.name,
            t_s=self._clock_monotonic(),
        )
        with self._lock:
            current = self._status
            self._status = BleScanStatus(current.state, current.detail, current.sightings + 1)
        try:
            self._on_sighting(sighting)
        except Exception:
            # A consumer's bug must not stop the radio; log the first one in full, the rest
            # quietly (a busy room gives hundreds of advertisements a second).
            if not self._callback_failure_logged:
                self._callback_failure_logged = True
                log.exception(
                    "on_sighting raised for %s; further errors logged at debug", sighting.address
                )
            else:
                log.debug("on_sighting raised for %s", sighting.address, exc_info=True)

    def _set_status(self, state: ScanState, detail: str) -> None:
        with self._lock:
            self._status = BleScanStatus(state, detail, self._status.sightings)

    def _set_failure(self, exc: Exception) -> None:
        state, detail = _explain_failure(exc, self._adapter)
        if state == "failed":
            log.exception("BLE scan failed: %s", detail, exc_info=exc)
        else:
            log.warning("BLE scan unavailable: %s (%s: %s)", detail, type(exc).__name__, exc)
        self._set_status(state, detail)


def scan_for(
    seconds: float,
    *,
    backend: type[BaseBleakScanner] | None = None,
    adapter: str | None = None,
    clock: Clock = REAL_CLOCK,
) -> tuple[list[BleSighting], BleScanStatus]:
    """Scan the host's Bluetooth adapter for ``seconds`` (engine clock seconds, > 0, else
    ValueError) and return every advertisement heard, in arrival order, with the final
    :class:`BleScanStatus`. Blocks the calling thread; the scan itself runs on a
    ``ble-scan`` thread, joined before returning. Returns early, with a failure status,
    when Bluetooth is unavailable. ``backend`` and ``adapter`` are as for
    :class:`HostBleScanner`."""
    if not seconds > 0:  # also refuses NaN
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    sightings: list[BleSighting] = []
    scanner = HostBleScanner(sightings.append, clock.monotonic, backend=backend, adapter=adapter)
    scanner.start()
    try:
        clock.wait(scanner._ended, seconds)
    finally:
        scanner.stop()
    return list(sightings), scanner.status


def _normalise_address(address: str) -> str:
    """``AA:BB:CC:DD:EE:FF`` from a MAC with colons or dashes in either case; anything else
    (a macOS device UUID) upper-cased as it is."""
    text = address.strip()
    if _MAC.match(text):
        return text.replace("-", ":").upper()
    return text.upper()


def _explain_failure(exc: Exception, adapter: str | None) -> tuple[ScanState, str]:
    """The failure status for an exception from bleak or the platform: ``"unavailable"``
    with what is wrong for Bluetooth problems, ``"failed"`` with the type and message for
    anything else."""
    from bleak.exc import (
        BleakBluetoothNotAvailableError,
        BleakBluetoothNotAvailableReason,
        BleakDBusError,
        BleakError,
    )

    if isinstance(exc, BleakBluetoothNotAvailableError):
        reason = exc.reason
        if reason is BleakBluetoothNotAvailableReason.NO_BLUETOOTH:
            return "unavailable", NO_ADAPTER
        if reason is BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
            return "unavailable", (
                "the Bluetooth adapter cannot scan for BLE devices (it has no 'central' role)"
            )
        if reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return "unavailable", "the Bluetooth adapter is powered off (turn Bluetooth on)"
        if reason in (
            BleakBluetoothNotAvailableReason.DENIED_BY_USER,
            BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
            BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN,
        ):
            return "unavailable", NO_PERMISSION
        return "unavailable", f"Bluetooth is not available: {exc.args[0]}"
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in (
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NameHasNoOwner",
        ):
            return "unavailable", NO_BLUEZ_SERVICE
        if exc.dbus_error == "org.freedesktop.DBus.Error.AccessDenied":
            return "unavailable", NO_PERMISSION
        if exc.dbus_error == "org.bluez.Error.NotReady":
            return "unavailable", "the Bluetooth adapter is not ready (is it powered on?)"
        return "unavailable", f"BlueZ refused the scan: {exc}"
    if isinstance(exc, BleakError):
        text = str(exc)
        if "no bluetooth adapters" in text.lower():
            return "unavailable", NO_ADAPTER
        missing = _ADAPTER_NOT_FOUND.search(text)
        if missing is not None:
            return "unavailable", f"Bluetooth adapter '{missing.group(1)}' not found"
        return "unavailable", f"Bluetooth error: {text}"
    if isinstance(exc, FileNotFoundError):
        return "unavailable", NO_BLUEZ_SOCKET
    if isinstance(exc, ConnectionRefusedError):
        return "unavailable", NO_BLUEZ_BUS_REFUSED
    if isinstance(exc, PermissionError):
        return "unavailable", NO_PERMISSION
    if isinstance(exc, OSError):
        reason_text = exc.strerror or str(exc) or type(exc).__name__
        where = f"adapter {adapter}" if adapter else "the Bluetooth adapter"
        return "unavailable", f"cannot reach {where}: {reason_text}"
    return "failed", f"{type(exc).__name__}: {exc}"
