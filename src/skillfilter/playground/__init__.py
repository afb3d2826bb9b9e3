"""The playground: a local web page to write a filter and see it checked, formatted, translated and run.

``skillfilter playground`` (:mod:`skillfilter.cli.commands.playground`) serves it with the standard library's
:class:`http.server.ThreadingHTTPServer` on 127.0.0.1 only.  :mod:`.analyze` computes what the page shows
(diagnostics, canonical and pretty forms, the logical-operator count and ``split``, SQL, the JSON form and
the matching records) and the completions; :mod:`.server` is the HTTP side; ``static/`` holds the page
(plain HTML, CSS and JavaScript, shipped in the wheel, nothing fetched from elsewhere).
"""

from __future__ import annotations

from .analyze import Workbench
from .server import PlaygroundServer, make_server

__all__ = ["PlaygroundServer", "Workbench", "make_server"]
