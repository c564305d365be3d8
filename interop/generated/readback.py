#!/usr/bin/python3
"""Reads customers back with a plain HTTP POST and ElementTree, outside the generated
client that wrote them: what the server stored must be exactly what was sent.

Usage: readback.py ENDPOINT LABEL ID VERSION add|update [ID VERSION add|update ...]

"add" records carry NAME_ADD, "update" records NAME_UPDATE (the strings every program
in this directory sends); no optional field was ever set on them.
"""

import os
import sys
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import checks  # noqa: E402

NS = "urn:crmsoap:v1"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAMES = {
    "add": "\u5f20\u4f1f \U0001f600 Zhang",
    "update": "\u674e\u5a1c \U0001f389 Li",
}
OPTIONAL = ["externalId", "email", "phone", "gender", "birthDate", "company", "address"]


def get_customer(endpoint, cid):
    body = (
        f'<e:Envelope xmlns:e="{ENV}"><e:Body><GetCustomer xmlns="{NS}"><id>{cid}</id>'
        "</GetCustomer></e:Body></e:Envelope>"
    ).encode()
    req = urllib.request.Request(
        endpoint,
        data=body,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}#GetCustomer"'},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return ET.fromstring(resp.read())


def main():
    if len(sys.argv) < 3 or (len(sys.argv) - 3) % 3 != 0:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, checks.suite = sys.argv[1], sys.argv[2] + " readback"
    rest = sys.argv[3:]
    if not rest:
        checks.check("records to read back", False, "none", "at least one")
    for i in range(0, len(rest), 3):
        cid, version, which = rest[i], rest[i + 1], rest[i + 2]
        try:
            env = get_customer(endpoint, cid)
        except Exception as e:  # noqa: BLE001 - any failure is a failed check
            checks.check(f"{which} {cid} GetCustomer", False, repr(e), "a response")
            continue
        c = env.find(f"{{{ENV}}}Body/{{{NS}}}GetCustomerResponse/{{{NS}}}customer")
        if not checks.check(f"{which} {cid} GetCustomerResponse", c is not None, ET.tostring(env)[:300], "customer"):
            continue
        checks.equal(f"{which} {cid} name stored as sent", c.findtext(f"{{{NS}}}name"), NAMES[which])
        checks.equal(f"{which} {cid} version", c.findtext(f"{{{NS}}}version"), version)
        present = [f for f in OPTIONAL if c.find(f"{{{NS}}}{f}") is not None]
        checks.equal(f"{which} {cid} optional fields absent", present, [])
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
