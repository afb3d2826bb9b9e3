"""The playground's HTTP side: the standard library's threading server, on the loopback address only.

Routes: ``GET /`` (the page), ``GET /static/<file>`` (its CSS and JavaScript, from the package), ``GET
/api/info``, ``POST /api/analyze`` ``{"text", "entity"}`` and ``POST /api/complete`` ``{"text", "cursor",
"entity"}``.  The page sends filter text only: a POST must be ``application/json`` of at most
:data:`MAX_BODY` bytes, its text at most :data:`~skillfilter.playground.analyze.MAX_TEXT` characters.  A
request whose ``Host`` is not the loopback address the server listens on is refused (no DNS rebinding), and
every answer carries a Content-Security-Policy that allows the page's own files only.
"""

from __future__ import annotations

import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from .analyze import MAX_TEXT, Workbench

__all__ = ["MAX_BODY", "PlaygroundServer", "make_server"]

#: Largest request body taken (bytes).
MAX_BODY = 128 * 1024
HOST = "127.0.0.1"

_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def _static(name: str) -> bytes:
    return resources.files("skillfilter.playground").joinpath("static").joinpath(name).read_bytes()


class _ClientError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class PlaygroundServer(ThreadingHTTPServer):
    """A :class:`ThreadingHTTPServer` on 127.0.0.1 that serves one :class:`Workbench`."""

    daemon_threads = True
    #: Closing the server does not wait for the threads of open connections (an idle keep-alive connection
    #: holds its thread for up to ``_Handler.timeout``): Ctrl-C stops the playground at once.
    block_on_close = False

    def __init__(self, workbench: Workbench, port: int = 0) -> None:
        self.workbench = workbench
        self.lock = threading.Lock()  # the workbench's caches are not thread-safe
        super().__init__((HOST, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"


def make_server(workbench: Workbench, port: int = 0) -> PlaygroundServer:
    """A server bound to 127.0.0.1:``port`` (0: a free port); call ``serve_forever()`` on it."""
    return PlaygroundServer(workbench, port)


class _Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    server_version = "skillfilter-playground"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may sit idle or send slowly

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal shows the address only
        pass

    # ------------------------------------------------------------------------------------------------
    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: HTTPStatus, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _error(self, exc: _ClientError) -> None:
        self._json(exc.status, {"error": str(exc)})

    def _check_host(self) -> None:
        host = (self.headers.get("Host") or "").strip().lower()
        allowed = {f"{HOST}:{self.server.port}", f"localhost:{self.server.port}"}
        if host not in allowed:
            raise _ClientError(HTTPStatus.FORBIDDEN,
                               "the playground answers requests to its loopback address only")

    # ------------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        try:
            self._check_host()
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(HTTPStatus.OK, _static("index.html"), _STATIC["index.html"])
            elif path.startswith("/static/") and path[len("/static/"):] in _STATIC:
                name = path[len("/static/"):]
                self._send(HTTPStatus.OK, _static(name), _STATIC[name])
            elif path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            elif path == "/api/info":
                self._json(HTTPStatus.OK, self.server.workbench.info())
            else:
                raise _ClientError(HTTPStatus.NOT_FOUND, "not found")
        except _ClientError as exc:
            self._error(exc)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        try:
            self._check_host()
            data = self._body()
            path = self.path.split("?", 1)[0]
            if path == "/api/analyze":
                text, entity = self._text(data), self._entity(data)
                with self.server.lock:
                    answer = self.server.workbench.analyze(text, entity)
                self._json(HTTPStatus.OK, answer)
            elif path == "/api/complete":
                text, entity = self._text(data), self._entity(data)
                cursor = data.get("cursor", len(text))
                if isinstance(cursor, bool) or not isinstance(cursor, int):
                    raise _ClientError(HTTPStatus.BAD_REQUEST, "`cursor` must be an integer offset")
                with self.server.lock:
                    answer = self.server.workbench.complete(text, cursor, entity)
                self._json(HTTPStatus.OK, answer)
            else:
                raise _ClientError(HTTPStatus.NOT_FOUND, "not found")
        except _ClientError as exc:
            self.close_connection = True
            self._error(exc)
        except Exception as exc:  # a bug: one line on standard error, a plain answer to the page
            self.close_connection = True
            sys.stderr.write(f"skillfilter playground: internal error: {type(exc).__name__}: {exc}\n")
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error (see the server output)"})

    # ------------------------------------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise _ClientError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        if self.headers.get("Transfer-Encoding"):
            raise _ClientError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not a chunked body")
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            raise _ClientError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is required") from None
        if length < 0 or length > MAX_BODY:
            raise _ClientError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"a request body is at most {MAX_BODY} bytes")
        raw = self.rfile.read(length)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _ClientError(HTTPStatus.BAD_REQUEST, "the body is not JSON in UTF-8") from None
        if not isinstance(data, dict):
            raise _ClientError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return data

    @staticmethod
    def _text(data: dict[str, Any]) -> str:
        text = data.get("text")
        if not isinstance(text, str):
            raise _ClientError(HTTPStatus.BAD_REQUEST, "`text` must be a string: the filter")
        if len(text) > MAX_TEXT:
            raise _ClientError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"a filter is at most {MAX_TEXT} characters")
        return text

    @staticmethod
    def _entity(data: dict[str, Any]) -> str | None:
        entity = data.get("entity")
        if entity is not None and not isinstance(entity, str):
            raise _ClientError(HTTPStatus.BAD_REQUEST, "`entity` must be a string")
        return entity or None
