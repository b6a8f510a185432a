"""A fake RESO Web API (OData 4) server on 127.0.0.1, for tests of the MLS source.

Built on pytest-httpserver (a real HTTP server in a thread), it serves::

    GET  {base}/Property?$filter=...&$orderby=...&$top=N&$select=...&$skip=N|$skiptoken=...
    POST /token    (OAuth2 client credentials: form or HTTP basic client authentication)

- ``$filter``: the grammar incremental syncs use, clauses joined by `` and ``:
  ``PostalCode eq '85018'``, ``ModificationTimestamp gt|ge|lt|le|eq <ISO 8601>`` and
  ``(StandardStatus eq 'Active' or StandardStatus eq 'Pending' ...)``;
  anything else is a 400 with an OData error body, as real servers answer.
- ``$orderby`` (``Field asc|desc`` list), ``$top`` (capped at ``max_top``), ``$select``
  (fields a record lacks are omitted, as providers that drop nulls do).
- Paging through ``@odata.nextLink``: ``paging="skip"`` (``$skip``; what many providers
  do, and what a feed changing mid-read can shift) or ``"skiptoken"`` (keyset on
  ModificationTimestamp and ListingKey); links ``absolute`` or ``relative``.
- Auth: ``auth="none" | "static" | "oauth"``; OAuth tokens expire after
  ``token_lifetime`` seconds; ``revoke_tokens()`` and ``reject_all_tokens``.
- Fault injection (``inject``): 429 with Retry-After, 5xx, slow responses, HTML bodies,
  truncated JSON, a 401, tokens expiring; per ZIP or for every request, a number of
  times or for ever. Behaviours: an empty last page, a nextLink loop, listings served
  without ListingKey or with renamed fields, ``$select`` ignored, and a hook called
  after each page (to modify the feed while a client pages through it).
- Every request is recorded (method, path, query, headers, form, time, status).

The listings are canonical records kept by ``ListingKey``; ``make_listings`` makes
realistic Phoenix ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from phoenix_assets.sources.demo import zip_profile

BASE_PATH = "/reso/odata"
TOKEN_PATH = "/token"
PROPERTY_PATH = f"{BASE_PATH}/Property"


# --- realistic listings -----------------------------------------------------------------------

_STREETS = (
    "E Camelback Rd",
    "E Indian School Rd",
    "E Thomas Rd",
    "E Osborn Rd",
    "E Campbell Ave",
    "N 44th St",
    "N 40th St",
    "N 32nd St",
    "N 16th St",
    "W Glendale Ave",
    "W Northern Ave",
    "W Dunlap Ave",
    "W McDowell Rd",
    "W Encanto Blvd",
    "N 7th Ave",
    "E Bell Rd",
)
_SUBTYPES = (
    ("SingleFamilyResidence", 0.75),
    ("Townhouse", 0.12),
    ("Condominium", 0.13),
)
_STATUSES = (("Active", 0.7), ("Pending", 0.12), ("ActiveUnderContract", 0.06), ("Closed", 0.12))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def iso_z(value: dt.datetime) -> str:
    """``2026-11-24T17:03:12Z`` (``.123456Z`` when there are microseconds)."""
    value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


def make_listing(
    rng: random.Random, zip_code: str, n: int, modified: dt.datetime
) -> dict[str, Any]:
    """One RESO Property record in ``zip_code``, as a Phoenix MLS would send it."""
    profile = zip_profile(zip_code)
    subtype = _pick(rng, _SUBTYPES)
    status = _pick(rng, _STATUSES)
    sqft = max(550, int(rng.gauss(profile.median_sqft, profile.median_sqft * 0.25)))
    price = max(90_000, round(rng.gauss(profile.median_price, profile.median_price * 0.3), -3))
    original = price + rng.choice((0, 0, 0, 5_000, 10_000, 25_000))
    beds = max(1, min(7, round(sqft / 550)))
    list_date = (modified - dt.timedelta(days=rng.randint(1, 120))).date()
    number = rng.randint(1_000, 29_999)
    record: dict[str, Any] = {
        "ListingKey": f"{zip_code}{n:05d}{rng.getrandbits(32):08x}",
        "ListingId": str(6_500_000 + rng.randint(0, 999_999)),
        "ParcelNumber": (
            f"{rng.randint(100, 399)}-{rng.randint(10, 99)}-{rng.randint(100, 999)}"
            f"{rng.choice(('', '', 'A', 'B'))}"
        ),
        "StandardStatus": status,
        "PropertyType": "Residential",
        "PropertySubType": subtype,
        "ListPrice": price,
        "OriginalListPrice": original,
        "BedroomsTotal": beds,
        "BathroomsTotalInteger": max(1, beds - rng.choice((0, 1, 1))),
        "LivingArea": sqft,
        "LotSizeSquareFeet": None if subtype == "Condominium" else rng.randint(4_000, 16_000),
        "YearBuilt": max(1910, min(2025, int(rng.gauss(profile.median_year_built, 12)))),
        "PoolPrivateYN": rng.random() < 0.45,
        "GarageSpaces": rng.choice((0, 1, 2, 2, 2, 3)),
        "UnparsedAddress": f"{number} {rng.choice(_STREETS)}",
        "City": profile.city,
        "StateOrProvince": "AZ",
        "PostalCode": zip_code,
        "Latitude": round(profile.center_lat + rng.uniform(-1, 1) * profile.radius_deg, 6),
        "Longitude": round(profile.center_lon + rng.uniform(-1, 1) * profile.radius_deg, 6),
        "ListingContractDate": list_date.isoformat(),
        "OnMarketDate": list_date.isoformat(),
        "DaysOnMarket": (modified.date() - list_date).days,
        "ModificationTimestamp": iso_z(modified),
        # Fields a provider has but the collector does not ask for.
        "PublicRemarks": "Charming home close to parks, schools and the canal path.",
        "ListAgentFullName": "Pat Agent",
    }
    if status == "Closed":
        record["ClosePrice"] = round(price * rng.uniform(0.95, 1.02), -2)
        record["CloseDate"] = modified.date().isoformat()
    return {k: v for k, v in record.items() if v is not None}


def make_listings(
    zip_codes: Iterable[str],
    per_zip: int,
    *,
    newest: dt.datetime,
    spacing: dt.timedelta = dt.timedelta(minutes=47),
    seed: str = "fake-reso",
) -> list[dict[str, Any]]:
    """``per_zip`` listings per ZIP, modified every ``spacing`` up to ``newest``."""
    listings: list[dict[str, Any]] = []
    for zip_code in zip_codes:
        rng = random.Random(f"{seed}:{zip_code}")
        for n in range(per_zip):
            modified = newest - spacing * (per_zip - 1 - n) - dt.timedelta(seconds=n % 7)
            listings.append(make_listing(rng, zip_code, n, modified))
    return listings


# --- the server -------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    time: float
    status: int = 0

    @property
    def zip_code(self) -> str | None:
        match = re.search(r"PostalCode eq '(\d{5})'", self.query.get("$filter", ""))
        return match.group(1) if match else None


@dataclass
class Fault:
    """What to do to a matching request instead of (or before) answering it normally.

    ``kind``: "429" (with ``retry_after``), "500"/"502"/"503"/..., "slow" (``delay``
    seconds, then the normal answer), "html" (200 with an HTML page), "truncated" (200
    with half the JSON), "401", "expire_tokens" (revoke every issued token, then answer
    normally: a 401 for the token the request carried). ``times=None``: for ever.
    """

    kind: str
    path: str = PROPERTY_PATH
    zip_code: str | None = None
    times: int | None = 1
    retry_after: str = "1"
    delay: float = 1.0
    skip: int = 0  # let this many matching requests through first


@dataclass
class _Token:
    value: str
    expires_at: float
    revoked: bool = False


class ODataError(Exception):
    pass


_CLAUSE_ZIP = re.compile(r"^PostalCode eq '([^']*)'$")
_CLAUSE_TS = re.compile(r"^ModificationTimestamp (gt|ge|lt|le|eq) (\S+)$")
# A parenthesized "or" of status equalities: (StandardStatus eq 'Active' or ...).
_CLAUSE_STATUS_ANY = re.compile(
    r"^\((StandardStatus eq '[^']*'(?: or StandardStatus eq '[^']*')*)\)$"
)
_STATUS_EQ = re.compile(r"StandardStatus eq '([^']*)'")
_COMPARE: dict[str, Callable[[dt.datetime, dt.datetime], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
}


def _parse_ts(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _has_postal_code(zip_code: str, record: dict[str, Any]) -> bool:
    return record.get("PostalCode") == zip_code


def _field_key(name: str, record: dict[str, Any]) -> tuple[int, Any]:
    return _sort_key(record, name)


def _sort_key(record: dict[str, Any], name: str) -> tuple[int, Any]:
    value = record.get(name)
    if value is None:
        return (0, "")
    if name == "ModificationTimestamp":
        try:
            return (1, _parse_ts(value))
        except (TypeError, ValueError):
            return (0, "")
    return (1, value)


class FakeReso:
    """A RESO Web API on a pytest-httpserver ``HTTPServer``. See the module docstring."""

    def __init__(
        self,
        server: HTTPServer,
        listings: Iterable[dict[str, Any]] = (),
        *,
        auth: str = "none",
        static_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_lifetime: float = 3600.0,
        max_top: int = 1000,
        paging: str = "skip",
        next_link: str = "absolute",
    ) -> None:
        if auth not in ("none", "static", "oauth"):
            raise ValueError(auth)
        if paging not in ("skip", "skiptoken") or next_link not in ("absolute", "relative"):
            raise ValueError((paging, next_link))
        self.server = server
        self.auth = auth
        self.static_token = static_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.max_top = max_top
        self.paging = paging
        self.next_link = next_link
        # Behaviours (set freely in a test).
        self.empty_last_page = False
        self.loop_zips: set[str] = set()
        self.drop_listing_key: set[str] = set()  # ListingKeys served without their key
        self.renames: dict[str, str] = {}  # field -> served name
        self.rename_for: set[str] | None = None  # ListingKeys renamed (None: all)
        self.honour_select = True
        self.reject_all_tokens = False
        self.foreign_next_link: str | None = None  # serve this nextLink instead
        self.after_page: Callable[[FakeReso, str | None, int], None] | None = None
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._listings: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.RLock()
        self.upsert(listings)
        server.expect_request(PROPERTY_PATH).respond_with_handler(self._handle_property)
        server.expect_request(TOKEN_PATH).respond_with_handler(self._handle_token)

    # -- the data ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.server.url_for(BASE_PATH).rstrip("/")

    @property
    def token_url(self) -> str:
        return self.server.url_for(TOKEN_PATH)

    def upsert(self, listings: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for listing in listings:
                self._listings[listing["ListingKey"]] = dict(listing)

    def touch(self, listing_key: str, modified: dt.datetime, **changes: Any) -> dict[str, Any]:
        """Modify a listing now (``ModificationTimestamp`` = ``modified``)."""
        with self._lock:
            listing = self._listings[listing_key]
            listing.update(changes, ModificationTimestamp=iso_z(modified))
            return dict(listing)

    def listings(self, zip_code: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(v)
                for v in self._listings.values()
                if zip_code is None or v.get("PostalCode") == zip_code
            ]

    def keys_modified_after(self, since: dt.datetime, zip_code: str | None = None) -> set[str]:
        return {
            listing["ListingKey"]
            for listing in self.listings(zip_code)
            if _parse_ts(listing["ModificationTimestamp"]) > since
        }

    def inject(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    @property
    def issued_tokens(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    def revoke_tokens(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    # -- what was asked -------------------------------------------------------------------------
    def property_requests(self, zip_code: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == PROPERTY_PATH and (zip_code is None or r.zip_code == zip_code)
            ]

    def token_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == TOKEN_PATH]

    # -- handlers -----------------------------------------------------------------------------
    def _record(self, request: Request) -> RecordedRequest:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: v for k, v in request.args.items()},
            headers={k: v for k, v in request.headers.items()},
            form={k: v for k, v in request.form.items()},
            time=time.monotonic(),
        )
        with self._lock:
            self.requests.append(recorded)
        return recorded

    def _take_fault(self, recorded: RecordedRequest) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path != recorded.path or fault.times == 0:
                    continue
                if fault.zip_code is not None and fault.zip_code != recorded.zip_code:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def _fault_response(self, fault: Fault) -> Response | None:
        kind = fault.kind
        if kind == "slow":
            time.sleep(fault.delay)
            return None
        if kind == "expire_tokens":
            self.revoke_tokens()
            return None
        if kind == "429":
            return _json(
                {"error": {"code": "429", "message": "Too many requests"}},
                429,
                {"Retry-After": fault.retry_after},
            )
        if kind == "html":
            return Response(
                "<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                "<body>We'll be back soon.</body></html>",
                status=200,
                content_type="text/html; charset=utf-8",
            )
        if kind == "truncated":
            return Response(
                '{"@odata.context": "$metadata#Property", "value": [{"ListingKey": "',
                status=200,
                content_type="application/json",
            )
        if kind == "401":
            return _unauthorized("invalid_token")
        if kind.isdigit():
            return _json({"error": {"code": kind, "message": "Server error"}}, int(kind))
        raise ValueError(f"unknown fault kind {kind!r}")

    def _answer(self, recorded: RecordedRequest, response: Response) -> Response:
        recorded.status = response.status_code
        return response

    def _handle_token(self, request: Request) -> Response:
        recorded = self._record(request)
        fault = self._take_fault(recorded)
        if fault is not None:
            response = self._fault_response(fault)
            if response is not None:
                return self._answer(recorded, response)
        if request.method != "POST":
            return self._answer(recorded, _json({"error": "invalid_request"}, 405))
        if request.form.get("grant_type") != "client_credentials":
            return self._answer(recorded, _json({"error": "unsupported_grant_type"}, 400))
        client_id = request.form.get("client_id")
        client_secret = request.form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username
            client_secret = request.authorization.password
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return self._answer(recorded, _json({"error": "invalid_client"}, 401))
        value = f"at-{secrets.token_hex(12)}"
        with self._lock:
            self._tokens[value] = _Token(value, time.monotonic() + self.token_lifetime)
        lifetime = self.token_lifetime
        return self._answer(
            recorded,
            _json(
                {
                    "access_token": value,
                    "token_type": "Bearer",
                    "expires_in": int(lifetime) if lifetime == int(lifetime) else lifetime,
                }
            ),
        )

    def _authorized(self, request: Request) -> bool:
        if self.auth == "none":
            return True
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or self.reject_all_tokens:
            return False
        value = header.removeprefix("Bearer ")
        if self.auth == "static":
            return value == self.static_token
        with self._lock:
            token = self._tokens.get(value)
            return token is not None and not token.revoked and time.monotonic() < token.expires_at

    def _handle_property(self, request: Request) -> Response:
        recorded = self._record(request)
        fault = self._take_fault(recorded)
        if fault is not None:
            response = self._fault_response(fault)
            if response is not None:
                return self._answer(recorded, response)
        if not self._authorized(request):
            return self._answer(recorded, _unauthorized("invalid_token"))
        try:
            body, zip_code, page_index = self._page(request)
        except ODataError as exc:
            return self._answer(
                recorded, _json({"error": {"code": "400", "message": str(exc)}}, 400)
            )
        response = self._answer(recorded, _json(body))
        if self.after_page is not None:
            self.after_page(self, zip_code, page_index)
        return response

    # -- OData ----------------------------------------------------------------------------------
    def _page(self, request: Request) -> tuple[dict[str, Any], str | None, int]:
        args = request.args
        zip_code, predicates = _parse_filter(args.get("$filter", ""))
        order = _parse_orderby(args.get("$orderby", "ListingKey asc"))
        try:
            top = min(int(args.get("$top", self.max_top)), self.max_top)
            skip = int(args.get("$skip", 0))
        except ValueError:
            raise ODataError("$top and $skip must be integers") from None
        if top < 1 or skip < 0:
            raise ODataError("$top must be positive and $skip not negative")
        select = [f for f in args.get("$select", "").split(",") if f.strip()]
        with self._lock:
            matching = [r for r in self._listings.values() if all(p(r) for p in predicates)]
            for name, descending in reversed(order):
                matching.sort(key=functools.partial(_field_key, name), reverse=descending)
            matching = [dict(r) for r in matching]
        if "$skiptoken" in args:
            after = _decode_skiptoken(args["$skiptoken"])
            matching = [
                r
                for r in matching
                if (_sort_key(r, "ModificationTimestamp"), r.get("ListingKey", ""))
                > ((1, _parse_ts(after[0])), after[1])
            ]
            page_index = int(after[2])
        else:
            matching = matching[skip:]
            page_index = skip // top
        page = matching[:top]
        more = len(matching) > top
        body: dict[str, Any] = {
            "@odata.context": f"{self.server.url_for(BASE_PATH)}/$metadata#Property",
            "value": [self._served(r, select) for r in page],
        }
        if more or (self.empty_last_page and page):
            next_query = {k: v for k, v in args.items() if k not in ("$skip", "$skiptoken")}
            if self.paging == "skip":
                next_query["$skip"] = str(skip + top)
            else:
                last = page[-1]
                next_query["$skiptoken"] = _encode_skiptoken(
                    last["ModificationTimestamp"], last.get("ListingKey", ""), page_index + 1
                )
            if zip_code in self.loop_zips and page_index >= 2:
                # Back to the second page: A -> B -> C -> B ...
                next_query = {k: v for k, v in args.items() if k not in ("$skip", "$skiptoken")}
                if self.paging == "skip":
                    next_query["$skip"] = str(top)
                else:
                    raise ODataError("loop_zips needs paging='skip'")
            body["@odata.nextLink"] = self.foreign_next_link or self._link(next_query)
        return body, zip_code, page_index

    def _link(self, query: dict[str, str]) -> str:
        encoded = "&".join(f"{k}={quote(v, safe=chr(39) + ',:()')}" for k, v in query.items())
        if self.next_link == "relative":
            return f"Property?{encoded}"
        return f"{self.server.url_for(PROPERTY_PATH)}?{encoded}"

    def _served(self, record: dict[str, Any], select: list[str]) -> dict[str, Any]:
        key = record.get("ListingKey")
        served = (
            {f: record[f] for f in select if f in record}
            if select and self.honour_select
            else dict(record)
        )
        if self.renames and (self.rename_for is None or key in self.rename_for):
            for old, new in self.renames.items():
                if old in record:
                    served.pop(old, None)
                    served[new] = record[old]
        if key in self.drop_listing_key:
            served.pop("ListingKey", None)
        return served


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )


def _unauthorized(error: str) -> Response:
    return _json(
        {"error": {"code": "401", "message": "Unauthorized"}},
        401,
        {"WWW-Authenticate": f'Bearer error="{error}"'},
    )


def _parse_filter(text: str) -> tuple[str | None, list[Callable[[dict[str, Any]], bool]]]:
    zip_code: str | None = None
    predicates: list[Callable[[dict[str, Any]], bool]] = []
    if not text.strip():
        return None, predicates
    for clause in text.split(" and "):
        clause = clause.strip()
        if match := _CLAUSE_ZIP.match(clause):
            zip_code = match.group(1)
            predicates.append(functools.partial(_has_postal_code, zip_code))
        elif match := _CLAUSE_TS.match(clause):
            op, literal = match.groups()
            try:
                bound = _parse_ts(literal)
            except ValueError:
                raise ODataError(f"bad DateTimeOffset literal {literal!r}") from None
            if bound.tzinfo is None or not literal.endswith(("Z", "+00:00")):
                raise ODataError(f"DateTimeOffset literal needs an offset: {literal!r}")

            def predicate(r: dict[str, Any], op: str = op, bound: dt.datetime = bound) -> bool:
                try:
                    return _COMPARE[op](_parse_ts(r["ModificationTimestamp"]), bound)
                except (KeyError, TypeError, ValueError):
                    return False

            predicates.append(predicate)
        elif match := _CLAUSE_STATUS_ANY.match(clause):
            statuses = frozenset(_STATUS_EQ.findall(match.group(1)))
            predicates.append(lambda r, statuses=statuses: r.get("StandardStatus") in statuses)
        else:
            raise ODataError(f"unsupported $filter clause {clause!r}")
    return zip_code, predicates


def _parse_orderby(text: str) -> list[tuple[str, bool]]:
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise ODataError(f"bad $orderby {text!r}")
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


def _encode_skiptoken(modified: str, key: str, page_index: int) -> str:
    raw = json.dumps([modified, key, page_index]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_skiptoken(token: str) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        raise ODataError("bad $skiptoken") from None
    if not (isinstance(value, list) and len(value) == 3):
        raise ODataError("bad $skiptoken")
    return value


def serve(**options: Any) -> Iterator[tuple[HTTPServer, FakeReso]]:
    """A started server and its fake API (a generator for fixtures)."""
    listings = options.pop("listings", ())
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        yield server, FakeReso(server, listings, **options)


__all__ = [
    "BASE_PATH",
    "PROPERTY_PATH",
    "TOKEN_PATH",
    "FakeReso",
    "Fault",
    "RecordedRequest",
    "iso_z",
    "make_listing",
    "make_listings",
    "serve",
]
