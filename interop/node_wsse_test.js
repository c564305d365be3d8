#!/usr/bin/env node
// crmsoap WS-Security interoperability checks with node-soap's WSSecurityCert (the
// "soap" package pinned in interop/package-lock.json, which signs with xml-crypto).
//
// Usage: node node_wsse_test.js WSDL_URL CLIENT_KEY CLIENT_CERT STRANGER_KEY STRANGER_CERT [SERVER_CERT]
//
// CLIENT_CERT must be registered with the server; STRANGER_CERT must not be. node-soap never
// verifies a response, so with SERVER_CERT every signed response (and the faults to
// authenticated requests) is written to a file and verified with the xmlsec1 command line; the
// fault to a request refused before authentication must carry no signature.
//
// WSSecurityCert's defaults put an unqualified Id="_0" on the Body and Id="_1" on the
// Timestamp and an enveloped-signature transform on every reference; signerOptions.idMode
// 'wssecurity' uses wsu:Id instead. Both run every operation on both ports (node-soap picks
// the envelope version per client: forceSoap12Headers for CrmSoap12Port). Prints one line per
// check ("ok - ..." or "FAIL - ..."); exits 1 when any check failed.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const soap = require('soap');

// xml-crypto warns on stderr about getOriginalXmlWithIds, which WSSecurityCert calls.
process.noDeprecation = true;

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const RSA_SHA512 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';

let passed = 0;
let failed = 0;

function check(name, ok, got, want) {
  if (ok) {
    passed++;
    console.log(`ok - node-wsse ${name}`);
  } else {
    failed++;
    const g = typeof got === 'string' && got.length > 2000 ? `${got.slice(0, 2000)}...` : got;
    console.log(`FAIL - node-wsse ${name}: got ${JSON.stringify(g)}, want ${JSON.stringify(want)}`);
  }
  return ok;
}

function equal(name, got, want) {
  return check(name, got === want, got, want);
}

function count(s, re) {
  return (String(s).match(re) || []).length;
}

// text returns an element's text whether node-soap gave a plain value or an object
// carrying attributes next to $value.
function text(v) {
  return v !== null && typeof v === 'object' && '$value' in v ? v.$value : v;
}

// wsseCode returns the local name of a QName such as "wsse:FailedAuthentication" when its
// prefix is bound to the WS-Security namespace in the raw response, else the QName itself.
function wsseCode(qname, raw) {
  if (typeof qname !== 'string') return qname;
  const q = qname.trim();
  const i = q.indexOf(':');
  if (i < 0) return q;
  const prefix = q.slice(0, i);
  return String(raw).includes(`xmlns:${prefix}="${WSSE}"`) ? q.slice(i + 1) : q;
}

class Tmp {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crmsoap-node-wsse-'));
    this.n = 0;
  }

  write(content) {
    const f = path.join(this.dir, `message-${++this.n}.xml`);
    fs.writeFileSync(f, content);
    return f;
  }

  remove() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const tmp = new Tmp();

// xmlsec1Verify checks a raw signed envelope with the xmlsec1 command line: [ok, last line].
function xmlsec1Verify(xml, certFile) {
  const f = tmp.write(xml);
  const p = spawnSync('xmlsec1', ['--verify', '--pubkey-cert-pem', certFile,
    '--id-attr:Id', 'Body', '--id-attr:Id', 'Timestamp', f], { encoding: 'utf8', timeout: 10000 });
  const out = `${p.stdout || ''}${p.stderr || ''}`.trim().split('\n');
  return [p.status === 0, p.error ? String(p.error) : out[out.length - 1]];
}

class Suite {
  // mode names the WSSecurityCert options under test; secOptions are passed as they are.
  constructor(wsdlUrl, port, version, mode, secOptions, files) {
    this.wsdlUrl = wsdlUrl;
    this.port = port;
    this.version = version;
    this.mode = mode;
    this.secOptions = secOptions;
    this.files = files;
    this.t = `[${port}] [${mode}]`;
    this.key = `node-wsse-${mode}-${version}-${process.pid}`;
  }

  async client(keyFile, certFile, secOptions) {
    const opts = this.version === '1.2' ? { forceSoap12Headers: true } : {};
    const client = await soap.createClientAsync(this.wsdlUrl, opts);
    // A fresh options object per client: WSSecurityCert adds to signerOptions.
    const sec = JSON.parse(JSON.stringify(secOptions));
    client.setSecurity(new soap.WSSecurityCert(fs.readFileSync(keyFile), fs.readFileSync(certFile), '', sec));
    return client;
  }

  call(client, op, args) {
    return new Promise((resolve, reject) => {
      client.CrmService[this.port][op](args, (err, result) => (err ? reject(err) : resolve(result)));
    });
  }

  verifyResponse(name, client) {
    if (!this.files.serverCert) return;
    const [ok, out] = xmlsec1Verify(client.lastResponse, this.files.serverCert);
    check(`${this.t} ${name}: response signature verifies with xmlsec1 and the server certificate`, ok, out, 'OK');
  }

  // expectFault calls op, expects a CrmFault with code, and returns the raw response.
  async expectFault(name, client, op, args, code, status) {
    const t = this.t;
    let err;
    try {
      await this.call(client, op, args);
    } catch (e) {
      err = e;
    }
    if (!check(`${t} ${name}: refused`, err !== undefined, 'accepted', code)) return null;
    const fault = err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
    if (!check(`${t} ${name}: fault parsed`, !!fault, String(err && err.message), 'Fault object')) return null;
    const detail = this.version === '1.1' ? fault.detail : fault.Detail;
    const crm = detail && detail.CrmFault;
    equal(`${t} ${name}: CrmFault code`, crm && text(crm.code), code);
    equal(`${t} ${name}: HTTP status`, err.response && err.response.status, status);
    return { fault, raw: client.lastResponse, message: crm && text(crm.message) };
  }

  // expectRefused: a WS-Security refusal with the WS-Security fault code in the SOAP 1.1
  // faultcode or the SOAP 1.2 Subcode.
  async expectRefused(name, client, wsseWant) {
    const status = this.version === '1.1' ? 500 : 400;
    const got = await this.expectFault(name, client, 'GetCustomer', { id: 1 }, 'UNAUTHORIZED', status);
    if (!got) return;
    const q = this.version === '1.1'
      ? text(got.fault.faultcode)
      : text(got.fault.Code && got.fault.Code.Subcode && got.fault.Code.Subcode.Value);
    equal(`${this.t} ${name}: WS-Security fault code`, wsseCode(q, got.raw), wsseWant);
    console.log(`# ${this.t} ${name}: ${q}: ${got.message}`);
  }

  checkWire(name, client) {
    const t = this.t;
    const req = String(client.lastRequest);
    if (this.mode === 'defaults') {
      check(`${t} ${name}: Body carries unqualified Id="_0"`, /<soap:Body Id="_0"/.test(req), req, '<soap:Body Id="_0"');
      check(`${t} ${name}: Timestamp carries unqualified Id="_1"`, /<Timestamp [^>]* Id="_1"/.test(req), req, 'Timestamp Id="_1"');
    } else {
      check(`${t} ${name}: Body carries wsu:Id`, /<soap:Body [^>]*wsu:Id="_0"/.test(req), req, 'wsu:Id="_0"');
      check(`${t} ${name}: Timestamp carries wsu:Id`, /<Timestamp [^>]*wsu:Id="_1"/.test(req), req, 'wsu:Id="_1"');
    }
    equal(`${t} ${name}: RSA-SHA256 signature`, count(req, new RegExp(`SignatureMethod Algorithm="${RSA_SHA256}"`, 'g')), 1);
    equal(`${t} ${name}: enveloped-signature transform on both references`,
      count(req, new RegExp(`Transform Algorithm="${ENVELOPED}"`, 'g')), 2);
  }

  async run() {
    const t = this.t;
    const f = this.files;
    const client = await this.client(f.clientKey, f.clientCert, this.secOptions);
    check(`${t} createClientAsync on the served WSDL`, !!(client.CrmService && client.CrmService[this.port]),
      Object.keys(client.CrmService || {}), this.port);

    const data = { externalId: this.key, name: 'Zoë Ångström 🚀 signed', company: 'R&D <Labs> "quoted"' };
    const created = (await this.call(client, 'AddCustomer', { customer: data })).customer;
    check(`${t} signed AddCustomer accepted`, Number.isInteger(created.id) && created.id > 0, created.id, 'positive id');
    this.checkWire('AddCustomer', client);
    this.verifyResponse('AddCustomer', client);
    if (this.files.serverCert && this.version === '1.1' && this.mode === 'defaults') {
      // The check above must be able to fail: a changed response no longer verifies.
      const changed = String(client.lastResponse).replace('signed</name>', 'forged</name>');
      const [ok, out] = xmlsec1Verify(changed, this.files.serverCert);
      check(`${t} xmlsec1 refuses a response changed after signing`, changed !== client.lastResponse && !ok, out, 'verify failure');
    }

    const got = (await this.call(client, 'GetCustomer', { id: created.id })).customer;
    equal(`${t} signed GetCustomer: name round trip`, got.name, data.name);
    equal(`${t} signed GetCustomer: company round trip`, got.company, data.company);
    this.verifyResponse('GetCustomer', client);

    const upd = { externalId: this.key, name: 'Zoë Updated' };
    const updated = (await this.call(client, 'UpdateCustomer', { id: created.id, expectedVersion: 1, customer: upd })).customer;
    equal(`${t} signed UpdateCustomer: version`, updated.version, 2);
    equal(`${t} signed UpdateCustomer: name`, updated.name, upd.name);
    this.verifyResponse('UpdateCustomer', client);

    const deleted = await this.call(client, 'DeleteCustomer', { id: created.id, expectedVersion: 2 });
    equal(`${t} signed DeleteCustomer: returns id`, deleted && deleted.id, created.id);
    this.verifyResponse('DeleteCustomer', client);

    // A business fault to a signed request is itself signed.
    const status = this.version === '1.1' ? 500 : 400;
    const nf = await this.expectFault('signed GetCustomer of the deleted id', client, 'GetCustomer', { id: created.id }, 'NOT_FOUND', status);
    if (nf) this.verifyResponse(`SOAP ${this.version} NOT_FOUND fault`, client);

    const stranger = await this.client(f.strangerKey, f.strangerCert, this.secOptions);
    await this.expectRefused('same options, unregistered certificate', stranger, 'FailedAuthentication');
    // Refused before authentication: the server signs nothing for an unauthenticated sender.
    if (this.files.serverCert) {
      check(`${t} SOAP ${this.version} FailedAuthentication fault is not signed`,
        !String(stranger.lastResponse).includes('SignatureValue'), 'signed', 'no signature');
    }
  }

  // variants: other WSSecurityCert options, each one call.
  async variants() {
    const t = this.t;
    const f = this.files;
    const accepted = [
      // [name, options, references signed, of which with an enveloped-signature transform]
      ['RSA-SHA512 with SHA-512 digests', { signatureAlgorithm: RSA_SHA512, digestAlgorithm: SHA512 }, 2, 2],
      // With signatureAlgorithm set to RSA-SHA256 explicitly, node-soap adds the Body reference
      // itself with exc-c14n only (no enveloped-signature transform).
      ['explicit signatureAlgorithm RSA-SHA256', { signatureAlgorithm: RSA_SHA256 }, 2, 1],
      ['signerOptions.prefix ds, BinarySecurityToken signed too (additionalReferences)',
        { additionalReferences: ['wsse:BinarySecurityToken'], signerOptions: { prefix: 'ds', idMode: 'wssecurity' } }, 3, 3],
      ['signatureTransformations exc-c14n only', { signatureTransformations: ['http://www.w3.org/2001/10/xml-exc-c14n#'] }, 2, 0],
    ];
    for (const [name, opts, refs, enveloped] of accepted) {
      const c = await this.client(f.clientKey, f.clientCert, opts);
      let ok = false;
      let why = '';
      try {
        const r = await this.call(c, 'AddCustomer', { customer: { name: `variant ${name}` } });
        ok = Number.isInteger(r.customer.id);
      } catch (e) {
        why = String(e && e.message);
      }
      check(`${t} ${name}: accepted`, ok, why, 'a customer id');
      equal(`${t} ${name}: references signed`, count(c.lastRequest, /<(ds:)?Reference URI=/g), refs);
      equal(`${t} ${name}: references with enveloped-signature`, count(c.lastRequest, new RegExp(`Transform Algorithm="${ENVELOPED}"`, 'g')), enveloped);
    }
    const sha1 = await this.client(f.clientKey, f.clientCert, { signatureAlgorithm: RSA_SHA1, digestAlgorithm: SHA1 });
    await this.expectRefused('RSA-SHA1 with SHA-1 digests', sha1, 'UnsupportedAlgorithm');
    const noTS = await this.client(f.clientKey, f.clientCert, { hasTimeStamp: false });
    await this.expectRefused('hasTimeStamp false (no Timestamp)', noTS, 'InvalidSecurity');
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 5 && args.length !== 6) {
    console.error('usage: node node_wsse_test.js WSDL_URL CLIENT_KEY CLIENT_CERT STRANGER_KEY STRANGER_CERT [SERVER_CERT]');
    return 2;
  }
  const [wsdlUrl, clientKey, clientCert, strangerKey, strangerCert, serverCert] = args;
  const files = { clientKey, clientCert, strangerKey, strangerCert, serverCert };
  const version = require('soap/package.json').version;
  const xc = require('xml-crypto/package.json').version;
  console.log(`# node-soap ${version}, xml-crypto ${xc} (node ${process.version}) against ${wsdlUrl}`);
  const modes = [
    ['defaults', {}],
    ['idMode wssecurity', { signerOptions: { idMode: 'wssecurity' } }],
  ];
  for (const [port, v] of [['CrmSoap11Port', '1.1'], ['CrmSoap12Port', '1.2']]) {
    for (const [mode, opts] of modes) {
      const s = new Suite(wsdlUrl, port, v, mode, opts, files);
      try {
        await s.run();
      } catch (e) {
        check(`${s.t} suite ran to the end`, false, String((e && e.stack) || e), 'no exception');
      }
    }
    const s = new Suite(wsdlUrl, port, v, 'variants', {}, files);
    try {
      await s.variants();
    } catch (e) {
      check(`${s.t} suite ran to the end`, false, String((e && e.stack) || e), 'no exception');
    }
  }
  tmp.remove();
  console.log(`# node-wsse: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`FAIL - node-wsse unexpected error: ${(e && e.stack) || e}`);
    process.exit(1);
  },
);
