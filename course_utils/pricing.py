"""What requests and bytes cost on a real object store: a small price table, and S3's rate limits.

The local servers count every request and byte (:class:`~course_utils.servers.Cost`);
this module turns such counts into dollars at a cloud provider's list prices::

    from course_utils.pricing import S3_STANDARD

    with s3.measure() as cost:
        plane = array[3]
    bill = S3_STANDARD.bill(cost)            # or S3_STANDARD.bill_for(gets=16, downloaded=459_697)
    print(bill.dollars)                      # 4.0e-05 ...
    print(S3_STANDARD)                       # the prices, their region, date and source

How S3 bills (the parts a reader of OME-Zarr pays):

- **requests**, per 1,000: PUT, COPY, POST and LIST (a listing is a ``GET``
  with ``list-type`` or on the bucket itself) at one price, GET, HEAD and
  all other requests at a lower one; DELETE is free. S3 bills most answers
  with a 4XX error too (a 404 for a key that does not exist is a round trip
  paid for), except the codes its billing page lists, and no 5XX answer such
  as ``503 Slow Down``
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorCodeBilling.html):
  :meth:`PriceTable.bill` counts every request below 500.
- **data transfer out to the internet** (egress), per GB downloaded, where a
  GB is 2**30 bytes, as in AWS's own billing examples. Uploads (data in) are
  free. AWS gives every account 100 GB of egress a month free (over all its
  services), and the price per GB falls above 10 TB a month: both are left
  out here, so the figures are those of a reader past the free allowance.
- storage per GB-month, not used by the lessons.

The prices (:data:`S3_STANDARD`) are the list prices of S3 Standard in US
East (N. Virginia), ``us-east-1``, as AWS's pricing page gives them
(https://aws.amazon.com/s3/pricing/), read in November 2026 (copies of that
page published from 2024 to 2026 give the same figures). Other regions and
providers differ: make another :class:`PriceTable` for them.
AWS's machine-readable price list for this region:
https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonS3/current/us-east-1/index.json

:data:`S3_REQUEST_RATES` holds the request rates S3 documents per
partitioned prefix (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for type hints: importing the servers starts nothing, but costs time
    from course_utils.servers.traffic import Cost, Request

__all__ = [
    "GB",
    "S3_REQUEST_RATES",
    "S3_STANDARD",
    "Bill",
    "PriceTable",
    "RequestRates",
    "request_class",
]

#: Bytes in the GB that S3 bills by (AWS's billing examples use 2**30 bytes).
GB = 2**30


def request_class(method: str, query: str = "", path: str = "") -> str:
    """How S3 bills a request: ``"put"`` (PUT, COPY, POST, LIST), ``"get"`` (GET, HEAD, others) or ``"free"``.

    A ``GET`` is a LIST when its query asks for one (``list-type=2``) or when
    it names a bucket and no key (``/bucket``), as s3fs's listings do.
    """
    method = method.upper()
    if method == "DELETE":
        return "free"
    if method in ("PUT", "POST"):
        return "put"
    if method == "GET":
        key = path.lstrip("/").split("/", 1)[1] if "/" in path.lstrip("/") else ""
        if "list-type" in query or not key:
            return "put"
    return "get"


@dataclass(frozen=True)
class Bill:
    """What some requests and bytes cost: counts, and dollars for each part."""

    put_requests: int
    get_requests: int
    downloaded: int
    put_dollars: float
    get_dollars: float
    egress_dollars: float

    @property
    def dollars(self) -> float:
        """The total in US dollars."""
        return self.put_dollars + self.get_dollars + self.egress_dollars

    def __mul__(self, times: int | float) -> Bill:
        """The bill of ``times`` repetitions (e.g. a million views)."""
        return Bill(
            round(self.put_requests * times), round(self.get_requests * times), round(self.downloaded * times),
            self.put_dollars * times, self.get_dollars * times, self.egress_dollars * times,
        )

    __rmul__ = __mul__

    def __str__(self) -> str:
        return (
            f"${self.dollars:.6g}: {self.get_requests:,} GET-class requests ${self.get_dollars:.6g}, "
            f"{self.put_requests:,} PUT-class requests ${self.put_dollars:.6g}, "
            f"{self.downloaded:,} bytes downloaded ${self.egress_dollars:.6g}"
        )


@dataclass(frozen=True)
class PriceTable:
    """List prices of an object store: per 1,000 requests of each class, per GB downloaded.

    ``region`` and ``as_of`` (when the prices were read) say where and when
    they hold; ``source`` where they come from.
    """

    name: str
    region: str
    as_of: str
    source: str
    put_per_1000: float
    get_per_1000: float
    egress_per_gb: float

    def bill_for(self, *, gets: int = 0, puts: int = 0, downloaded: int = 0) -> Bill:
        """The :class:`Bill` of ``gets`` GET-class and ``puts`` PUT-class requests and ``downloaded`` bytes."""
        return Bill(
            put_requests=puts, get_requests=gets, downloaded=downloaded,
            put_dollars=puts * self.put_per_1000 / 1000,
            get_dollars=gets * self.get_per_1000 / 1000,
            egress_dollars=downloaded / GB * self.egress_per_gb,
        )

    def bill(self, cost: Cost | Iterable[Request]) -> Bill:
        """The :class:`Bill` of a measured :class:`~course_utils.servers.Cost` (or of its requests)."""
        log = [r for r in (cost.log if hasattr(cost, "log") else cost) if r.status < 500]
        classes = [request_class(r.method, r.query, r.path) for r in log]
        return self.bill_for(
            gets=classes.count("get"), puts=classes.count("put"), downloaded=sum(r.downloaded for r in log)
        )

    def __str__(self) -> str:
        return (
            f"{self.name}, {self.region}, list prices as of {self.as_of}\n"
            f"  PUT, COPY, POST, LIST   ${self.put_per_1000:g} per 1,000 requests\n"
            f"  GET, HEAD and others    ${self.get_per_1000:g} per 1,000 requests\n"
            f"  data out to internet    ${self.egress_per_gb:g} per GB (2**30 bytes)\n"
            f"  source: {self.source}"
        )


#: S3 Standard in us-east-1: list prices (first egress tier, after the free 100 GB a month).
S3_STANDARD = PriceTable(
    name="Amazon S3 Standard",
    region="US East (N. Virginia), us-east-1",
    as_of="November 2026",
    source="https://aws.amazon.com/s3/pricing/",
    put_per_1000=0.005,
    get_per_1000=0.0004,
    egress_per_gb=0.09,
)


@dataclass(frozen=True)
class RequestRates:
    """Requests per second an object store sustains per (partitioned) key prefix, and where that is documented."""

    writes_per_second: int
    reads_per_second: int
    writes: str
    reads: str
    source: str

    def __str__(self) -> str:
        return (
            f"at least {self.writes_per_second:,} {self.writes} and {self.reads_per_second:,} {self.reads} "
            f"requests per second per partitioned prefix ({self.source})"
        )


#: What S3 documents: rates per partitioned prefix; above them it answers 503 Slow Down while it scales.
S3_REQUEST_RATES = RequestRates(
    writes_per_second=3500,
    reads_per_second=5500,
    writes="PUT/COPY/POST/DELETE",
    reads="GET/HEAD",
    source="https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html",
)
