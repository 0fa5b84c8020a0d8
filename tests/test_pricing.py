"""course_utils.pricing: S3 list prices turned into dollars, request classes, documented request rates."""

from __future__ import annotations

import math

import pytest

from course_utils.pricing import GB, S3_REQUEST_RATES, S3_STANDARD, PriceTable, request_class
from course_utils.servers import Cost, LocalS3Server
from course_utils.servers.traffic import RequestLog


def _cost(*requests):
    log = RequestLog()
    for method, path, query, status, downloaded in requests:
        log.begin()
        log.end(method=method, path=path, query=query, status=status, downloaded=downloaded, uploaded=0,
                started=0.0, seconds=0.0)
    cost = Cost()
    cost._finish(log.since(0)[0], 0.1, True)
    return cost


def test_the_price_table_says_what_where_when_and_from_where():
    text = str(S3_STANDARD)
    assert "us-east-1" in text and "2026" in text and "https://aws.amazon.com/s3/pricing/" in text
    assert (S3_STANDARD.get_per_1000, S3_STANDARD.put_per_1000, S3_STANDARD.egress_per_gb) == (0.0004, 0.005, 0.09)
    assert GB == 1_073_741_824


@pytest.mark.parametrize(
    "method, path, query, kind",
    [
        ("GET", "/course/a.zarr/c/0/0", "", "get"),
        ("HEAD", "/course/a.zarr/zarr.json", "", "get"),
        ("PUT", "/course/a.zarr/c/0/0", "", "put"),
        ("POST", "/course/upload", "uploads", "put"),
        ("GET", "/course", "list-type=2&prefix=a", "put"),  # a LIST is billed like a PUT
        ("GET", "/course/", "", "put"),
        ("DELETE", "/course/a.zarr/c/0/0", "", "free"),
        ("OPTIONS", "/course/x", "", "get"),
    ],
)
def test_requests_are_billed_by_class(method, path, query, kind):
    assert request_class(method, query, path) == kind


def test_a_bill_adds_requests_and_egress():
    bill = S3_STANDARD.bill_for(gets=1000, puts=2000, downloaded=2 * GB)
    assert math.isclose(bill.get_dollars, 0.0004)
    assert math.isclose(bill.put_dollars, 0.01)
    assert math.isclose(bill.egress_dollars, 0.18)
    assert math.isclose(bill.dollars, 0.1904)
    million = bill * 1_000_000
    assert math.isclose(million.dollars, 190_400) and million.get_requests == 10**9
    assert str(bill).startswith("$0.1904:")


def test_a_measured_cost_is_billed_request_by_request():
    cost = _cost(
        ("GET", "/course/a/c/0", "", 200, 1000),
        ("GET", "/course/a/missing", "", 404, 200),  # billed: a round trip paid for
        ("GET", "/course", "list-type=2", 200, 500),
        ("PUT", "/course/a/c/1", "", 200, 0),
        ("DELETE", "/course/a/c/1", "", 204, 0),
        ("GET", "/course/a/c/2", "", 503, 100),  # 5XX: not billed
    )
    bill = S3_STANDARD.bill(cost)
    assert (bill.get_requests, bill.put_requests, bill.downloaded) == (2, 2, 1700)
    assert S3_STANDARD.bill(cost.log) == bill


def test_another_provider_is_another_table():
    table = PriceTable(name="Example", region="eu", as_of="2026-11", source="https://example.org",
                       put_per_1000=0.0, get_per_1000=0.0, egress_per_gb=0.0)
    assert table.bill_for(gets=10, downloaded=GB).dollars == 0.0


def test_documented_request_rates():
    assert (S3_REQUEST_RATES.writes_per_second, S3_REQUEST_RATES.reads_per_second) == (3500, 5500)
    assert "per partitioned prefix" in str(S3_REQUEST_RATES)
    assert S3_REQUEST_RATES.source.startswith("https://docs.aws.amazon.com/AmazonS3/")


def test_a_real_read_from_the_local_server_is_priced():
    with LocalS3Server() as s3:
        fs = s3.filesystem()
        fs.pipe("course/x.bin", bytes(3000))
        with s3.measure() as cost:
            fs.cat("course/x.bin")
            fs.ls("course")
    bill = S3_STANDARD.bill(cost)
    assert (bill.get_requests, bill.put_requests) == (1, 1) and bill.downloaded == cost.bytes >= 3000
