"""A fake Maricopa County Assessor API on a real HTTP server, for tests.

``FakeMaricopa`` wraps a ``pytest_httpserver.HTTPServer`` (bound to 127.0.0.1) and
answers like the real API does (see notes/sources.md): ``/search/property/?q=&page=``
in a choosable response shape, 25 hits a page; ``/parcel/{apn}`` (with or without
dashes) with about 41 top-level fields, numbers as strings, ``"na"``, MM/DD/YYYY dates;
``/parcel/{apn}/residential-details`` and ``/parcel/{apn}/valuations``. A wrong or
missing ``AUTHORIZATION`` header gets HTTP 500 with the Assessor's HTML
"Unauthorized access" body; an unknown path gets HTTP 200 with an HTML page.

Faults are injected per path or per ZIP (``inject``): a status (429 with
``Retry-After``, 500...), a slow answer, truncated JSON, an HTML page at 200, an
"Unauthorized access" answer; plus a repeating search page, schema drift
(``drift``), hits from other ZIPs. Every request is recorded (``requests``).

Usage::

    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        fake = FakeMaricopa(server)
        apns = fake.add_zip("85018", 30)
        inventory = MongoParcelInventory(db)
        result = asyncio.run(
            collect_parcels(fake.settings(), ["85018"], inventory, day="2026-11-19")
        )
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from phoenix_assets.domain.property import normalize_apn
from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.maricopa import MaricopaSettings, collect_parcels
from phoenix_assets.storage.parcel_inventory import MongoParcelInventory

TOKEN = "mc-test-TOKEN-7f3a9c2e51d04b"
PAGE_SIZE = 25
UNAUTHORIZED_BODY = "[{where}]:Unauthorized access! Please contact support."
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>Maricopa County Assessor's Office</title></head>"
    "<body><h1>Page not found</h1><p>Try the parcel search.</p></body></html>"
)
SEARCH_SHAPES = ("RealPropertyResults", "RealProperty", "Results", "nested", "list")

_STREETS = (
    "N 38TH ST",
    "E CAMELBACK RD",
    "E INDIAN SCHOOL RD",
    "N 44TH ST",
    "E MONTEROSA ST",
    "N ARCADIA DR",
    "E OSBORN RD",
    "W MARYLAND AVE",
    "N 16TH ST",
    "E THOMAS RD",
)
_SUBDIVISIONS = ("ARCADIA VISTA", "CAMELBACK COUNTRY CLUB ESTATES", "BILTMORE GARDENS", "na")
_WALLS = ("Frame Stucco", "Masonry", "Slump Block", "Brick")
_ROOFS = ("Asphalt Shingle", "Built Up", "Concrete Tile", "Clay Tile")
_NAMES = ("GARCIA MARIA", "SMITH JOHN/JANE", "NGUYEN FAMILY TRUST", "PATEL RAJ", "OBRIEN KATE")
_CENTERS = {"85018": (33.4960, -111.9850), "85033": (33.4940, -112.2130)}


def make_apn(zip_code: str, index: int) -> str:
    """A deterministic, plausible APN (``173-35-524``) for the ``index``-th parcel of a ZIP."""
    book = 100 + int(zip_code) % 800
    return f"{book:03d}-{10 + index // 1000 % 90:02d}-{index % 1000:03d}"


def parcel_fixture(apn: str, zip_code: str, index: int) -> dict[str, Any]:
    """A ``/parcel/{apn}`` body shaped like the Assessor's: 41 top-level fields."""
    rng = random.Random(f"{zip_code}:{index}")  # a str seed is stable across processes
    number = 1000 + rng.randrange(9000)
    street = f"{number} {rng.choice(_STREETS)}"
    # Both address forms the Assessor uses.
    address = (
        f"{street} PHOENIX {zip_code}" if index % 2 == 0 else f"{street} PHOENIX, AZ {zip_code}"
    )
    lat0, lon0 = _CENTERS.get(zip_code, (33.45, -112.07))
    year = rng.randrange(1948, 2021)
    sqft = rng.randrange(900, 4200)
    lot = rng.randrange(4500, 22000)
    fcv = rng.randrange(250, 1800) * 1000
    sale_price = rng.randrange(150, 1500) * 1000
    sale_year = rng.randrange(1998, 2026)
    owner = rng.choice(_NAMES)
    valuations = [
        {
            "TaxYear": str(2027 - back),
            "FullCashValue": f"{int(fcv * (1 - 0.06 * back)):,}",
            "LimitedPropertyValue": f"{int(fcv * 0.62 * (1 - 0.05 * back)):,}",
            "LegalClassification": "3.1",
            "AssessedFCV": f"{int(fcv * 0.1 * (1 - 0.06 * back)):,}",
            "AssessedLPV": f"{int(fcv * 0.062 * (1 - 0.05 * back)):,}",
        }
        for back in range(5)
    ]
    return {
        "APN": apn,
        "MCR": f"{rng.randrange(10, 999):03d}-{rng.randrange(1, 60):02d}",
        "PropertyAddress": address,
        "PropertyDescription": f"LOT {index + 1} {rng.choice(_SUBDIVISIONS)}",
        "LotSize": f"{lot:,}",
        "IsResidential": True,
        "IsRental": index % 7 == 3,
        "SectionTownshipRange": "22 2N 4E",
        "AssessorMarket": "5",
        "AreaNeighborhood": f"{rng.randrange(1, 40):02d}",
        "SubdivisionName": rng.choice(_SUBDIVISIONS),
        "Lot": str(index + 1),
        "Block": "na",
        "Tract": "na",
        "PropertyType": "Single Family Residence",
        "PropertyUseCode": "0131",
        "PropertyUseDescription": "SINGLE FAMILY RESIDENCE",
        "TaxAreaCode": "010100",
        "LocalJurisdiction": "PHOENIX",
        "ParcelStatus": "A",
        "Zoning": ["R1-6"] if index % 3 else ["R1-10", "HP"],
        "Geo": {
            "lat": round(lat0 + rng.uniform(-0.015, 0.015), 6),
            "long": str(round(lon0 + rng.uniform(-0.015, 0.015), 6)),
        },
        "HighSchoolDistrict": "PHOENIX UNION #210",
        "ElementarySchoolDistrict": "CREIGHTON ELEMENTARY DISTRICT",
        "JuniorCollegeDistrict": "MARICOPA COUNTY COMMUNITY COLLEGE",
        "CensusTract": f"{rng.randrange(1000, 1200)}.{rng.randrange(1, 3):02d}",
        "CensusBlockGroup": str(rng.randrange(1, 5)),
        "FloodZone": "X",
        "NumberOfParcelsInMCR": str(rng.randrange(20, 200)),
        "IsCondo": False,
        "CondoUnit": "na",
        "Acres": f"{lot / 43560:.2f}",
        "OwnerID": f"{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}",
        "MostCurrentDeed": str(20_000_000_000 + rng.randrange(10**9)),
        "LastUpdated": f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/2026",
        "MapIDs": [f"{apn[:3]}-{apn[4:6]}"],
        "Exemptions": [],
        "Owner": {
            "Ownership": owner,
            "MailingAddress1": street,
            "MailingCity": "PHOENIX",
            "MailingState": "AZ",
            "MailingZip": zip_code,
            "DeedDate": f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/{sale_year}",
            "DeedType": rng.choice(("WD", "SW", "JT")),
            "SalePrice": f"${sale_price:,}" if index % 4 else "na",
            "SaleDate": f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/{sale_year}",
            "Redacted": False,
        },
        "ResidentialPropertyData": {
            "ConstructionYear": str(year),
            "LivableSpace": f"{sqft:,}",
            "Pool": "Y" if index % 3 == 0 else "N",
            "ImprovementQualityGrade": rng.choice(("Average", "Good", "Very Good")),
            "ExteriorWalls": rng.choice(_WALLS),
            "RoofType": rng.choice(_ROOFS),
            "BathFixtures": str(rng.randrange(5, 16)),
            "Cooling": "Refrigeration",
            "Heating": "Yes",
            "NumberOfGarages": str(rng.randrange(0, 4)) if index % 5 else "na",
            "ParkingType": "Garage",
        },
        "Valuations": valuations,
    }


def search_hit(parcel: Mapping[str, Any], zip_code: str, *, compact: bool) -> dict[str, Any]:
    """A search hit for ``parcel``: the APN (dashed or not) and the address in split fields."""
    street = str(parcel["PropertyAddress"]).split(" PHOENIX")[0]
    return {
        "APN": str(parcel["APN"]).replace("-", "") if compact else parcel["APN"],
        "MCR": parcel["MCR"],
        "Ownership": parcel["Owner"]["Ownership"],
        "PropertyAddress": street,
        "PropertyAddressCity": "PHOENIX",
        "PropertyAddressZip": zip_code,
        "SubdivisionName": parcel["SubdivisionName"],
        "PropertyType": parcel["PropertyType"],
        "IsResidential": True,
        "RentalID": "na",
    }


@dataclass
class Fault:
    """One injected fault: where it applies and what the server does instead."""

    kind: str  # status | slow | truncated | html | unauthorized
    path: str | None = None  # exact path, or a prefix when it ends with "*"
    zip_code: str | None = None  # search requests for this ZIP
    page: int | None = None  # search page number
    times: int | None = None  # None: every time
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    hits: int = 0

    def matches(self, path: str, args: Mapping[str, str]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.path is not None:
            if self.path.endswith("*"):
                if not path.startswith(self.path[:-1]):
                    return False
            elif path != self.path:
                return False
        if self.zip_code is not None and args.get("q") != self.zip_code:
            return False
        return self.page is None or args.get("page") == str(self.page)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic()


@dataclass
class _Parcel:
    zip_code: str
    body: dict[str, Any]
    hit: dict[str, Any]
    residential_details: Any = None
    valuations: Any = None


@dataclass
class FakeMaricopa:
    """The fake Assessor. Register parcels, choose the shape, inject faults, read requests."""

    server: HTTPServer
    token: str = TOKEN
    shape: str = "RealPropertyResults"
    shapes_by_zip: dict[str, str] = field(default_factory=dict)
    parcels: dict[str, _Parcel] = field(default_factory=dict)  # compact APN -> parcel
    hits_by_zip: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    repeated_pages: set[tuple[str, int]] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    # -- setting the scene

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def settings(self, **overrides: Any) -> MaricopaSettings:
        """Settings pointing at this server, with a fast, test-sized HTTP policy."""
        values: dict[str, Any] = {
            "base_url": self.base_url,
            "token": self.token,
            "requests_per_second": 500.0,
            "max_concurrency": 2,
            "daily_request_budget": 10_000,
            "max_attempts": 3,
            "backoff_initial_seconds": 0.01,
            "backoff_max_seconds": 0.05,
            "timeout_seconds": 2.0,
            "time_budget_seconds": 60.0,
        }
        values.update(overrides)
        return MaricopaSettings(**values)

    def add_zip(self, zip_code: str, count: int, *, start: int = 0) -> list[str]:
        """Add ``count`` realistic parcels to ``zip_code``; returns their normalized APNs."""
        return [
            self.add_parcel(zip_code, parcel_fixture(make_apn(zip_code, i), zip_code, i))
            for i in range(start, start + count)
        ]

    def add_parcel(
        self,
        zip_code: str,
        body: dict[str, Any],
        *,
        hit: dict[str, Any] | None = None,
        residential_details: Any = dataclasses.MISSING,
        valuations: Any = dataclasses.MISSING,
    ) -> str:
        """Add one parcel (its ``/parcel`` body) to ``zip_code``'s search results."""
        apn = normalize_apn(str(body.get("APN") or "")) or ""
        index = len(self.hits_by_zip.get(zip_code, []))
        hit = hit if hit is not None else search_hit(body, zip_code, compact=index % 2 == 1)
        details = body.get("ResidentialPropertyData")
        self.parcels[apn.replace("-", "")] = _Parcel(
            zip_code=zip_code,
            body=body,
            hit=hit,
            residential_details=(
                {**details, "Stories": "1", "Fireplaces": "na"}
                if residential_details is dataclasses.MISSING and isinstance(details, dict)
                else None
                if residential_details is dataclasses.MISSING
                else residential_details
            ),
            valuations=(
                body.get("Valuations") if valuations is dataclasses.MISSING else valuations
            ),
        )
        self.hits_by_zip.setdefault(zip_code, []).append(hit)
        return apn

    def add_hit(self, zip_code: str, hit: dict[str, Any]) -> None:
        """A search hit with no parcel behind it (another ZIP's parcel, a drifted hit...)."""
        self.hits_by_zip.setdefault(zip_code, []).append(hit)

    def set_shape(self, shape: str, zip_code: str | None = None) -> None:
        """The search response's shape: one of SEARCH_SHAPES, or anything else for unknown."""
        if zip_code is None:
            self.shape = shape
        else:
            self.shapes_by_zip[zip_code] = shape

    def repeat_page(self, zip_code: str, page: int) -> None:
        """Search page ``page`` of ``zip_code`` answers the previous page again (a loop)."""
        self.repeated_pages.add((zip_code, page))

    def inject(self, kind: str, **where: Any) -> Fault:
        """Inject a fault: ``inject("status", path="/parcel/123*", status=429, ...)``."""
        fault = Fault(kind=kind, **where)
        with self._lock:
            self.faults.append(fault)
        return fault

    def drift(
        self, apn: str, *, rename: Mapping[str, str] | None = None, drop: Iterable[str] = ()
    ) -> None:
        """Schema drift on one parcel's ``/parcel`` body: keys renamed or gone."""
        parcel = self.parcels[(normalize_apn(apn) or apn).replace("-", "")]
        body = dict(parcel.body)
        for old, new in (rename or {}).items():
            body[new] = body.pop(old)
        for key in drop:
            body.pop(key, None)
        parcel.body = body

    # -- reading what happened

    def paths(self, prefix: str = "/") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    def parcel_order(self) -> list[str]:
        """Normalized APNs in the order their ``/parcel/{apn}`` was first requested."""
        order: list[str] = []
        for path in self.paths("/parcel/"):
            parts = path.split("/")
            apn = normalize_apn(parts[2]) or parts[2]
            if len(parts) == 3 and apn not in order:
                order.append(apn)
        return order

    def search_requests(self, zip_code: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path == "/search/property/" and (zip_code is None or r.query.get("q") == zip_code)
        ]

    # -- answering

    def _handle(self, request: Request) -> Response:
        args = {key: request.args[key] for key in request.args}
        with self._lock:
            self.requests.append(
                RecordedRequest(request.path, args, dict(request.headers), time.monotonic())
            )
            fault = next((f for f in self.faults if f.matches(request.path, args)), None)
            if fault is not None:
                fault.hits += 1
        where = "search" if request.path.startswith("/search") else "parcel"
        if request.headers.get("AUTHORIZATION") != self.token or (
            fault is not None and fault.kind == "unauthorized"
        ):
            return Response(UNAUTHORIZED_BODY.format(where=where), 500, content_type="text/html")
        if fault is not None:
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body = json.dumps({"Message": "An error has occurred."})
                return Response(body, fault.status, headers, content_type="application/json")
            if fault.kind == "html":
                return Response(NOT_FOUND_PAGE, 200, content_type="text/html")
            if fault.kind == "slow":
                time.sleep(fault.delay)
            if fault.kind == "bad_gzip":
                # Says gzip, is not: the client cannot decode the body at all.
                body = b"not gzip at all"
                return Response(
                    body, 200, {"Content-Encoding": "gzip"}, content_type="application/json"
                )
        response = self._answer(request.path, args)
        if fault is not None and fault.kind == "truncated":
            data = response.get_data()
            return Response(data[: max(1, len(data) // 2)], 200, content_type="application/json")
        return response

    def _answer(self, path: str, args: Mapping[str, str]) -> Response:
        if path == "/search/property/":
            return _json(self._search(args.get("q", ""), args.get("page", "1")))
        match = re.fullmatch(r"/parcel/([^/]+)(/residential-details|/valuations)?", path)
        if match:
            key = (normalize_apn(match.group(1)) or "").replace("-", "")
            parcel = self.parcels.get(key)
            if parcel is not None:
                if match.group(2) is None:
                    return _json(parcel.body)
                if match.group(2) == "/valuations":
                    return _json(parcel.valuations)
                return _json(parcel.residential_details)
        return Response(NOT_FOUND_PAGE, 200, content_type="text/html")

    def _search(self, q: str, page_text: str) -> Any:
        page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
        if (q, page) in self.repeated_pages:
            page -= 1
        hits = self.hits_by_zip.get(q, [])
        window = hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        shape = self.shapes_by_zip.get(q, self.shape)
        if shape == "RealPropertyResults":
            return {"RealPropertyResults": window}
        if shape == "RealProperty":
            return {"RealProperty": window, "TotalFound": len(hits)}
        if shape == "Results":
            return {"Results": window}
        if shape == "nested":
            return {"RealProperty": {"results": window}}
        if shape == "list":
            return window
        return {"Parcels": window, "Count": len(window)}  # a shape nobody knows


def _json(body: Any) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")


def compact(apn: str) -> str:
    """An APN as the fake's paths carry it: no dashes."""
    return apn.replace("-", "")


def collect_day(
    fake: FakeMaricopa,
    db: Database[dict[str, Any]],
    zips: list[str],
    *,
    day: str,
    listed: Mapping[str, str] | None = None,
    **settings: Any,
) -> CollectionResult:
    """One day as the asset runs it: collect, then record the fetches that were stored."""
    inventory = MongoParcelInventory(db)
    result = asyncio.run(
        collect_parcels(
            fake.settings(**settings), zips, inventory, day=day, listed=lambda: dict(listed or {})
        )
    )
    inventory.record_fetches(day, [(r.source_id, r.zip_code) for r in result.records])
    return result
