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

// list is a repeated element as an array: node-soap gives one element as a plain value.
function list(v) {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

// bool reads an xs:boolean node-soap left as text or parsed.
function bool(v) {
  v = text(v);
  return v === true || v === 'true' || v === '1';
}

// runSync checks ERP synchronisation: upsert, a bulk call mixing good and bad items,
// paging a search and following the change feed to the end.
async function runSync(suite) {
  const t = suite.t;
  const key = `${suite.key}-sync`;
  const first = await suite.call('UpsertCustomer', { customer: { externalId: `${key}-u`, name: 'Upsert Ünïcode' } });
  equal(`${t} UpsertCustomer: created`, bool(first.created), true);
  const again = await suite.call('UpsertCustomer', { customer: { externalId: `${key}-u`, name: 'Upsert again' }, expectedVersion: 1 });
  equal(`${t} UpsertCustomer again: created`, bool(again.created), false);
  equal(`${t} UpsertCustomer again: same id`, String(again.customer.id), String(first.customer.id));
  await suite.expectFault('UpsertCustomer without externalId -> VALIDATION_FAILED', 'UpsertCustomer',
    { customer: { name: 'no key' } }, 'VALIDATION_FAILED', 'customer/externalId');

  const company = `Sync ${key}`;
  const items = [0, 1, 2].map((i) => ({ externalId: `${key}-${i}`, name: `Bulk ${i}`, company }));
  items.splice(1, 0, { externalId: `${key}-bad`, name: 'Bad', email: 'not-an-address' });
  const bulk = list((await suite.call('UpsertCustomers', { customer: items })).result);
  equal(`${t} UpsertCustomers: one result per item`, bulk.length, 4);
  equal(`${t} UpsertCustomers: success per item`, bulk.map((r) => bool(r.success)).join(), 'true,false,true,true');
  equal(`${t} UpsertCustomers: indexes`, bulk.map((r) => String(text(r.index))).join(), '0,1,2,3');
  equal(`${t} UpsertCustomers: bad item's code`, text(bulk[1].error && bulk[1].error.code), 'VALIDATION_FAILED');
  const rolled = list((await suite.call('AddCustomers', { allOrNone: true, customer: [{ name: 'Fine' }, { name: '' }] })).result);
  equal(`${t} AddCustomers allOrNone: codes`, rolled.map((r) => text(r.error && r.error.code)).join(), 'ROLLED_BACK,VALIDATION_FAILED');

  const seen = [];
  let token;
  let pages = 0;
  do {
    const req = { filter: { company }, pageSize: 2 };
    if (token) req.pageToken = token;
    const page = (await suite.call('SearchCustomers', req)) || {};
    pages++;
    for (const c of list(page.customer)) seen.push(c.externalId);
    token = page.nextPageToken;
  } while (token && pages < 10);
  equal(`${t} SearchCustomers: pages of 2`, pages, 2);
  equal(`${t} SearchCustomers: every match once`, seen.sort().join(), [0, 1, 2].map((i) => `${key}-${i}`).join());
  await suite.expectFault('SearchCustomers garbage pageToken -> VALIDATION_FAILED', 'SearchCustomers',
    { pageToken: 'garbage' }, 'VALIDATION_FAILED', 'pageToken');

  const changes = new Map();
  let cursor;
  let resp;
  let calls = 0;
  do {
    const req = { maxChanges: 1000 };
    if (cursor) req.cursor = cursor;
    resp = await suite.call('GetChanges', req);
    calls++;
    for (const ch of list(resp.change)) changes.set(String(ch.id), ch);
    cursor = resp.nextCursor;
  } while (bool(resp.hasMore) && calls < 1000);
  equal(`${t} GetChanges: followed to the end`, bool(resp.hasMore), false);
  const mine = changes.get(String(first.customer.id));
  check(`${t} GetChanges: upserted customer with its latest state`,
    !!mine && text(mine.kind) === 'UPSERTED' && mine.customer && mine.customer.name === 'Upsert again', mine, 'UPSERTED');
  await suite.call('DeleteCustomer', { id: first.customer.id });
  const tail = list((await suite.call('GetChanges', { cursor })).change);
  equal(`${t} GetChanges after a deletion: one tombstone`, tail.map((c) => `${c.id}:${text(c.kind)}`).join(),
    `${first.customer.id}:DELETED`);
}

// runCommerce checks products, orders and reviews: two products with exact EUR prices, an order
// of two lines that leaves the first at its low-stock threshold, the status moving
// PLACED -> PAID -> SHIPPED, a forbidden transition, and a 4-star review in the rating.
// Numbers are compared as text: node-soap may leave a restricted xs:long as a string.
async function runCommerce(suite) {
  const t = suite.t;
  const key = `${suite.key}-shop`;
  const a = (await suite.call('AddProduct', { product: { sku: `${key}-A`, name: 'Kaffeemühle Ä',
    price: { amount: '19.99', currency: 'EUR' }, stockQuantity: 10, lowStockThreshold: 3 } })).product;
  const b = (await suite.call('AddProduct', { product: { sku: `${key}-B`, name: 'Filter',
    price: { amount: '5.50', currency: 'EUR' }, stockQuantity: 100, lowStockThreshold: 5 } })).product;
  check(`${t} AddProduct: ids assigned`, Number(a.id) > 0 && Number(b.id) > 0 && String(a.id) !== String(b.id),
    [a.id, b.id], 'two positive ids');
  equal(`${t} AddProduct: price exact`, `${text(a.price.amount)} ${a.price.currency}`, '19.99 EUR');
  equal(`${t} AddProduct: stock and threshold`, `${text(a.stockQuantity)} ${text(a.lowStockThreshold)} ${bool(a.lowStock)}`,
    '10 3 false');
  const cust = (await suite.call('AddCustomer', { customer: { name: 'Order Kundin', externalId: `${key}-c` } })).customer;

  const placed = await suite.call('PlaceOrder', { customerId: cust.id, externalId: `${key}-o`,
    line: [{ productId: a.id, quantity: 7 }, { sku: `${key}-B`, quantity: 2 }] });
  const o = placed.order;
  equal(`${t} PlaceOrder: status`, text(o.status), 'PLACED');
  equal(`${t} PlaceOrder: customerId`, String(o.customerId), String(cust.id));
  equal(`${t} PlaceOrder: lines`, list(o.line).map((l) => `${l.productId}x${text(l.quantity)}@${text(l.unitPrice.amount)}`).join(),
    `${a.id}x7@19.99,${b.id}x2@5.50`);
  equal(`${t} PlaceOrder: exact total`, `${text(o.totalAmount.amount)} ${o.totalAmount.currency}`, '150.93 EUR');
  equal(`${t} PlaceOrder: LOW_STOCK warning`,
    list(placed.warning).map((w) => [text(w.code), w.productId, w.sku, text(w.stockQuantity), text(w.lowStockThreshold)].join()).join(';'),
    ['LOW_STOCK', a.id, `${key}-A`, 3, 3].join());

  const paid = (await suite.call('UpdateOrderStatus', { id: o.id, status: 'PAID', expectedVersion: o.version })).order;
  equal(`${t} UpdateOrderStatus PLACED -> PAID`, `${text(paid.status)} ${paid.version}`, `PAID ${Number(o.version) + 1}`);
  const shipped = (await suite.call('UpdateOrderStatus', { id: o.id, status: 'SHIPPED' })).order;
  equal(`${t} UpdateOrderStatus PAID -> SHIPPED`, text(shipped.status), 'SHIPPED');
  await suite.expectFault('UpdateOrderStatus SHIPPED -> CANCELLED -> CONFLICT', 'UpdateOrderStatus',
    { id: o.id, status: 'CANCELLED' }, 'CONFLICT');

  const r = await suite.call('AddReview', { review: { customerId: cust.id, productId: a.id, stars: 4, title: 'Gut & günstig' } });
  equal(`${t} AddReview: stars`, String(text(r.review.stars)), '4');
  equal(`${t} AddReview: rating`, `${text(r.rating.average)} ${text(r.rating.count)}`, '4.00 1');
  const got = (await suite.call('GetProduct', { id: a.id })).product;
  equal(`${t} GetProduct: rating`, `${text(got.rating.average)} ${text(got.rating.count)}`, '4.00 1');
  equal(`${t} GetProduct: stock after the order`, `${text(got.stockQuantity)} ${bool(got.lowStock)}`, '3 true');
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
      await runSync(new Suite(client, port, v));
      await runCommerce(new Suite(client, port, v));
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
