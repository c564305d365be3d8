#!/usr/bin/python3
"""crmsoap WS-Security interoperability checks with envelopes signed by the xmlsec1 command line
(the XML Security Library's reference tool) from the templates in interop/xmlsec/, POSTed with
urllib to a real server.

Usage: xmlsec_test.py URL TEMPLATE_DIR CLIENT_KEY CLIENT_CERT STRANGER_KEY STRANGER_CERT
                      [--ec-key KEY --ec-cert CERT] [--server-cert CERT]

Per template (soap11-prefixlist.xml: InclusiveNamespaces PrefixList with #default on SignedInfo
and on each reference, key in X509Data; soap12-bst.xml: BinarySecurityToken): a valid
AddCustomer is accepted (RSA-SHA256, RSA-SHA512, ECDSA-SHA256); the same changed after signing
is refused; an AddCustomer of more than 1,000 elements passes the signature check and is then
refused by the strict decoder (VALIDATION_FAILED, not UNAUTHORIZED); both signed with an
unregistered certificate are refused (UNAUTHORIZED, wsse:FailedAuthentication). Then a Body in
the Envelope's default namespace signed with and without #default: two digests, both accepted.

URL is the SOAP endpoint (no ?wsdl). CLIENT_CERT (and EC_CERT, an ECDSA P-256 certificate) must
be registered with the server; STRANGER_CERT must not be. With --server-cert, the server's
signed responses and the faults to authenticated requests are verified with xmlsec1 too, and the
faults to requests refused before authentication (tampered, unregistered certificate) must carry
no signature: the server does not sign for unauthenticated senders. Prints one line per check
("ok - ..." or "FAIL - ..."); exits 1 when any check failed.
"""

import argparse
import base64
import datetime
import os
import re
import subprocess
import sys
import tempfile
import traceback
import urllib.error
import urllib.request

from lxml import etree

import checks

NS = "urn:crmsoap:v1"
DS = "http://www.w3.org/2000/09/xmldsig#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
ID_ATTRS = ["--id-attr:Id", "Body", "--id-attr:Id", "Timestamp"]
# Elements in the oversized customer: the Body stays one AddCustomer with far more than 1,000
# elements in it, all inside one element the contract does not know.
BIG_ITEMS = 1500

checks.suite = "xmlsec1"
check, equal = checks.check, checks.equal


class Template:
    """One file of interop/xmlsec/ and the SOAP version of its Envelope."""

    def __init__(self, path, version):
        self.name = os.path.basename(path)
        self.text = open(path, encoding="utf-8").read()
        self.version = version

    def render(self, body, sig_method, digest, cert_file):
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        values = {
            "@CREATED@": now.strftime(fmt),
            "@EXPIRES@": (now + datetime.timedelta(minutes=5)).strftime(fmt),
            "@SIGNATURE_METHOD@": sig_method,
            "@DIGEST_METHOD@": digest,
            "@CERT@": cert_b64(cert_file),
            "@BODY@": body,
        }
        text = self.text
        for k, v in values.items():
            text = text.replace(k, v)
        return text


def cert_b64(cert_file):
    pem = open(cert_file, encoding="ascii").read()
    der = base64.b64decode("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))
    return base64.b64encode(der).decode("ascii")


def xmlsec1(args):
    p = subprocess.run(["xmlsec1", *args], capture_output=True, text=True, timeout=20)
    return p.returncode == 0, (p.stdout + p.stderr).strip().splitlines()[-1:]


class Work:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="crmsoap-xmlsec-")
        self.n = 0

    def file(self, content):
        self.n += 1
        p = os.path.join(self.dir.name, f"m{self.n}.xml")
        with open(p, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
        return p


work = Work()


def sign(template_text, key, cert):
    """Signs a rendered template with xmlsec1 --sign; returns the signed bytes."""
    src = work.file(template_text)
    out = src + ".signed"
    p = subprocess.run(["xmlsec1", "--sign", *ID_ATTRS, "--privkey-pem", f"{key},{cert}", "--output", out, src],
                       capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        raise RuntimeError(f"xmlsec1 --sign failed: {p.stderr.strip()}")
    return open(out, "rb").read()


def verify(xml_bytes, cert):
    return xmlsec1(["--verify", *ID_ATTRS, "--pubkey-cert-pem", cert, work.file(xml_bytes)])


def post(url, version, op, body):
    action = f"urn:crmsoap:v1#{op}"
    if version == "1.1":
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # No proxy from the environment for a local server.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def crm_fault(xml_bytes):
    """(code, field, message) of the CrmFault in a raw response, or None."""
    try:
        root = etree.fromstring(xml_bytes)
    except etree.XMLSyntaxError:
        return None
    crm = root.find(f".//{{{NS}}}CrmFault")
    if crm is None:
        return None
    return crm.findtext(f"{{{NS}}}code"), crm.findtext(f"{{{NS}}}field"), crm.findtext(f"{{{NS}}}message")


def wsse_code(xml_bytes):
    """Local name of the SOAP 1.1 faultcode or SOAP 1.2 Subcode/Value when it is in the
    WS-Security namespace; else the QName as found."""
    root = etree.fromstring(xml_bytes)
    node = root.find(".//faultcode")
    if node is None:
        node = root.find(f".//{{{ENV12}}}Subcode/{{{ENV12}}}Value")
    if node is None or node.text is None:
        return None
    prefix, _, name = node.text.strip().rpartition(":")
    return name if node.nsmap.get(prefix or None) == WSSE else node.text.strip()


def add_customer(name, external_id):
    # No prefix: in soap11-prefixlist.xml the contract's namespace is the Envelope's default
    # one; the explicit declaration is the same binding and keeps the body valid elsewhere.
    return (f'<AddCustomer xmlns="{NS}"><customer><externalId>{external_id}</externalId>'
            f"<name>{name}</name></customer></AddCustomer>")


def big_customer(name):
    items = "".join(f'<item n="{i}">v{i}</item>' for i in range(BIG_ITEMS))
    return f'<AddCustomer xmlns="{NS}"><customer><name>{name}</name><extra>{items}</extra></customer></AddCustomer>'


def add_customer_no_xmlns(name):
    # Relies on the default namespace declared on the Envelope.
    return f"<AddCustomer><customer><name>{name}</name></customer></AddCustomer>"


def without_default(text):
    """text with the #default token taken out of every PrefixList (and no empty token left,
    which libxml2 would read as the default namespace again)."""
    return re.sub(r'PrefixList="([^"]*)"',
                  lambda m: 'PrefixList="' + " ".join(p for p in m.group(1).split() if p != "#default") + '"', text)


def digest_of(signed, uri):
    root = etree.fromstring(signed)
    for ref in root.iter(f"{{{DS}}}Reference"):
        if ref.get("URI") == uri:
            return ref.findtext(f"{{{DS}}}DigestValue")
    return None


class Suite:
    def __init__(self, url, args):
        self.url = url
        self.a = args
        self.seq = 0

    def uid(self):
        self.seq += 1
        return f"xmlsec1-{os.getpid()}-{self.seq}"

    def status_fault(self, version):
        return 500 if version == "1.1" else 400

    def check_response_signature(self, name, resp, version):
        if not self.a.server_cert:
            return
        ok, out = verify(resp, self.a.server_cert)
        check(f"{name}: SOAP {version} response signature verifies with xmlsec1 and the server certificate", ok, out, "OK")

    def accepted(self, t, label, body, key, cert, sig=RSA_SHA256, digest=SHA256, want_name=None):
        signed = sign(t.render(body, sig, digest, cert), key, cert)
        return self.accepted_signed(t, label, signed, cert, want_name)

    def accepted_signed(self, t, label, signed, cert, want_name=None):
        name = f"[{t.name}] {label}"
        ok, out = verify(signed, cert)
        check(f"{name}: xmlsec1 verifies its own signature", ok, out, "OK")
        status, resp = post(self.url, t.version, "AddCustomer", signed)
        if not equal(f"{name}: HTTP status", status, 200):
            print(f"# response: {resp[:2000]!r}", flush=True)
            return signed
        root = etree.fromstring(resp)
        cid = root.findtext(f".//{{{NS}}}AddCustomerResponse/{{{NS}}}customer/{{{NS}}}id")
        check(f"{name}: customer id assigned", cid is not None and cid.isdigit() and int(cid) > 0, cid, "positive id")
        if want_name is not None:
            equal(f"{name}: name round trip", root.findtext(f".//{{{NS}}}customer/{{{NS}}}name"), want_name)
        self.check_response_signature(name, resp, t.version)
        return signed

    def check_unsigned(self, name, resp):
        if not self.a.server_cert:
            return
        root = etree.fromstring(resp)
        sigs = root.findall(f".//{{{DS}}}Signature")
        check(f"{name}: fault to a request refused before authentication is not signed", not sigs,
              f"{len(sigs)} ds:Signature", "none")

    def refused(self, t, label, signed, want_code, want_wsse=None, want_field=None, verify_fault=False,
                unsigned_fault=False):
        name = f"[{t.name}] {label}"
        status, resp = post(self.url, t.version, "AddCustomer", signed)
        equal(f"{name}: HTTP status", status, self.status_fault(t.version))
        got = crm_fault(resp)
        if not equal(f"{name}: CrmFault code", got and got[0], want_code):
            print(f"# response: {resp[:2000]!r}", flush=True)
            return
        if want_wsse is not None:
            equal(f"{name}: WS-Security fault code", wsse_code(resp), want_wsse)
        if want_field is not None:
            equal(f"{name}: CrmFault field", got[1], want_field)
            check(f"{name}: message names the unexpected element", "unexpected element" in (got[2] or ""),
                  got[2], "unexpected element ...")
        print(f"# {name}: {got[0]}: {got[2]}", flush=True)
        if verify_fault:
            self.check_response_signature(f"{name}: fault", resp, t.version)
        if unsigned_fault:
            self.check_unsigned(name, resp)

    def prefix_list_default(self, t):
        """The PrefixList template declares the contract's namespace as the Envelope's default
        and the Body relies on it. With #default in the PrefixList, exclusive c14n renders
        xmlns="urn:crmsoap:v1" on the Body itself; without, on AddCustomer: two different
        digests for one Body, and the server must accept both."""
        name = f"Default ns {self.uid()}"
        text = t.render(add_customer_no_xmlns(name), RSA_SHA256, SHA256, self.a.client_cert)
        plain = without_default(text)
        lists = lambda x: re.findall(r'PrefixList="([^"]*)"', x)
        check(f"[{t.name}] control copy has no #default in its PrefixLists",
              all("#default" in l.split() for l in lists(text)) and not any("#default" in l for l in lists(plain)),
              [lists(text), lists(plain)], "#default in each list, then in none")
        with_def = sign(text, self.a.client_key, self.a.client_cert)
        without = sign(plain, self.a.client_key, self.a.client_cert)
        d1, d2 = digest_of(with_def, "#id-body"), digest_of(without, "#id-body")
        check(f"[{t.name}] #default in the PrefixList changes the Body digest", d1 and d2 and d1 != d2,
              [d1, d2], "two different digests")
        self.accepted_signed(t, "Body in the Envelope's default namespace, PrefixList with #default",
                             with_def, self.a.client_cert, want_name=name)
        self.accepted_signed(t, "Body in the Envelope's default namespace, PrefixList without #default",
                             without, self.a.client_cert, want_name=name)

    def run(self, t):
        a = self.a
        # (a) and the plain case: a valid AddCustomer signed by a registered certificate.
        uid = self.uid()
        self.accepted(t, "valid AddCustomer, RSA-SHA256", add_customer(f"Signed by xmlsec1 {uid}", uid),
                      a.client_key, a.client_cert, want_name=f"Signed by xmlsec1 {uid}")

        # The digest must cover the Body as this template canonicalizes it: change it after signing.
        uid = self.uid()
        signed = sign(t.render(add_customer(f"Original {uid}", uid), RSA_SHA256, SHA256, a.client_cert),
                      a.client_key, a.client_cert)
        tampered = signed.replace(f"Original {uid}".encode(), f"Tampered {uid}".encode())
        check(f"[{t.name}] tamper test changed the body", tampered != signed, "unchanged", "changed")
        self.refused(t, "valid AddCustomer changed after signing", tampered, "UNAUTHORIZED", "FailedCheck",
                     unsigned_fault=True)

        # (b) a Body of more than 1,000 elements: the signature is accepted, then the strict
        # decoder refuses the unknown element.
        body = big_customer(f"Big {self.uid()}")
        n = sum(1 for _ in etree.fromstring(body).iter())
        check(f"[{t.name}] oversized AddCustomer has more than 1,000 elements", n > 1000, n, "> 1000")
        signed = sign(t.render(body, RSA_SHA256, SHA256, a.client_cert), a.client_key, a.client_cert)
        self.refused(t, f"AddCustomer with {n} elements (signature accepted, then the decoder refuses)",
                     signed, "VALIDATION_FAILED", want_field="customer/extra", verify_fault=True)

        # The same two envelopes signed with a certificate the server does not know: refused before
        # authentication, so the faults are not signed.
        uid = self.uid()
        signed = sign(t.render(add_customer(f"Stranger {uid}", uid), RSA_SHA256, SHA256, a.stranger_cert),
                      a.stranger_key, a.stranger_cert)
        self.refused(t, "valid AddCustomer, unregistered certificate", signed, "UNAUTHORIZED", "FailedAuthentication",
                     unsigned_fault=True)
        signed = sign(t.render(big_customer(f"Stranger big {self.uid()}"), RSA_SHA256, SHA256, a.stranger_cert),
                      a.stranger_key, a.stranger_cert)
        self.refused(t, f"AddCustomer with {n} elements, unregistered certificate", signed, "UNAUTHORIZED",
                     "FailedAuthentication", unsigned_fault=True)

        uid = self.uid()
        self.accepted(t, "valid AddCustomer, RSA-SHA512 with SHA-512 digests",
                      add_customer(f"SHA-512 {uid}", uid), a.client_key, a.client_cert, RSA_SHA512, SHA512)
        if a.ec_key:
            uid = self.uid()
            self.accepted(t, "valid AddCustomer, ECDSA-SHA256 (P-256)", add_customer(f"ECDSA {uid}", uid),
                          a.ec_key, a.ec_cert, ECDSA_SHA256, SHA256)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("templates")
    p.add_argument("client_key")
    p.add_argument("client_cert")
    p.add_argument("stranger_key")
    p.add_argument("stranger_cert")
    p.add_argument("--ec-key")
    p.add_argument("--ec-cert")
    p.add_argument("--server-cert")
    a = p.parse_args()
    if bool(a.ec_key) != bool(a.ec_cert):
        p.error("--ec-key and --ec-cert go together")
    v = subprocess.run(["xmlsec1", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"# {v} against {a.url}", flush=True)
    suite = Suite(a.url, a)
    templates = [
        Template(os.path.join(a.templates, "soap11-prefixlist.xml"), "1.1"),
        Template(os.path.join(a.templates, "soap12-bst.xml"), "1.2"),
    ]
    for t in templates:
        try:
            suite.run(t)
        except Exception as e:
            check(f"[{t.name}] suite ran to the end", False, f"{type(e).__name__}: {e}", "no exception")
            traceback.print_exc()
    t = templates[0]
    try:
        suite.prefix_list_default(t)
    except Exception as e:
        check(f"[{t.name}] default-namespace case ran", False, f"{type(e).__name__}: {e}", "no exception")
        traceback.print_exc()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
