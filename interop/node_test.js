#!/usr/bin/env node
// crmsoap interoperability checks with node-soap (the "soap" package pinned in
// interop/package-lock.json).
//
// Usage: node node_test.js WSDL_URL
//
// node-soap chooses the envelope version per client, not per port, so there are two
// clients built from the served WSDL: a default one calling CrmSoap11Port and one
// with forceSoap12Headers calling CrmSoap12Port. Each runs every operation and every
// fault the contract names and prints one line per check ("ok - ..." or "FAIL - ...").
// Exits 1 when any check failed.
'use strict';

const soap = require('soap');

const ENV11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ENV12 = 'http://www.w3.org/2003/05/soap-envelope';
// Markup characters, a CDATA terminator and an already-escaped entity must come back verbatim.
const XML_SPECIALS = 'Müller & Söhne <GmbH> "quoted" \'single\' ]]> &amp;';

let passed = 0;
let failed = 0;

function check(name, ok, got, want) {
  if (ok) {
    passed++;
    console.log(`ok - node ${name}`);
  } else {
    failed++;
    console.log(`FAIL - node ${name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  return ok;
}

function equal(name, got, want) {
  return check(name, got === want, got, want);
}

// local returns the local part of a fault code such as "soap:Client" or "env:Sender".
function local(qname) {
  if (typeof qname !== 'string') return qname;
  return qname.slice(qname.lastIndexOf(':') + 1);
}

// text returns an element's text whether node-soap gave a plain value or an object
// carrying attributes next to $value.
function text(v) {
  return v !== null && typeof v === 'object' && '$value' in v ? v.$value : v;
}

// isoDate renders an xs:date that node-soap parsed into a Date (UTC midnight).
function isoDate(d) {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString().slice(0, 10) : d;
}

class Suite {
  constructor(client, port, version) {
    this.client = client;
    this.port = port;
    this.version = version;
    this.t = `[${port}]`;
    this.ops = client.CrmService && client.CrmService[port];
    // One server database is shared by every client and port: keep keys apart.
    this.key = `node-${version}-${process.pid}`;
  }

  // call invokes op on this suite's port, so the port's own soap:address and
  // soapAction are used, and resolves to the unwrapped result.
  call(op, args) {
    return new Promise((resolve, reject) => {
      this.ops[op](args, (err, result) => (err ? reject(err) : resolve(result)));
    });
  }

  checkVersionOnWire(op) {
    const t = this.t;
    const env = this.version === '1.1' ? ENV11 : ENV12;
    const ct = this.version === '1.1' ? 'text/xml' : 'application/soap+xml';
    check(`${t} ${op}: request envelope namespace`, String(this.client.lastRequest).includes(env),
      this.client.lastRequest, env);
    check(`${t} ${op}: response envelope namespace`, String(this.client.lastResponse).includes(env),
      this.client.lastResponse, env);
    const got = String((this.client.lastResponseHeaders || {})['content-type'] || '').split(';')[0].trim();
    equal(`${t} ${op}: response content type`, got, ct);
  }

  async expectFault(name, op, args, code, field) {
    const t = this.t;
    let err;
    try {
      await this.call(op, args);
    } catch (e) {
      err = e;
    }
    if (!check(`${t} ${name}: rejects`, err !== undefined, 'no error', code)) return;
    // node-soap leaves the parsed fault envelope in err.root (see Client._invoke).
    const fault = err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
    if (!check(`${t} ${name}: err.root.Envelope.Body.Fault parsed`, !!fault, String(err && err.message), 'Fault object')) {
      return;
    }
    const detail = this.version === '1.1' ? fault.detail : fault.Detail;
    const crm = detail && detail.CrmFault;
    if (!check(`${t} ${name}: CrmFault detail parsed`, !!crm && typeof crm === 'object', detail, 'CrmFault object')) {
      return;
    }
    equal(`${t} ${name}: code`, text(crm.code), code);
    if (field !== undefined) equal(`${t} ${name}: field`, text(crm.field), field);
    check(`${t} ${name}: message non-empty`, !!text(crm.message), crm.message, 'some text');
    const status = err.response && err.response.status;
    if (this.version === '1.1') {
      equal(`${t} ${name}: faultcode`, local(text(fault.faultcode)), 'Client');
      check(`${t} ${name}: faultstring non-empty`, !!text(fault.faultstring), fault.faultstring, 'some text');
      equal(`${t} ${name}: HTTP status`, status, 500);
    } else {
      equal(`${t} ${name}: SOAP 1.2 Code/Value`, local(text(fault.Code && fault.Code.Value)), 'Sender');
      check(`${t} ${name}: Reason/Text non-empty`, !!text(fault.Reason && fault.Reason.Text), fault.Reason, 'some text');
      equal(`${t} ${name}: HTTP status`, status, 400);
    }
  }

  async run() {
    const t = this.t;
    if (!check(`${t} port is in the WSDL`, !!this.ops, Object.keys(this.client.CrmService || {}), this.port)) return;
    const data = {
      externalId: `${this.key}-1`,
      name: '张伟',
      email: 'zhang.wei@example.cn',
      phone: '+86 (10) 6552-9988',
      gender: 'MALE',
      birthDate: '1984-02-29',
      company: 'Raketen GmbH 🚀 Café Müller',
      address: {
        street: 'Straße der Pariser Kommune 12',
        city: 'São Paulo',
        region: 'Île-de-France',
        postalCode: '01310-100',
        country: 'BR',
      },
    };
    const created = (await this.call('AddCustomer', { customer: data })).customer;
    this.checkVersionOnWire('AddCustomer');
    check(`${t} AddCustomer: id assigned`, Number.isInteger(created.id) && created.id > 0, created.id, 'positive integer');
    equal(`${t} AddCustomer: version`, created.version, 1);
    check(`${t} AddCustomer: createdAt is a Date`, created.createdAt instanceof Date && !Number.isNaN(created.createdAt.getTime()),
      created.createdAt, 'Date');

    const got = (await this.call('GetCustomer', { id: created.id })).customer;
    equal(`${t} GetCustomer: id`, got.id, created.id);
    equal(`${t} GetCustomer: version`, got.version, 1);
    for (const k of ['externalId', 'name', 'email', 'phone', 'gender', 'company']) {
      equal(`${t} GetCustomer: ${k}`, got[k], data[k]);
    }
    equal(`${t} GetCustomer: birthDate`, isoDate(got.birthDate), data.birthDate);
    equal(`${t} GetCustomer: createdAt`, got.createdAt && got.createdAt.getTime(), created.createdAt.getTime());
    if (check(`${t} GetCustomer: address present`, !!got.address, got.address, 'Address')) {
      for (const [k, v] of Object.entries(data.address)) equal(`${t} GetCustomer: address.${k}`, got.address[k], v);
    }

    const upd = {
      externalId: `${this.key}-1`,
      name: 'José Ñúñez-Ørsted',
      email: 'jose@example.es',
      gender: 'OTHER',
      birthDate: '1990-12-31',
      company: XML_SPECIALS,
    };
    const updated = (await this.call('UpdateCustomer', { id: created.id, expectedVersion: 1, customer: upd })).customer;
    equal(`${t} UpdateCustomer: version`, updated.version, 2);
    equal(`${t} UpdateCustomer: name (accents)`, updated.name, upd.name);
    equal(`${t} UpdateCustomer: gender`, updated.gender, 'OTHER');
    equal(`${t} UpdateCustomer: birthDate`, isoDate(updated.birthDate), '1990-12-31');
    equal(`${t} UpdateCustomer: company with XML special characters`, updated.company, XML_SPECIALS);
    // UpdateCustomer replaces every writable field: the omitted ones are gone.
    equal(`${t} UpdateCustomer: omitted phone cleared`, updated.phone, undefined);
    equal(`${t} UpdateCustomer: omitted address cleared`, updated.address, undefined);

    const again = (await this.call('GetCustomer', { id: created.id })).customer;
    equal(`${t} GetCustomer after update: name`, again.name, upd.name);
    equal(`${t} GetCustomer after update: version`, again.version, 2);

    await this.expectFault('UpdateCustomer stale expectedVersion -> CONFLICT', 'UpdateCustomer',
      { id: created.id, expectedVersion: 1, customer: upd }, 'CONFLICT', 'expectedVersion');
    await this.expectFault('AddCustomer bad email -> VALIDATION_FAILED', 'AddCustomer',
      { customer: { name: 'Bad Mail', email: 'not-an-email' } }, 'VALIDATION_FAILED', 'customer/email');
    await this.expectFault('AddCustomer empty name -> VALIDATION_FAILED', 'AddCustomer',
      { customer: { name: '' } }, 'VALIDATION_FAILED', 'customer/name');
    await this.expectFault('AddCustomer duplicate externalId -> DUPLICATE', 'AddCustomer',
      { customer: { externalId: `${this.key}-1`, name: 'Dup' } }, 'DUPLICATE', 'customer/externalId');
    await this.expectFault('GetCustomer unknown id -> NOT_FOUND', 'GetCustomer',
      { id: 9000000000000 + process.pid }, 'NOT_FOUND');

    const bare = (await this.call('AddCustomer', { customer: { name: 'Ünïcödé Bare 🚀' } })).customer;
    const bareGot = (await this.call('GetCustomer', { id: bare.id })).customer;
    equal(`${t} bare customer: name`, bareGot.name, 'Ünïcödé Bare 🚀');
    for (const k of ['externalId', 'email', 'phone', 'gender', 'birthDate', 'company', 'address']) {
      equal(`${t} bare customer: ${k} absent`, bareGot[k], undefined);
    }

    await this.expectFault('DeleteCustomer stale expectedVersion -> CONFLICT', 'DeleteCustomer',
      { id: created.id, expectedVersion: 1 }, 'CONFLICT', 'expectedVersion');
    const deleted = await this.call('DeleteCustomer', { id: created.id, expectedVersion: 2 });
    equal(`${t} DeleteCustomer: returns id`, deleted && deleted.id, created.id);
    await this.expectFault('GetCustomer after delete -> NOT_FOUND', 'GetCustomer', { id: created.id }, 'NOT_FOUND');
    await this.expectFault('DeleteCustomer twice -> NOT_FOUND', 'DeleteCustomer', { id: created.id }, 'NOT_FOUND');
    await this.call('DeleteCustomer', { id: bare.id });
  }
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: node node_test.js WSDL_URL');
    return 2;
  }
  const wsdlUrl = process.argv[2];
  const version = require('soap/package.json').version;
  console.log(`# node-soap ${version} (node ${process.version}) against ${wsdlUrl}`);
  const runs = [
    ['CrmSoap11Port', '1.1', {}],
    ['CrmSoap12Port', '1.2', { forceSoap12Headers: true }],
  ];
  for (const [port, v, opts] of runs) {
    let client;
    try {
      client = await soap.createClientAsync(wsdlUrl, opts);
    } catch (e) {
      check(`[${port}] createClientAsync on the served WSDL`, false, String(e && e.message), 'a client');
      continue;
    }
    check(`[${port}] createClientAsync on the served WSDL`, true);
    try {
      await new Suite(client, port, v).run();
    } catch (e) {
      check(`[${port}] suite ran to the end`, false, String((e && e.stack) || e), 'no exception');
    }
  }
  console.log(`# node: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`FAIL - node unexpected error: ${(e && e.stack) || e}`);
    process.exit(1);
  },
);
