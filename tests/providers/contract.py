"""Checking HTTP exchanges against an OpenAPI 3.1 contract (docs/providers/generic-wallet.yaml):
a recording proxy between a connector and its simulator, and a checker that validates each
request and answer with jsonschema (the contract's schemas are JSON Schema 2020-12)."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTRACT_URI = "urn:contract"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Exchange:
    """One request through the proxy and the answer it got."""

    method: str
    path: str  # without the proxy's prefix, with the query string
    headers: dict[str, str]
    body: bytes
    status: int
    answer: bytes


@contextmanager
def recording_proxy(target: str, prefix: str) -> Iterator[tuple[str, list[Exchange]]]:
    """A proxy to ``target`` (``http://host:port``) on a free port: (its URL, what went through).
    ``prefix`` (the simulator's mount, e.g. ``/sandbox/generic-wallet``) is cut from the paths."""
    upstream = urlsplit(target)
    exchanges: list[Exchange] = []

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=30)
            try:
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            finally:
                connection.close()
            exchanges.append(
                Exchange(self.command, self.path.removeprefix(prefix), headers, body, response.status, answer)
            )
            self.send_response(response.status)
            self.send_header("Content-Type", response.getheader("Content-Type") or "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", exchanges
    finally:
        server.shutdown()
        server.server_close()


class Contract:
    """An OpenAPI 3.1 document: ``problems(exchange)`` lists how an exchange departs from it."""

    def __init__(self, path: Path) -> None:
        self.document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.registry: Registry = Registry().with_resource(
            CONTRACT_URI, Resource.from_contents(self.document, default_specification=DRAFT202012)
        )
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"), template)
            for template in self.document["paths"]
        ]
        self.exercised: set[tuple[str, str]] = set()

    def operations(self) -> set[tuple[str, str]]:
        return {(method.upper(), path) for path, item in self.document["paths"].items() for method in item}

    def _pointer(self, *parts: str) -> str:
        escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
        return CONTRACT_URI + "#/" + "/".join(escaped)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.registry.resolver(CONTRACT_URI).lookup(node["$ref"]).contents
        return node

    def schema_errors(self, pointer: str, instance: Any) -> list[str]:
        validator = Draft202012Validator({"$ref": pointer}, registry=self.registry)
        errors = validator.iter_errors(instance)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in errors]

    def problems(self, exchange: Exchange) -> list[str]:
        url = urlsplit(exchange.path)
        template = next((t for pattern, t in self.templates if pattern.match(url.path)), None)
        label = f"{exchange.method} {url.path}"
        if template is None:
            return [f"{label}: no such path in the contract"]
        operation = self.document["paths"][template].get(exchange.method.lower())
        if operation is None:
            return [f"{label}: method not in the contract"]
        self.exercised.add((exchange.method, template))
        found = [f"{label}: {p}" for p in self._request_problems(template, operation, exchange, url.query)]
        return found + [f"{label} → {p}" for p in self._answer_problems(template, operation, exchange)]

    def _request_problems(self, template: str, operation: dict[str, Any], exchange: Exchange, query: str) -> list[str]:
        found: list[str] = []
        if not exchange.headers.get("Authorization", "").startswith("Bearer "):
            found.append("no Authorization: Bearer")
        values = {"query": {k: v[0] for k, v in parse_qs(query).items()}, "header": exchange.headers}
        declared = [self.resolve(p) for p in operation.get("parameters", [])]
        for parameter in declared:
            if parameter["in"] == "path":
                continue
            value = values[parameter["in"]].get(parameter["name"])
            if value is None:
                found += [f"{parameter['name']} missing"] if parameter.get("required") else []
                continue
            found += [f"{parameter['name']}: {e}" for e in self._value_errors(parameter["schema"], value)]
        unknown = set(values["query"]) - {p["name"] for p in declared if p["in"] == "query"}
        found += [f"query parameter {name} not in the contract" for name in sorted(unknown)]
        body = operation.get("requestBody")
        if body is None:
            return found + (["a body the contract does not declare"] if exchange.body else [])
        try:
            instance = json.loads(exchange.body)
        except ValueError:
            return [*found, "the body is not JSON"]
        pointer = self._pointer("paths", template, exchange.method.lower(), "requestBody")
        return found + self.schema_errors(pointer + "/content/application~1json/schema", instance)

    def _value_errors(self, schema: dict[str, Any], value: str) -> list[str]:
        validator = Draft202012Validator(self.resolve(schema), registry=self.registry)
        return [error.message for error in validator.iter_errors(value)]

    def _answer_problems(self, template: str, operation: dict[str, Any], exchange: Exchange) -> list[str]:
        status = str(exchange.status)
        if status not in operation["responses"]:
            return [f"HTTP {status} not in the contract"]
        response = self.resolve(operation["responses"][status])
        if "content" not in response:
            return []
        try:
            instance = json.loads(exchange.answer)
        except ValueError:
            return ["the answer is not JSON"]
        ref = operation["responses"][status].get("$ref")
        base = (
            CONTRACT_URI + ref
            if ref
            else self._pointer("paths", template, exchange.method.lower(), "responses", status)
        )
        return self.schema_errors(base + "/content/application~1json/schema", instance)

    def callback_problems(self, webhook: str, headers: dict[str, str], body: bytes) -> list[str]:
        """A callback the wallet sent, against ``webhooks.<webhook>``."""
        operation = self.document["webhooks"][webhook]["post"]
        found: list[str] = []
        for parameter in map(self.resolve, operation.get("parameters", [])):
            value = headers.get(parameter["name"])
            if value is None:
                found.append(f"{parameter['name']} missing")
            else:
                found += [f"{parameter['name']}: {e}" for e in self._value_errors(parameter["schema"], value)]
        pointer = self._pointer("webhooks", webhook, "post", "requestBody", "content", "application/json", "schema")
        return found + self.schema_errors(pointer, json.loads(body))
