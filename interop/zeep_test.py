#!/usr/bin/python3
"""crmsoap interoperability checks with Python zeep (Debian's python3-zeep 4.2.1).

Usage: zeep_test.py WSDL_URL

Loads the WSDL the server serves, binds both ports (SOAP 1.1 and SOAP 1.2), runs
every operation and every fault the contract names, and prints one line per
check ("ok - ..." or "FAIL - ..."). Exits 1 when any check failed.
"""

import datetime
import os
import sys
import traceback

import requests
import zeep
import zeep.exceptions
import zeep.transports

import checks

NS = "urn:crmsoap:v1"
# Markup characters, a CDATA terminator and an already-escaped entity must come back verbatim.
XML_SPECIALS = "Müller & Söhne <GmbH> \"quoted\" 'single' ]]> &amp;"

checks.suite = "zeep"
check, equal = checks.check, checks.equal


class RecordingTransport(zeep.transports.Transport):
    """Remembers the HTTP status and Content-Type of the last response, which zeep
    does not expose on a Fault."""

    last_status = None
    last_content_type = None

    def post(self, address, message, headers):
        response = super().post(address, message, headers)
        self.last_status = response.status_code
        self.last_content_type = response.headers.get("Content-Type", "")
        return response


def fault_detail(fault):
    """Returns (code, field, message) read from the CrmFault inside the fault's detail
    element, or None when there is no CrmFault."""
    detail = fault.detail
    if detail is None:
        return None
    crm = detail.find(f"{{{NS}}}CrmFault")
    if crm is None:
        return None
    return (
        crm.findtext(f"{{{NS}}}code"),
        crm.findtext(f"{{{NS}}}field"),
        crm.findtext(f"{{{NS}}}message"),
    )


def local(qname):
    """The local part of a fault code such as "soap:Client" or "{ns}Sender"."""
    if qname is None:
        return None
    return qname.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


class Suite:
    def __init__(self, client, transport, port, soap_version, base_url):
        self.svc = client.bind("CrmService", port)
        self.transport = transport
        self.port = port
        self.v = soap_version
        self.tag = f"[{port}]"
        self.base_url = base_url
        # One server database is shared by every client and port: keep keys apart.
        self.key = f"zeep-{soap_version}-{os.getpid()}"

    def expect_fault(self, name, call, code, field=None):
        """Runs call, which must raise a Fault whose CrmFault detail has code (and
        field, when given), with the SOAP version's faultcode and HTTP status."""
        try:
            call()
        except zeep.exceptions.Fault as f:
            got = fault_detail(f)
            if not check(f"{self.tag} {name}: CrmFault detail parsed", got is not None,
                         f"detail={f.detail!r} message={f.message!r}", "CrmFault element"):
                return
            equal(f"{self.tag} {name}: code", got[0], code)
            if field is not None:
                equal(f"{self.tag} {name}: field", got[1], field)
            check(f"{self.tag} {name}: message non-empty", bool(got[2]), got[2], "some text")
            check(f"{self.tag} {name}: faultstring non-empty", bool(f.message), f.message, "some text")
            if self.v == "1.1":
                equal(f"{self.tag} {name}: faultcode", local(f.code), "Client")
                equal(f"{self.tag} {name}: HTTP status", self.transport.last_status, 500)
            else:
                equal(f"{self.tag} {name}: SOAP 1.2 Code/Value", local(f.code), "Sender")
                equal(f"{self.tag} {name}: HTTP status", self.transport.last_status, 400)
            return
        except Exception as e:  # any other exception means zeep could not read the fault
            check(f"{self.tag} {name}: raises zeep Fault", False, f"{type(e).__name__}: {e}", "zeep.exceptions.Fault")
            return
        check(f"{self.tag} {name}: raises zeep Fault", False, "no fault", code)

    def run(self):
        t = self.tag
        opts = self.svc._binding_options
        equal(f"{t} WSDL soap:address points at this server", opts.get("address"), self.base_url)

        birth = datetime.date(1984, 2, 29)
        data = {
            "externalId": f"{self.key}-1",
            "name": "张伟",
            "email": "zhang.wei@example.cn",
            "phone": "+86 (10) 6552-9988",
            "gender": "MALE",
            "birthDate": birth,
            "company": "Raketen GmbH 🚀 Café Müller",
            "address": {
                "street": "Straße der Pariser Kommune 12",
                "city": "São Paulo",
                "region": "Île-de-France",
                "postalCode": "01310-100",
                "country": "BR",
            },
        }
        before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        created = self.svc.AddCustomer(customer=data)
        equal(f"{t} AddCustomer: content type", self.transport.last_content_type.split(";")[0].strip(),
              "text/xml" if self.v == "1.1" else "application/soap+xml")
        check(f"{t} AddCustomer: id assigned", isinstance(created.id, int) and created.id > 0, created.id, "positive int")
        equal(f"{t} AddCustomer: version", created.version, 1)
        check(f"{t} AddCustomer: createdAt is an aware datetime near now",
              isinstance(created.createdAt, datetime.datetime) and created.createdAt.tzinfo is not None
              and created.createdAt >= before, created.createdAt, "UTC datetime")

        got = self.svc.GetCustomer(id=created.id)
        equal(f"{t} GetCustomer: id", got.id, created.id)
        equal(f"{t} GetCustomer: version", got.version, 1)
        equal(f"{t} GetCustomer: externalId", got.externalId, data["externalId"])
        equal(f"{t} GetCustomer: name (Chinese)", got.name, "张伟")
        equal(f"{t} GetCustomer: email", got.email, data["email"])
        equal(f"{t} GetCustomer: phone", got.phone, data["phone"])
        equal(f"{t} GetCustomer: gender", got.gender, "MALE")
        equal(f"{t} GetCustomer: birthDate is a date", type(got.birthDate), datetime.date)
        equal(f"{t} GetCustomer: birthDate", got.birthDate, birth)
        equal(f"{t} GetCustomer: company (emoji, accents)", got.company, data["company"])
        equal(f"{t} GetCustomer: createdAt", got.createdAt, created.createdAt)
        equal(f"{t} GetCustomer: updatedAt", got.updatedAt, created.updatedAt)
        a = got.address
        check(f"{t} GetCustomer: address present", a is not None, a, "Address")
        if a is not None:
            for k, v in data["address"].items():
                equal(f"{t} GetCustomer: address.{k}", getattr(a, k), v)

        upd = {
            "externalId": f"{self.key}-1",
            "name": "José Ñúñez-Ørsted",
            "email": "jose@example.es",
            "gender": "OTHER",
            "birthDate": datetime.date(1990, 12, 31),
            "company": XML_SPECIALS,
        }
        updated = self.svc.UpdateCustomer(id=created.id, expectedVersion=1, customer=upd)
        equal(f"{t} UpdateCustomer: version", updated.version, 2)
        equal(f"{t} UpdateCustomer: name (accents)", updated.name, upd["name"])
        equal(f"{t} UpdateCustomer: gender", updated.gender, "OTHER")
        equal(f"{t} UpdateCustomer: birthDate", updated.birthDate, datetime.date(1990, 12, 31))
        equal(f"{t} UpdateCustomer: company with XML special characters", updated.company, XML_SPECIALS)
        # UpdateCustomer replaces every writable field: the omitted ones are gone.
        equal(f"{t} UpdateCustomer: omitted phone cleared", updated.phone, None)
        equal(f"{t} UpdateCustomer: omitted address cleared", updated.address, None)
        equal(f"{t} UpdateCustomer: createdAt unchanged", updated.createdAt, created.createdAt)
        check(f"{t} UpdateCustomer: updatedAt not before createdAt",
              updated.updatedAt is not None and updated.updatedAt >= created.createdAt,
              updated.updatedAt, f">= {created.createdAt}")

        again = self.svc.GetCustomer(id=created.id)
        equal(f"{t} GetCustomer after update: name", again.name, upd["name"])
        equal(f"{t} GetCustomer after update: version", again.version, 2)

        self.expect_fault("UpdateCustomer stale expectedVersion -> CONFLICT",
                          lambda: self.svc.UpdateCustomer(id=created.id, expectedVersion=1, customer=upd),
                          "CONFLICT", "expectedVersion")
        self.expect_fault("AddCustomer bad email -> VALIDATION_FAILED",
                          lambda: self.svc.AddCustomer(customer={"name": "Bad Mail", "email": "not-an-email"}),
                          "VALIDATION_FAILED", "customer/email")
        self.expect_fault("AddCustomer empty name -> VALIDATION_FAILED",
                          lambda: self.svc.AddCustomer(customer={"name": ""}),
                          "VALIDATION_FAILED", "customer/name")
        self.expect_fault("AddCustomer duplicate externalId -> DUPLICATE",
                          lambda: self.svc.AddCustomer(customer={"externalId": f"{self.key}-1", "name": "Dup"}),
                          "DUPLICATE", "customer/externalId")
        self.expect_fault("GetCustomer unknown id -> NOT_FOUND",
                          lambda: self.svc.GetCustomer(id=9_000_000_000_000 + os.getpid()),
                          "NOT_FOUND")

        # A customer without any optional field round-trips with them absent.
        bare = self.svc.AddCustomer(customer={"name": "Ünïcödé Bare 🚀"})
        bare_got = self.svc.GetCustomer(id=bare.id)
        equal(f"{t} bare customer: name", bare_got.name, "Ünïcödé Bare 🚀")
        for k in ("externalId", "email", "phone", "gender", "birthDate", "company", "address"):
            equal(f"{t} bare customer: {k} absent", getattr(bare_got, k), None)

        self.expect_fault("DeleteCustomer stale expectedVersion -> CONFLICT",
                          lambda: self.svc.DeleteCustomer(id=created.id, expectedVersion=1),
                          "CONFLICT", "expectedVersion")
        deleted = self.svc.DeleteCustomer(id=created.id, expectedVersion=2)
        equal(f"{t} DeleteCustomer: returns id", deleted, created.id)
        self.expect_fault("GetCustomer after delete -> NOT_FOUND",
                          lambda: self.svc.GetCustomer(id=created.id), "NOT_FOUND")
        self.expect_fault("DeleteCustomer twice -> NOT_FOUND",
                          lambda: self.svc.DeleteCustomer(id=created.id), "NOT_FOUND")
        self.svc.DeleteCustomer(id=bare.id)


def run_sync(suite):
    """ERP synchronisation: upsert by externalId, a bulk call mixing good and bad items, paging a
    search, following the change feed to the end."""
    t, svc, key = suite.tag, suite.svc, suite.key + "-sync"
    first = svc.UpsertCustomer(customer={"externalId": f"{key}-u", "name": "Upsert Ünïcode"})
    equal(f"{t} UpsertCustomer: created", first.created, True)
    again = svc.UpsertCustomer(customer={"externalId": f"{key}-u", "name": "Upsert again"}, expectedVersion=1)
    equal(f"{t} UpsertCustomer again: created", again.created, False)
    equal(f"{t} UpsertCustomer again: same id", again.customer.id, first.customer.id)
    equal(f"{t} UpsertCustomer again: version", again.customer.version, 2)
    suite.expect_fault("UpsertCustomer without externalId -> VALIDATION_FAILED",
                       lambda: svc.UpsertCustomer(customer={"name": "no key"}),
                       "VALIDATION_FAILED", "customer/externalId")

    company = f"Sync {key}"
    items = [{"externalId": f"{key}-{i}", "name": f"Bulk {i}", "company": company} for i in range(5)]
    items.insert(2, {"externalId": f"{key}-bad", "name": "Bad", "email": "not-an-address"})
    items.append({"externalId": f"{key}-0", "name": "Same key twice"})
    results = svc.UpsertCustomers(customer=items)
    equal(f"{t} UpsertCustomers: one result per item", len(results), len(items))
    equal(f"{t} UpsertCustomers: indexes in request order", [r.index for r in results], list(range(len(items))))
    equal(f"{t} UpsertCustomers: success per item", [r.success for r in results],
          [False, True, False, True, True, True, False])
    equal(f"{t} UpsertCustomers: error codes", [r.error.code if r.error else None for r in results],
          ["DUPLICATE", None, "VALIDATION_FAILED", None, None, None, "DUPLICATE"])
    equal(f"{t} UpsertCustomers: bad item's field", results[2].error.field, "customer/email")
    check(f"{t} UpsertCustomers: created ids", all(r.id > 0 and r.created for r in results if r.success), results)
    rolled = svc.AddCustomers(allOrNone=True, customer=[{"name": "Fine"}, {"name": ""}])
    equal(f"{t} AddCustomers allOrNone: codes", [r.error.code for r in rolled], ["ROLLED_BACK", "VALIDATION_FAILED"])

    seen, token, pages = [], None, 0
    while True:
        page = svc.SearchCustomers(filter={"company": company}, pageSize=2, pageToken=token)
        pages += 1
        seen += [c.externalId for c in page.customer]
        token = page.nextPageToken
        if not token or pages > 10:
            break
    equal(f"{t} SearchCustomers: pages of 2", pages, 2)
    equal(f"{t} SearchCustomers: every match once", sorted(seen), sorted(f"{key}-{i}" for i in (1, 2, 3, 4)))
    suite.expect_fault("SearchCustomers tampered pageToken -> VALIDATION_FAILED",
                       lambda: svc.SearchCustomers(pageToken="AAAA" + "A" * 80), "VALIDATION_FAILED", "pageToken")
    suite.expect_fault("SearchCustomers pageSize 0 -> VALIDATION_FAILED",
                       lambda: svc.SearchCustomers(pageSize=0), "VALIDATION_FAILED", "pageSize")

    changes, cursor, calls = {}, None, 0
    while True:
        resp = svc.GetChanges(cursor=cursor, maxChanges=1000)
        calls += 1
        for ch in resp.change:
            changes[ch.id] = ch
        cursor = resp.nextCursor
        if not resp.hasMore or calls > 1000:
            break
    check(f"{t} GetChanges: followed to the end", not resp.hasMore, resp.hasMore, False)
    mine = changes.get(first.customer.id)
    check(f"{t} GetChanges: upserted customer in the feed", mine is not None, None, first.customer.id)
    if mine is not None:
        equal(f"{t} GetChanges: latest state", (mine.kind, mine.version, mine.customer.name), ("UPSERTED", 2, "Upsert again"))
    svc.DeleteCustomer(id=first.customer.id)
    tail = svc.GetChanges(cursor=cursor)
    equal(f"{t} GetChanges after a deletion: the tombstone",
          [(c.id, c.kind, c.customer) for c in tail.change], [(first.customer.id, "DELETED", None)])
    suite.expect_fault("GetChanges garbage cursor -> VALIDATION_FAILED",
                       lambda: svc.GetChanges(cursor="garbage"), "VALIDATION_FAILED", "cursor")


def run_commerce(suite):
    """Commerce: two products with exact EUR prices, a customer, an order of two lines that leaves the
    first product at its low-stock threshold, the status moving PLACED -> PAID -> SHIPPED, a forbidden
    transition, and a 4-star review in the product's rating."""
    t, svc, key = suite.tag, suite.svc, suite.key + "-shop"
    a = svc.AddProduct(product={"sku": f"{key}-A", "name": "Kaffeemühle Ä", "price": {"amount": "19.99", "currency": "EUR"},
                                "stockQuantity": 10, "lowStockThreshold": 3})
    b = svc.AddProduct(product={"sku": f"{key}-B", "name": "Filter", "price": {"amount": "5.50", "currency": "EUR"},
                                "stockQuantity": 100, "lowStockThreshold": 5})
    check(f"{t} AddProduct: ids assigned", a.id > 0 and b.id > 0 and a.id != b.id, (a.id, b.id), "two positive ids")
    equal(f"{t} AddProduct: price exact", (a.price.amount, a.price.currency), ("19.99", "EUR"))
    equal(f"{t} AddProduct: stock and threshold", (a.stockQuantity, a.lowStockThreshold, a.lowStock), (10, 3, False))
    cust = svc.AddCustomer(customer={"name": "Order Kundin", "externalId": f"{key}-c"})

    placed = svc.PlaceOrder(customerId=cust.id, externalId=f"{key}-o",
                            line=[{"productId": a.id, "quantity": 7}, {"sku": f"{key}-B", "quantity": 2}])
    o = placed.order
    equal(f"{t} PlaceOrder: status", o.status, "PLACED")
    equal(f"{t} PlaceOrder: customerId", o.customerId, cust.id)
    equal(f"{t} PlaceOrder: lines", [(ln.productId, ln.quantity, ln.unitPrice.amount) for ln in o.line],
          [(a.id, 7, "19.99"), (b.id, 2, "5.50")])
    equal(f"{t} PlaceOrder: exact total", (o.totalAmount.amount, o.totalAmount.currency), ("150.93", "EUR"))
    equal(f"{t} PlaceOrder: LOW_STOCK warning",
          [(w.code, w.productId, w.sku, w.stockQuantity, w.lowStockThreshold) for w in placed.warning],
          [("LOW_STOCK", a.id, f"{key}-A", 3, 3)])

    paid = svc.UpdateOrderStatus(id=o.id, status="PAID", expectedVersion=o.version)
    equal(f"{t} UpdateOrderStatus PLACED -> PAID", (paid.status, paid.version), ("PAID", o.version + 1))
    shipped = svc.UpdateOrderStatus(id=o.id, status="SHIPPED")
    equal(f"{t} UpdateOrderStatus PAID -> SHIPPED", shipped.status, "SHIPPED")
    suite.expect_fault("UpdateOrderStatus SHIPPED -> CANCELLED -> CONFLICT",
                       lambda: svc.UpdateOrderStatus(id=o.id, status="CANCELLED"), "CONFLICT")

    r = svc.AddReview(review={"customerId": cust.id, "productId": a.id, "stars": 4, "title": "Gut & günstig"})
    equal(f"{t} AddReview: stars", r.review.stars, 4)
    equal(f"{t} AddReview: rating", (r.rating.average, r.rating.count), ("4.00", 1))
    got = svc.GetProduct(id=a.id)
    equal(f"{t} GetProduct: rating", (got.rating.average, got.rating.count), ("4.00", 1))
    equal(f"{t} GetProduct: stock after the order", (got.stockQuantity, got.lowStock), (3, True))


def main():
    if len(sys.argv) != 2:
        print("usage: zeep_test.py WSDL_URL", file=sys.stderr)
        return 2
    wsdl_url = sys.argv[1]
    base_url = wsdl_url.split("?", 1)[0]
    print(f"# zeep {zeep.__version__} against {wsdl_url}", flush=True)
    session = requests.Session()
    session.trust_env = False  # never send local traffic through a proxy from the environment
    transport = RecordingTransport(session=session, timeout=10, operation_timeout=10)
    settings = zeep.Settings(strict=True, xml_huge_tree=False)
    try:
        client = zeep.Client(wsdl_url, transport=transport, settings=settings)
    except Exception as e:
        check("loads the served WSDL", False, f"{type(e).__name__}: {e}", "a parsed WSDL")
        return 1
    check("loads the served WSDL", True)
    ports = sorted(client.wsdl.services["CrmService"].ports)
    equal("WSDL declares both ports", ports, ["CrmSoap11Port", "CrmSoap12Port"])
    for port, v in (("CrmSoap11Port", "1.1"), ("CrmSoap12Port", "1.2")):
        try:
            Suite(client, transport, port, v, base_url).run()
            run_sync(Suite(client, transport, port, v, base_url))
            run_commerce(Suite(client, transport, port, v, base_url))
        except Exception as e:
            check(f"[{port}] suite ran to the end", False, f"{type(e).__name__}: {e}", "no exception")
            traceback.print_exc()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
