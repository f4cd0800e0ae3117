"""The official XSDs (banking/iso20022/xsd/, see its SOURCES.md), compiled once and cached.

Compiling a schema takes tens of milliseconds, so each one is compiled on first use and kept.
The cache is per thread: a compiled ``XMLSchema`` carries an error log that every validation
writes to, so two threads must not share one (gunicorn sync workers and Celery prefork run one
thread per process; the cost of the per-thread copy only shows in threaded servers).
"""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"

MESSAGE_NAMES: frozenset[str] = frozenset(
    {
        "pain.001.001.03",
        "pain.001.001.09",
        "pain.002.001.03",
        "pain.002.001.10",
        "pacs.002.001.03",
        "pacs.002.001.10",
        "pacs.008.001.08",
    }
)

_local = threading.local()


def namespace_of(message_name: str) -> str:
    return NAMESPACE_PREFIX + message_name


def message_name_of(namespace: str | None) -> str | None:
    """``"pain.001.001.03"`` for its namespace URN; ``None`` for anything else."""
    if not namespace or not namespace.startswith(NAMESPACE_PREFIX):
        return None
    name = namespace[len(NAMESPACE_PREFIX) :]
    return name if name in MESSAGE_NAMES else None


def _compile(message_name: str) -> etree.XMLSchema:
    # The XSDs are our own files; the parser still refuses the network and external entities.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.parse(str(XSD_DIR / f"{message_name}.xsd"), parser)
    return etree.XMLSchema(document)


def schema_for(message_name: str) -> etree.XMLSchema:
    """The compiled schema of a message version (compiled on first use in this thread)."""
    if message_name not in MESSAGE_NAMES:
        raise KeyError(f"no schema for {message_name!r}")
    cache: dict[str, etree.XMLSchema] | None = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    schema = cache.get(message_name)
    if schema is None:
        schema = cache[message_name] = _compile(message_name)
    return schema


def validation_errors(document: etree._ElementTree | etree._Element, message_name: str) -> list[str]:
    """Every XSD error of an in-memory document (for the messages we generate)."""
    schema = schema_for(message_name)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]
