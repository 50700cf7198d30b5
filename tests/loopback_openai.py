"""A real OpenAI-compatible chat server on 127.0.0.1 for integration tests.

It answers ``POST /v1/chat/completions`` from a script: each request takes the next entry,
which is either answer text (a 200 response in OpenAI's shape), an ``(http_status, body)``
pair, or ``("sleep", seconds, text)`` to answer late. Every request body is kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = str | tuple[Any, ...]


class ScriptedChatServer:
    """Serve scripted answers; ``requests`` holds the parsed JSON bodies received."""

    def __init__(self, script: Sequence[Script], model: str = "gem-7b-test") -> None:
        self.script = list(script)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    entry = server.script.pop(0) if server.script else (500, "script exhausted")
                server._answer(self, entry)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def _answer(self, handler: BaseHTTPRequestHandler, entry: Script) -> None:
        status, payload = 200, None
        if isinstance(entry, tuple) and entry[0] == "sleep":
            time.sleep(float(entry[1]))
            entry = entry[2]
        if isinstance(entry, tuple):
            status, text = int(entry[0]), str(entry[1])
            payload = {"error": {"message": text, "type": "server_error", "code": status}}
        else:
            payload = {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": entry},
                    }
                ],
                "usage": {"prompt_tokens": 740, "completion_tokens": 120, "total_tokens": 860},
            }
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout test)
            pass

    @contextmanager
    def running(self) -> Iterator[ScriptedChatServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
