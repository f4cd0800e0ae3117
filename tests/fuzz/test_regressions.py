"""One test per class of 500 that hand-made hostile input found (issue 17): each answered a 500
before its fix, each must now be a 4xx problem naming what is wrong, with nothing created.

The matrix of test_bad_input.py covers the same ground for every operation; these tests name the
cases of the issue, assert the exact answer, and keep a failure readable."""

from __future__ import annotations

import copy
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from lxml import etree

from banking.demo import seed_banking
from banking.models import BankTransfer, TransferBatch, TransferBatchItem
from core.api.parsers import MAX_JSON_DEPTH
from ledger.models import Transaction
from partners.demo import DemoContext
from tests.fuzz.support import Caller, Operation, fuzz_partner, our_tables, row_counts, valid_bodies

PUSH = Operation("post", "/api/v1/notifications/push")
BATCH = Operation("post", "/api/v1/banking/transfer-batches")
TRANSFER = Operation("post", "/api/v1/banking/transfers")
KAFKA_TEST = Operation("post", "/api/v1/events/test")
CASH_IN = Operation("post", "/api/v1/mobile-money/cash-ins")
BODIES = valid_bodies()
NUL, CONTROL, SURROGATE = "A\x00B", "A\x01B", "A\ud800B"


@pytest.fixture
def caller(client: Any, db: None) -> Caller:
    return Caller(client, fuzz_partner())


def post(caller: Caller, operation: Operation, body: Any) -> tuple[int, dict[str, Any]]:
    """Send ``body`` as JSON (a lone surrogate as the six bytes of its escape, as a client sends
    it); the status and the problem, after checking that nothing was created."""
    tables = our_tables()
    before = row_counts(tables)
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=True).encode()
    response = caller.send(operation, raw, "application/json")
    after = row_counts(tables)
    assert {t: after[t] - before[t] for t in tables if after[t] != before[t]} == {}, "a refused request created rows"
    assert response["Content-Type"] == "application/problem+json", response.content[:300]
    return response.status_code, response.json()


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem["errors"]}


def with_field(operation: Operation, path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(BODIES[operation.path])
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


# --- JSON nested about 1,000 levels deep (10 endpoints answered 500) --------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 10_000])
@pytest.mark.parametrize("operation", [CASH_IN, PUSH, KAFKA_TEST], ids=str)
def test_deeply_nested_json_is_a_400(caller: Caller, operation: Operation, depth: int) -> None:
    nested: Any = "x"
    for _ in range(depth - 1):
        nested = [nested]
    raw = b'{"anything": ' + json.dumps(nested).encode() + b"}" if depth < 900 else b"[" * depth + b"]" * depth
    status, problem = post(caller, operation, raw)
    assert status == 400 and problem["code"] in ("parse_error", "validation_error"), problem
    assert f"{MAX_JSON_DEPTH} levels" in problem["detail"] + json.dumps(problem["errors"]), problem


def test_a_body_at_the_depth_limit_still_reaches_the_serializer(caller: Caller) -> None:
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = [nested]
    status, problem = post(caller, PUSH, {**BODIES[PUSH.path], "metadata": nested})
    assert (status, fields_of(problem)) == (400, {"metadata"}), problem  # an unknown field, not a depth problem
    assert problem["errors"] == [{"field": "metadata", "message": "Unknown field."}]


# --- a push: a non-string title, a NUL, a lone surrogate ---------------------------------------------


@pytest.mark.parametrize("title", [12, 1.5, True, ["Hi"], {"a": "b"}, NUL, SURROGATE, CONTROL])
def test_a_push_title_that_cannot_travel_is_a_400_naming_it(caller: Caller, title: Any) -> None:
    status, problem = post(caller, PUSH, with_field(PUSH, ("title",), title))
    assert (status, problem["code"], fields_of(problem)) == (400, "validation_error", {"title"}), problem


def test_a_push_data_key_with_a_lone_surrogate_is_a_400(caller: Caller) -> None:
    status, problem = post(caller, PUSH, with_field(PUSH, ("data",), {"\udc00": "x"}))
    assert (status, fields_of(problem)) == (400, {"data"}), problem


# --- NUL or lone surrogates in the fields of a JSON transfer batch -----------------------------------

BATCH_TEXT_FIELDS = [
    ("msg_id",),
    ("initiating_party",),
    ("payment_infos", 0, "pmt_inf_id"),
    ("payment_infos", 0, "debtor_name"),
    ("payment_infos", 0, "debtor_account"),
    ("payment_infos", 0, "transactions", 0, "instr_id"),
    ("payment_infos", 0, "transactions", 0, "end_to_end_id"),
    ("payment_infos", 0, "transactions", 0, "creditor_name"),
    ("payment_infos", 0, "transactions", 0, "creditor_account"),
    ("payment_infos", 0, "transactions", 0, "remittance_information"),
]


def json_path(path: tuple[Any, ...]) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".")


@pytest.mark.parametrize("value", [NUL, SURROGATE, CONTROL], ids=["NUL", "surrogate", "control"])
@pytest.mark.parametrize("path", BATCH_TEXT_FIELDS, ids=json_path)
def test_a_json_transfer_batch_field_that_cannot_travel_is_a_400_naming_it(
    caller: Caller, path: tuple[Any, ...], value: str
) -> None:
    status, problem = post(caller, BATCH, with_field(BATCH, path, value))
    assert status == 400 and json_path(path) in fields_of(problem), problem
    assert TransferBatch.objects.count() == 0


# --- the Kafka test endpoint ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"text": SURROGATE}, {"json": {"note": SURROGATE}}, {"json": [SURROGATE]}, {"json": {"\udfff": 1}}, {"text": NUL}],
    ids=["text", "json value", "json array", "json key", "text NUL"],
)
def test_the_kafka_test_endpoint_refuses_text_kafka_cannot_carry(caller: Caller, body: dict[str, Any]) -> None:
    status, problem = post(caller, KAFKA_TEST, body)  # Kafka is off here: a 503 would mean it got that far
    assert (status, problem["code"]) == (400, "validation_error"), problem


# --- pain.002 of a batch whose ids hold control characters --------------------------------------------


def test_a_batch_with_control_characters_in_its_ids_is_refused_at_intake(caller: Caller) -> None:
    body = with_field(BATCH, ("msg_id",), "BATCH\x01")
    body["payment_infos"][0]["transactions"][0]["end_to_end_id"] = "E2E\x1f1"
    status, problem = post(caller, BATCH, body)
    assert status == 400
    assert {"msg_id", "payment_infos[0].transactions[0].end_to_end_id"} <= fields_of(problem), problem


def test_the_pain002_of_a_batch_stored_with_control_characters_is_still_written(caller: Caller) -> None:
    """Rows written before intake refused such ids: the report replaces what XML cannot carry."""
    seed_banking(DemoContext(base_url="http://127.0.0.1:9"))  # the connection intake asks for (nothing is called)
    response = caller.send(BATCH, json.dumps(BODIES[BATCH.path]).encode(), "application/json")
    assert response.status_code == 202, response.content
    batch = TransferBatch.objects.get(public_id=response.json()["id"])
    TransferBatch.objects.filter(pk=batch.pk).update(msg_id="BATCH\x01ID")
    TransferBatchItem.objects.filter(batch=batch).update(end_to_end_id="E2E\x02", pmt_inf_id="P\x0bMT")

    report = caller.client.get(
        f"/api/v1/banking/transfer-batches/{batch.public_id}/status-report",
        headers={"Authorization": f"Bearer {caller.partner.api_key}"},  # type: ignore[union-attr]
    )
    assert report.status_code == 200, report.content[:300]
    document = etree.fromstring(report.content)
    texts = {element.tag.rsplit("}", 1)[1]: element.text for element in document.iter() if element.text}
    assert (texts["OrgnlMsgId"], texts["OrgnlEndToEndId"], texts["OrgnlPmtInfId"]) == (
        "BATCH\ufffdID",
        "E2E\ufffd",
        "P\ufffdMT",
    )


# --- a bank transfer with control characters is never accepted ---------------------------------------

TRANSFER_TEXT_FIELDS = [
    "beneficiary_name",
    "iban",
    "bic",
    "amount",
    "currency",
    "remittance_information",
    "end_to_end_id",
]


@pytest.mark.parametrize(
    "value", [NUL, SURROGATE, CONTROL, "A\nB", "A\x7fB"], ids=["NUL", "surrogate", "C0", "LF", "DEL"]
)
@pytest.mark.parametrize("field", TRANSFER_TEXT_FIELDS)
def test_a_bank_transfer_with_control_characters_is_never_accepted(caller: Caller, field: str, value: str) -> None:
    status, problem = post(caller, TRANSFER, with_field(TRANSFER, (field,), value))
    assert (status, fields_of(problem)) == (400, {field}), problem
    assert (BankTransfer.objects.count(), Transaction.objects.count()) == (0, 0)


# (A transfer stored with such a character before this check is set aside by the execution kit's
# item_guard instead of crashing its worker and the poller: tests/banking/test_execution_kit.py.)


# --- bodies over the size limit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        CASH_IN,
        Operation("post", "/callbacks/wave", is_callback=True),
        Operation("post", "/callbacks/partner-bank", True),
    ],
    ids=str,
)
def test_a_body_over_the_limit_is_a_413_problem(client: Any, db: None, operation: Operation) -> None:
    caller = Caller(client, None if operation.is_callback else fuzz_partner())
    response = caller.send(operation, b"{" + b" " * (20 * 1024 * 1024) + b"}", "application/json")
    assert (response.status_code, response["Content-Type"]) == (413, "application/problem+json"), response.content
    assert response.json()["code"] == "payload_too_large"


# --- a charset that is a codec but not a text encoding -----------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/transactions?limit=1", "/callbacks/wave?x=1", "/health/live?x=1"])
def test_a_non_text_charset_is_a_415_problem_before_django_builds_the_request(db: None, path: str) -> None:
    """Django decodes the query string with the declared charset while it builds the request,
    before any middleware: ``bz2_codec`` was a bare 500 on every URL with a query string."""
    from config.wsgi import application  # the application gunicorn serves

    url, _, query = path.partition("?")
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": url, "QUERY_STRING": query}
    setup_testing_defaults(environ)
    environ["CONTENT_TYPE"] = "text/plain; charset=bz2_codec"
    answer: list[Any] = []
    body = b"".join(application(environ, lambda status, headers, *_: answer.extend([status, dict(headers)])))
    assert answer[0] == "415 Unsupported Media Type" and answer[1]["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "unsupported_media_type"
