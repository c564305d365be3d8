#!/usr/bin/python3
"""crmsoap WS-Security interoperability checks: zeep signing with python3-xmlsec, and the
xmlsec1 command line verifying the server's signed responses.

Usage: zeep_wsse_test.py WSDL_URL CLIENT_KEY CLIENT_CERT STRANGER_KEY STRANGER_CERT [SERVER_CERT]

CLIENT_CERT must be registered with the server; STRANGER_CERT must not be. With
SERVER_CERT, every successful response must carry a signature that verifies with it.
Runs over both ports and prints one line per check ("ok - ..." or "FAIL - ...").
Exits 1 when any check failed.
"""

import datetime
import os
import subprocess
import sys
import tempfile
import traceback

import requests
import xmlsec
import zeep
import zeep.exceptions
import zeep.transports
from lxml import etree
from zeep.wsse.compose import Compose
from zeep.wsse.signature import BinarySignature, Signature, _make_verify_key, _verify_envelope_with_key
from zeep.wsse.utils import WSU, get_security_header

import checks

NS = "urn:crmsoap:v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"

checks.suite = "zeep-wsse"
check, equal = checks.check, checks.equal


class Timestamp:
    """Adds the wsu:Timestamp that zeep's signature then covers. zeep has no timestamp
    of its own; it signs one only when it finds it in the Security header, so this
    must come before the signature in the Compose list."""

    def apply(self, envelope, headers):
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        get_security_header(envelope).append(
            WSU.Timestamp(WSU.Created(now.strftime(fmt)),
                          WSU.Expires((now + datetime.timedelta(minutes=5)).strftime(fmt))))
        return envelope, headers

    def verify(self, envelope):
        return envelope


class VerifiesServer:
    """Mixin for zeep's signature plug-ins with the response check fixed.

    Client quirk: zeep's Signature.verify checks a response's signature against the
    client's own certificate (self.cert_data), so it can never accept a response the
    server signed with its key. This verifies with the server's certificate instead
    and records the outcome; a fault response is left to the fault checks."""

    def __init__(self, key_file, cert_file, server_cert=None, **kw):
        super().__init__(key_file, cert_file, **kw)
        self.server_cert = server_cert
        self.last_verified = None

    def verify(self, envelope):
        self.last_verified = None
        if self.server_cert is None:
            return envelope
        if envelope.find(f".//{{{WSSE}}}Security/{{{DS}}}Signature") is None:
            self.last_verified = "unsigned"
            return envelope
        key = _make_verify_key(self.server_cert)
        try:
            _verify_envelope_with_key(envelope, key)
            self.last_verified = "verified"
        except zeep.exceptions.SignatureVerificationFailed:
            self.last_verified = "bad signature"
        return envelope


class Signed(VerifiesServer, BinarySignature):
    """zeep's BinarySignature: the certificate in a wsse:BinarySecurityToken."""


class SignedX509Data(VerifiesServer, Signature):
    """zeep's Signature: KeyInfo/SecurityTokenReference/X509Data as zeep builds it, the
    X509Certificate filled in by python-xmlsec and an X509IssuerSerial that it leaves empty
    (python-xmlsec 1.3.13 on libxmlsec1 1.2.37), so the server goes by the certificate."""


class SignedIssuerSerial(SignedX509Data):
    """zeep's Signature with the X509Data reduced to an X509IssuerSerial naming claim_cert,
    as a WSS4J client with keyIdentifierType IssuerSerial sends it: the server must find the
    certificate in its registry. KeyInfo is not signed, so it may change after signing."""

    def __init__(self, key_file, cert_file, claim_cert, server_cert=None, **kw):
        super().__init__(key_file, cert_file, server_cert, **kw)
        self.issuer, self.serial = issuer_serial(claim_cert)

    def apply(self, envelope, headers):
        envelope, headers = super().apply(envelope, headers)
        x509_data = envelope.xpath("//ds:Signature/ds:KeyInfo//ds:X509Data", namespaces={"ds": DS})[0]
        for child in list(x509_data):
            x509_data.remove(child)
        iss = etree.SubElement(x509_data, f"{{{DS}}}X509IssuerSerial")
        etree.SubElement(iss, f"{{{DS}}}X509IssuerName").text = self.issuer
        etree.SubElement(iss, f"{{{DS}}}X509SerialNumber").text = str(self.serial)
        return envelope, headers


def issuer_serial(cert_file):
    """(issuer DN in RFC 2253 form, decimal serial number) of a PEM certificate, by openssl."""
    out = subprocess.run(["openssl", "x509", "-in", cert_file, "-noout", "-nameopt", "RFC2253", "-issuer", "-serial"],
                         capture_output=True, text=True, check=True, timeout=10).stdout
    fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return fields["issuer"].strip(), int(fields["serial"].strip(), 16)


class RecordingTransport(zeep.transports.Transport):
    last_status = None
    last_request = None
    last_headers = None
    last_response = None

    def post(self, address, message, headers):
        self.last_request = message
        self.last_headers = dict(headers)
        response = super().post(address, message, headers)
        self.last_status = response.status_code
        self.last_response = response.content
        return response


def crm_fault(xml_bytes):
    """(code, field) of the CrmFault in a raw response, or None."""
    try:
        root = etree.fromstring(xml_bytes)
    except etree.XMLSyntaxError:
        return None
    crm = root.find(f".//{{{NS}}}CrmFault")
    if crm is None:
        return None
    return crm.findtext(f"{{{NS}}}code"), crm.findtext(f"{{{NS}}}field")


def security_fault(xml_bytes):
    """(WS-Security fault code, fault string) of a raw fault response: the local part of the
    SOAP 1.1 faultcode, or of the SOAP 1.2 Subcode/Value, which the WS-Security spec puts in
    the wsse namespace."""
    try:
        root = etree.fromstring(xml_bytes)
    except etree.XMLSyntaxError:
        return None, None
    code = root.findtext(".//faultcode")
    reason = root.findtext(".//faultstring")
    if code is None:
        code = root.findtext(f".//{{{ENV12}}}Subcode/{{{ENV12}}}Value")
        reason = root.findtext(f".//{{{ENV12}}}Reason/{{{ENV12}}}Text")
    if code is None:
        return None, reason
    prefix, _, name = code.strip().rpartition(":")
    node = root.find(".//faultcode")
    if node is None:
        node = root.find(f".//{{{ENV12}}}Subcode/{{{ENV12}}}Value")
    ns = node.nsmap.get(prefix or None)
    return (name if ns == WSSE else f"{{{ns}}}{name}"), reason


def xmlsec1_verify(xml_bytes, cert_file):
    """Verifies a signed envelope with the xmlsec1 command line tool, independently of zeep."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(xml_bytes)
        f.flush()
        p = subprocess.run(
            ["xmlsec1", "--verify", "--pubkey-cert-pem", cert_file,
             "--id-attr:Id", "Body", "--id-attr:Id", "Timestamp", f.name],
            capture_output=True, text=True, timeout=10)
    return p.returncode == 0, (p.stdout + p.stderr).strip().splitlines()[-1:]


def new_client(wsdl_url, transport, wsse):
    return zeep.Client(wsdl_url, transport=transport, wsse=wsse, settings=zeep.Settings(strict=True))


class Suite:
    def __init__(self, wsdl_url, port, version, args, session):
        self.wsdl_url = wsdl_url
        self.port = port
        self.v = version
        self.t = f"[{port}]"
        self.client_key, self.client_cert, self.stranger_key, self.stranger_cert, self.server_cert = args
        self.session = session

    def signed(self, key, cert, plugin=Signed, claim=None, **kw):
        transport = RecordingTransport(session=self.session, timeout=10, operation_timeout=10)
        server_cert = open(self.server_cert, "rb").read() if self.server_cert else None
        if plugin is SignedIssuerSerial:
            sig = plugin(key, cert, claim, server_cert, **kw)
        else:
            sig = plugin(key, cert, server_cert, **kw)
        client = new_client(self.wsdl_url, transport, Compose([Timestamp(), sig]))
        return client.bind("CrmService", self.port), transport, sig

    def check_refusal(self, name, status, body, wsse_code):
        """A refused request: HTTP status of the SOAP version, CrmFault UNAUTHORIZED, and the
        WS-Security fault code (faultcode in 1.1, Subcode in 1.2)."""
        t = self.t
        got = crm_fault(body)
        equal(f"{t} {name}: CrmFault code", got and got[0], "UNAUTHORIZED")
        equal(f"{t} {name}: HTTP status", status, 500 if self.v == "1.1" else 400)
        code, reason = security_fault(body)
        equal(f"{t} {name}: WS-Security fault code", code, wsse_code)
        print(f"# {t} {name}: wsse:{code}, fault string {reason!r}", flush=True)
        if self.server_cert:
            # Refused before authentication: the server signs nothing for an unauthenticated sender.
            unsigned = b"SignatureValue" not in body
            check(f"{t} {name}: SOAP {self.v} fault to a request refused before authentication is not signed",
                  unsigned, "signed", "no signature")

    def expect_refused(self, name, call, transport, wsse_code):
        try:
            call()
        except zeep.exceptions.Fault:
            self.check_refusal(name, transport.last_status, transport.last_response, wsse_code)
            return
        except Exception as e:
            check(f"{self.t} {name}: raises zeep Fault", False, f"{type(e).__name__}: {e}", "Fault")
            return
        check(f"{self.t} {name}: refused", False, "accepted", "UNAUTHORIZED")

    def repost(self, name, body, headers, wsse_code):
        r = self.session.post(self.wsdl_url.split("?", 1)[0], data=body, headers=headers, timeout=10)
        self.check_refusal(name, r.status_code, r.content, wsse_code)

    def run(self):
        t = self.t
        sha256 = dict(signature_method=xmlsec.Transform.RSA_SHA256, digest_method=xmlsec.Transform.SHA256)
        svc, transport, sig = self.signed(self.client_key, self.client_cert, **sha256)

        created = svc.AddCustomer(customer={"name": "张伟 🚀 signed", "externalId": f"wsse-{self.v}-{os.getpid()}"})
        check(f"{t} signed AddCustomer (RSA-SHA256, exc-c14n, BinarySecurityToken) accepted",
              isinstance(created.id, int) and created.id > 0, created.id, "positive id")
        self.check_response_signature("AddCustomer", transport, sig)
        signed_add = transport.last_request
        signed_headers = transport.last_headers

        got = svc.GetCustomer(id=created.id)
        equal(f"{t} signed GetCustomer: name round trip", got.name, "张伟 🚀 signed")
        self.check_response_signature("GetCustomer", transport, sig)

        # The same signed message again: the server must refuse a replay.
        self.repost("replayed signed request", signed_add, signed_headers, "InvalidSecurity")

        # Body changed after signing: the digest no longer matches.
        tampered = signed_add.replace("signed</".encode(), "tampered</".encode())
        check(f"{t} tamper test changed the body", tampered != signed_add, "unchanged", "changed")
        self.repost("request with a body changed after signing", tampered, signed_headers, "FailedCheck")

        plain_transport = RecordingTransport(session=self.session, timeout=10, operation_timeout=10)
        plain = new_client(self.wsdl_url, plain_transport, None).bind("CrmService", self.port)
        self.expect_refused("unsigned request", lambda: plain.GetCustomer(id=created.id), plain_transport, "InvalidSecurity")

        svc_s, tr_s, _ = self.signed(self.stranger_key, self.stranger_cert, **sha256)
        self.expect_refused("request signed with an unregistered certificate",
                            lambda: svc_s.GetCustomer(id=created.id), tr_s, "FailedAuthentication")

        # zeep's defaults are RSA-SHA1 and SHA-1 digests, which the server refuses by default.
        svc_1, tr_1, _ = self.signed(self.client_key, self.client_cert)
        self.expect_refused("request signed with zeep's default RSA-SHA1",
                            lambda: svc_1.GetCustomer(id=created.id), tr_1, "UnsupportedAlgorithm")

        svc.DeleteCustomer(id=created.id)
        check(f"{t} signed DeleteCustomer accepted", True)

        # A business fault to a signed request is signed too.
        try:
            svc.GetCustomer(id=created.id)
            check(f"{t} signed GetCustomer of the deleted id refused", False, "accepted", "NOT_FOUND")
        except zeep.exceptions.Fault:
            got = crm_fault(transport.last_response)
            equal(f"{t} signed GetCustomer of the deleted id: CrmFault code", got and got[0], "NOT_FOUND")
            equal(f"{t} signed GetCustomer of the deleted id: HTTP status", transport.last_status,
                  500 if self.v == "1.1" else 400)
            self.check_response_signature(f"SOAP {self.v} NOT_FOUND fault", transport, sig)

        self.run_x509data(sha256)

    def run_sync(self):
        """ERP synchronisation, signed: upsert, a bulk call mixing good and bad items, paging a
        search, following the change feed to the end; every response signed by the server."""
        t = self.t
        sha256 = dict(signature_method=xmlsec.Transform.RSA_SHA256, digest_method=xmlsec.Transform.SHA256)
        svc, transport, sig = self.signed(self.client_key, self.client_cert, **sha256)
        key = f"wsse-sync-{self.v}-{os.getpid()}"
        up = svc.UpsertCustomer(customer={"externalId": f"{key}-u", "name": "Signed upsert"})
        equal(f"{t} signed UpsertCustomer: created", up.created, True)
        self.check_response_signature("UpsertCustomer", transport, sig)
        company = f"Signed {key}"
        results = svc.UpsertCustomers(customer=[
            {"externalId": f"{key}-0", "name": "A", "company": company},
            {"externalId": f"{key}-1", "name": "B", "company": company, "email": "not-an-address"},
            {"externalId": f"{key}-2", "name": "C", "company": company},
        ])
        equal(f"{t} signed UpsertCustomers: success per item", [r.success for r in results], [True, False, True])
        equal(f"{t} signed UpsertCustomers: bad item's code", results[1].error.code, "VALIDATION_FAILED")
        self.check_response_signature("UpsertCustomers", transport, sig)
        page = svc.SearchCustomers(filter={"company": company}, pageSize=1)
        check(f"{t} signed SearchCustomers: a page and a token", len(page.customer) == 1 and bool(page.nextPageToken),
              page, "1 customer and nextPageToken")
        page = svc.SearchCustomers(filter={"company": company}, pageSize=1, pageToken=page.nextPageToken)
        equal(f"{t} signed SearchCustomers: last page", (len(page.customer), page.nextPageToken), (1, None))
        cursor, calls, seen = None, 0, set()
        while True:
            resp = svc.GetChanges(cursor=cursor, maxChanges=1000)
            calls += 1
            seen.update(ch.id for ch in resp.change)
            cursor = resp.nextCursor
            if not resp.hasMore or calls > 1000:
                break
        check(f"{t} signed GetChanges: followed to the end with our records",
              not resp.hasMore and up.customer.id in seen, (resp.hasMore, up.customer.id in seen), (False, True))
        self.check_response_signature("GetChanges", transport, sig)

    def run_x509data(self, sha256):
        """zeep's Signature plug-in (the key in X509Data, not a BinarySecurityToken), with a
        signed Timestamp and SHA-256; then the same with X509IssuerSerial alone."""
        t = self.t
        svc, transport, sig = self.signed(self.client_key, self.client_cert, SignedX509Data, **sha256)
        created = svc.AddCustomer(customer={"name": "X509Data signed", "externalId": f"wsse-x509-{self.v}-{os.getpid()}"})
        check(f"{t} Signature (X509Data) AddCustomer accepted", isinstance(created.id, int) and created.id > 0,
              created.id, "positive id")
        self.check_response_signature("Signature (X509Data) AddCustomer", transport, sig)
        req = etree.fromstring(transport.last_request)
        x509 = req.find(f".//{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{DS}}}X509Data")
        check(f"{t} Signature (X509Data): KeyInfo/SecurityTokenReference/X509Data on the wire", x509 is not None,
              etree.tostring(req.find(f".//{{{DS}}}KeyInfo")), "X509Data")
        check(f"{t} Signature (X509Data): no BinarySecurityToken",
              req.find(f".//{{{WSSE}}}BinarySecurityToken") is None, "BinarySecurityToken", "none")
        ts = req.find(f".//{{{WSU_NS}}}Timestamp")
        refs = [r.get("URI") for r in req.iter(f"{{{DS}}}Reference")]
        check(f"{t} Signature (X509Data): Timestamp signed",
              ts is not None and "#" + ts.get(f"{{{WSU_NS}}}Id", "") in refs, refs, "a reference to the Timestamp")
        if x509 is not None:
            serial = x509.findtext(f"{{{DS}}}X509IssuerSerial/{{{DS}}}X509SerialNumber")
            print(f"# {t} zeep's X509Data: X509Certificate "
                  f"{'present' if x509.findtext(f'{{{DS}}}X509Certificate') else 'absent'}, "
                  f"X509IssuerSerial {'filled' if serial else 'empty'}", flush=True)
        got = svc.GetCustomer(id=created.id)
        equal(f"{t} Signature (X509Data) GetCustomer: name round trip", got.name, "X509Data signed")

        svc_s, tr_s, _ = self.signed(self.stranger_key, self.stranger_cert, SignedX509Data, **sha256)
        self.expect_refused("Signature (X509Data) with an unregistered certificate",
                            lambda: svc_s.GetCustomer(id=created.id), tr_s, "FailedAuthentication")

        # X509IssuerSerial alone: the certificate comes from the registry.
        svc_i, tr_i, sig_i = self.signed(self.client_key, self.client_cert, SignedIssuerSerial, self.client_cert, **sha256)
        got = svc_i.GetCustomer(id=created.id)
        equal(f"{t} Signature (X509IssuerSerial only) GetCustomer accepted", got.name, "X509Data signed")
        self.check_response_signature("Signature (X509IssuerSerial only) GetCustomer", tr_i, sig_i)
        req = etree.fromstring(tr_i.last_request)
        check(f"{t} Signature (X509IssuerSerial only): no certificate on the wire",
              req.find(f".//{{{DS}}}X509Certificate") is None and req.find(f".//{{{DS}}}X509IssuerName") is not None,
              etree.tostring(req.find(f".//{{{DS}}}KeyInfo")), "X509IssuerSerial only")
        svc_s, tr_s, _ = self.signed(self.stranger_key, self.stranger_cert, SignedIssuerSerial, self.stranger_cert, **sha256)
        self.expect_refused("X509IssuerSerial of an unregistered certificate",
                            lambda: svc_s.GetCustomer(id=created.id), tr_s, "SecurityTokenUnavailable")
        # Signed with the stranger's key, naming the registered certificate.
        svc_s, tr_s, _ = self.signed(self.stranger_key, self.stranger_cert, SignedIssuerSerial, self.client_cert, **sha256)
        self.expect_refused("X509IssuerSerial of the registered certificate, signed with another key",
                            lambda: svc_s.GetCustomer(id=created.id), tr_s, "FailedCheck")

        svc.DeleteCustomer(id=created.id)
        check(f"{t} Signature (X509Data) DeleteCustomer accepted", True)

    def check_response_signature(self, op, transport, sig):
        if not self.server_cert:
            return
        t = self.t
        equal(f"{t} {op}: response signature verifies with the server certificate (zeep/python-xmlsec)",
              sig.last_verified, "verified")
        ok, out = xmlsec1_verify(transport.last_response, self.server_cert)
        check(f"{t} {op}: response signature verifies with the xmlsec1 command line", ok, out, "OK")


def main():
    if len(sys.argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 2
    wsdl_url = sys.argv[1]
    args = sys.argv[2:6] + [sys.argv[6] if len(sys.argv) == 7 else None]
    print(f"# zeep {zeep.__version__}, python-xmlsec {xmlsec.__version__} against {wsdl_url}", flush=True)
    session = requests.Session()
    session.trust_env = False
    for port, v in (("CrmSoap11Port", "1.1"), ("CrmSoap12Port", "1.2")):
        try:
            Suite(wsdl_url, port, v, args, session).run()
            Suite(wsdl_url, port, v, args, session).run_sync()
        except Exception as e:
            check(f"[{port}] suite ran to the end", False, f"{type(e).__name__}: {e}", "no exception")
            traceback.print_exc()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
