<?php
// crmsoap interoperability checks with PHP's SoapClient (ext-soap, Debian php-soap).
//
// Usage: php php_test.php WSDL_URL
//
// Loads the WSDL the server serves, once with soap_version SOAP_1_1 and once with
// SOAP_1_2, runs every operation and every fault the contract names, and prints one
// line per check ("ok - ..." or "FAIL - ..."). Exits 1 when any check failed.

declare(strict_types=1);

const NS = 'urn:crmsoap:v1';
// Markup characters, a CDATA terminator and an already-escaped entity must come back verbatim.
const XML_SPECIALS = 'Müller & Söhne <GmbH> "quoted" \'single\' ]]> &amp;';

require __DIR__ . '/checks.php';

// local returns the local part of a fault code such as "soap:Client" or "env:Sender".
function local(?string $qname): ?string
{
    if ($qname === null) {
        return null;
    }
    $i = strrpos($qname, ':');
    return $i === false ? $qname : substr($qname, $i + 1);
}

// httpStatus reads the status code from the last response's header block.
function httpStatus(SoapClient $c): ?int
{
    $h = (string) $c->__getLastResponseHeaders();
    return preg_match('#^HTTP/\S+ (\d{3})#', $h, $m) ? (int) $m[1] : null;
}

function responseContentType(SoapClient $c): string
{
    $h = (string) $c->__getLastResponseHeaders();
    return preg_match('#^Content-Type:\s*([^;\r\n]+)#mi', $h, $m) ? strtolower(trim($m[1])) : '';
}

final class Suite
{
    private SoapClient $c;
    private string $t;
    private string $key;

    public function __construct(private string $wsdl, private int $version)
    {
        $this->t = $version === SOAP_1_1 ? '[SOAP 1.1]' : '[SOAP 1.2]';
        // One server database is shared by every client and version: keep keys apart.
        $this->key = 'php-' . ($version === SOAP_1_1 ? '11' : '12') . '-' . getmypid();
    }

    public function run(): void
    {
        $t = $this->t;
        try {
            $this->c = new SoapClient($this->wsdl, [
                'soap_version' => $this->version,
                'cache_wsdl' => WSDL_CACHE_NONE,
                'exceptions' => true,
                'trace' => 1,
                'encoding' => 'UTF-8',
                'connection_timeout' => 10,
            ]);
        } catch (Throwable $e) {
            check("$t loads the served WSDL", false, get_class($e) . ': ' . $e->getMessage(), 'a SoapClient');
            return;
        }
        check("$t loads the served WSDL", true);
        $funcs = implode("\n", $this->c->__getFunctions());
        foreach (['AddCustomer', 'GetCustomer', 'UpdateCustomer', 'DeleteCustomer'] as $op) {
            check("$t WSDL declares $op", str_contains($funcs, " $op("), $funcs, $op);
        }

        $data = [
            'externalId' => "{$this->key}-1",
            'name' => '张伟',
            'email' => 'zhang.wei@example.cn',
            'phone' => '+86 (10) 6552-9988',
            'gender' => 'FEMALE',
            'birthDate' => '1984-02-29',
            'company' => 'Raketen GmbH 🚀 Café Müller',
            'address' => [
                'street' => 'Straße der Pariser Kommune 12',
                'city' => 'São Paulo',
                'region' => 'Île-de-France',
                'postalCode' => '01310-100',
                'country' => 'BR',
            ],
        ];
        $created = $this->c->AddCustomer(['customer' => $data])->customer;
        $this->checkVersionOnWire('AddCustomer');
        check("$t AddCustomer: id assigned", is_int($created->id) && $created->id > 0, $created->id, 'positive int');
        equal("$t AddCustomer: version", $created->version, 1);
        check("$t AddCustomer: createdAt is xs:dateTime in UTC",
            (bool) preg_match('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/', (string) $created->createdAt),
            $created->createdAt, 'YYYY-MM-DDThh:mm:ss[.f]Z');

        $got = $this->c->GetCustomer(['id' => $created->id])->customer;
        equal("$t GetCustomer: id", $got->id, $created->id);
        equal("$t GetCustomer: version", $got->version, 1);
        foreach (['externalId', 'name', 'email', 'phone', 'gender', 'birthDate', 'company'] as $k) {
            equal("$t GetCustomer: $k", $got->$k ?? null, $data[$k]);
        }
        equal("$t GetCustomer: createdAt", $got->createdAt, $created->createdAt);
        equal("$t GetCustomer: updatedAt", $got->updatedAt, $created->updatedAt);
        if (check("$t GetCustomer: address present", isset($got->address), $got->address ?? null, 'Address')) {
            foreach ($data['address'] as $k => $v) {
                equal("$t GetCustomer: address.$k", $got->address->$k ?? null, $v);
            }
        }

        $upd = [
            'externalId' => "{$this->key}-1",
            'name' => 'José Ñúñez-Ørsted',
            'email' => 'jose@example.es',
            'gender' => 'OTHER',
            'birthDate' => '1990-12-31',
            'company' => XML_SPECIALS,
        ];
        $updated = $this->c->UpdateCustomer(['id' => $created->id, 'expectedVersion' => 1, 'customer' => $upd])->customer;
        equal("$t UpdateCustomer: version", $updated->version, 2);
        equal("$t UpdateCustomer: name (accents)", $updated->name, $upd['name']);
        equal("$t UpdateCustomer: gender", $updated->gender, 'OTHER');
        equal("$t UpdateCustomer: birthDate", $updated->birthDate, '1990-12-31');
        equal("$t UpdateCustomer: company with XML special characters", $updated->company, XML_SPECIALS);
        // UpdateCustomer replaces every writable field: the omitted ones are gone.
        equal("$t UpdateCustomer: omitted phone cleared", $updated->phone ?? null, null);
        equal("$t UpdateCustomer: omitted address cleared", $updated->address ?? null, null);
        equal("$t UpdateCustomer: createdAt unchanged", $updated->createdAt, $created->createdAt);

        $again = $this->c->GetCustomer(['id' => $created->id])->customer;
        equal("$t GetCustomer after update: name", $again->name, $upd['name']);
        equal("$t GetCustomer after update: version", $again->version, 2);

        $this->expectFault('UpdateCustomer stale expectedVersion -> CONFLICT',
            fn() => $this->c->UpdateCustomer(['id' => $created->id, 'expectedVersion' => 1, 'customer' => $upd]),
            'CONFLICT', 'expectedVersion');
        $this->expectFault('AddCustomer bad email -> VALIDATION_FAILED',
            fn() => $this->c->AddCustomer(['customer' => ['name' => 'Bad Mail', 'email' => 'not-an-email']]),
            'VALIDATION_FAILED', 'customer/email');
        $this->expectFault('AddCustomer empty name -> VALIDATION_FAILED',
            fn() => $this->c->AddCustomer(['customer' => ['name' => '']]),
            'VALIDATION_FAILED', 'customer/name');
        $this->expectFault('AddCustomer duplicate externalId -> DUPLICATE',
            fn() => $this->c->AddCustomer(['customer' => ['externalId' => "{$this->key}-1", 'name' => 'Dup']]),
            'DUPLICATE', 'customer/externalId');
        $this->expectFault('GetCustomer unknown id -> NOT_FOUND',
            fn() => $this->c->GetCustomer(['id' => 9_000_000_000_000 + getmypid()]),
            'NOT_FOUND');

        $bare = $this->c->AddCustomer(['customer' => ['name' => 'Ünïcödé Bare 🚀']])->customer;
        $bareGot = $this->c->GetCustomer(['id' => $bare->id])->customer;
        equal("$t bare customer: name", $bareGot->name, 'Ünïcödé Bare 🚀');
        foreach (['externalId', 'email', 'phone', 'gender', 'birthDate', 'company', 'address'] as $k) {
            check("$t bare customer: $k absent", !isset($bareGot->$k), $bareGot->$k ?? null, 'absent');
        }

        $this->expectFault('DeleteCustomer stale expectedVersion -> CONFLICT',
            fn() => $this->c->DeleteCustomer(['id' => $created->id, 'expectedVersion' => 1]),
            'CONFLICT', 'expectedVersion');
        $deleted = $this->c->DeleteCustomer(['id' => $created->id, 'expectedVersion' => 2]);
        equal("$t DeleteCustomer: returns id", $deleted->id, $created->id);
        $this->expectFault('GetCustomer after delete -> NOT_FOUND',
            fn() => $this->c->GetCustomer(['id' => $created->id]), 'NOT_FOUND');
        $this->expectFault('DeleteCustomer twice -> NOT_FOUND',
            fn() => $this->c->DeleteCustomer(['id' => $created->id]), 'NOT_FOUND');
        $this->c->DeleteCustomer(['id' => $bare->id]);
    }

    // runSync checks ERP synchronisation with SOAP_SINGLE_ELEMENT_ARRAYS, so that a list of one
    // is still an array: upsert, a bulk call mixing good and bad items, paging a search, and
    // following the change feed to the end.
    public function runSync(): void
    {
        $t = $this->t;
        $this->c = new SoapClient($this->wsdl, [
            'soap_version' => $this->version,
            'cache_wsdl' => WSDL_CACHE_NONE,
            'exceptions' => true,
            'trace' => 1,
            'encoding' => 'UTF-8',
            'connection_timeout' => 10,
            'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        ]);
        $key = $this->key . '-sync';
        $first = $this->c->UpsertCustomer(['customer' => ['externalId' => "$key-u", 'name' => 'Upsert Ünïcode']]);
        equal("$t UpsertCustomer: created", $first->created, true);
        $again = $this->c->UpsertCustomer(['customer' => ['externalId' => "$key-u", 'name' => 'Upsert again'], 'expectedVersion' => 1]);
        equal("$t UpsertCustomer again: created", $again->created, false);
        equal("$t UpsertCustomer again: same id", $again->customer->id, $first->customer->id);
        $this->expectFault('UpsertCustomer without externalId -> VALIDATION_FAILED',
            fn() => $this->c->UpsertCustomer(['customer' => ['name' => 'no key']]), 'VALIDATION_FAILED', 'customer/externalId');

        $company = "Sync $key";
        $items = [];
        for ($i = 0; $i < 3; $i++) {
            $items[] = ['externalId' => "$key-$i", 'name' => "Bulk $i", 'company' => $company];
        }
        $items[] = ['externalId' => "$key-bad", 'name' => 'Bad', 'email' => 'not-an-address'];
        $resp = $this->c->UpsertCustomers(['customer' => $items]);
        $results = $resp->result;
        equal("$t UpsertCustomers: one result per item", count($results), 4);
        equal("$t UpsertCustomers: success per item", array_map(fn($r) => $r->success, $results), [true, true, true, false]);
        equal("$t UpsertCustomers: bad item's code", $results[3]->error->code ?? null, 'VALIDATION_FAILED');
        equal("$t UpsertCustomers: bad item's index", $results[3]->index, 3);
        // One item: still an array with SOAP_SINGLE_ELEMENT_ARRAYS.
        $one = $this->c->AddCustomers(['customer' => [['name' => 'Single']]]);
        check("$t AddCustomers of one: result is an array", is_array($one->result) && count($one->result) === 1, $one->result, 'array of 1');
        $rolled = $this->c->AddCustomers(['allOrNone' => true, 'customer' => [['name' => 'Fine'], ['name' => '']]]);
        equal("$t AddCustomers allOrNone: codes", array_map(fn($r) => $r->error->code ?? null, $rolled->result), ['ROLLED_BACK', 'VALIDATION_FAILED']);

        $seen = [];
        $token = null;
        $pages = 0;
        do {
            $req = ['filter' => ['company' => $company], 'pageSize' => 2];
            if ($token !== null) {
                $req['pageToken'] = $token;
            }
            $page = $this->c->SearchCustomers($req);
            $pages++;
            foreach ($page->customer ?? [] as $cu) {
                $seen[] = $cu->externalId;
            }
            $token = $page->nextPageToken ?? null;
        } while ($token !== null && $pages < 10);
        sort($seen);
        equal("$t SearchCustomers: pages of 2", $pages, 2);
        equal("$t SearchCustomers: every match once", $seen, ["$key-0", "$key-1", "$key-2"]);
        $this->expectFault('SearchCustomers garbage pageToken -> VALIDATION_FAILED',
            fn() => $this->c->SearchCustomers(['pageToken' => 'garbage']), 'VALIDATION_FAILED', 'pageToken');

        $changes = [];
        $cursor = null;
        $calls = 0;
        do {
            $req = ['maxChanges' => 1000];
            if ($cursor !== null) {
                $req['cursor'] = $cursor;
            }
            $resp = $this->c->GetChanges($req);
            $calls++;
            foreach ($resp->change ?? [] as $ch) {
                $changes[$ch->id] = $ch;
            }
            $cursor = $resp->nextCursor;
        } while ($resp->hasMore && $calls < 1000);
        equal("$t GetChanges: followed to the end", $resp->hasMore, false);
        $mine = $changes[$first->customer->id] ?? null;
        check("$t GetChanges: upserted customer with its latest state", $mine !== null && $mine->kind === 'UPSERTED'
            && $mine->customer->name === 'Upsert again', $mine, 'UPSERTED, Upsert again');
        $this->c->DeleteCustomer(['id' => $first->customer->id]);
        $tail = $this->c->GetChanges(['cursor' => $cursor]);
        equal("$t GetChanges after a deletion: one tombstone", array_map(fn($c) => [$c->id, $c->kind], $tail->change ?? []),
            [[$first->customer->id, 'DELETED']]);
    }

    // runCommerce checks products, orders and reviews with SOAP_SINGLE_ELEMENT_ARRAYS: two products
    // with exact EUR prices, an order of two lines that leaves the first at its low-stock threshold
    // (one warning, still an array), the status moving PLACED -> PAID -> SHIPPED, a forbidden
    // transition, an order of one line (an array of one), and a 4-star review in the rating.
    public function runCommerce(): void
    {
        $t = $this->t;
        $this->c = new SoapClient($this->wsdl, [
            'soap_version' => $this->version,
            'cache_wsdl' => WSDL_CACHE_NONE,
            'exceptions' => true,
            'trace' => 1,
            'encoding' => 'UTF-8',
            'connection_timeout' => 10,
            'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        ]);
        $key = $this->key . '-shop';
        $a = $this->c->AddProduct(['product' => ['sku' => "$key-A", 'name' => 'Kaffeemühle Ä',
            'price' => ['amount' => '19.99', 'currency' => 'EUR'], 'stockQuantity' => 10, 'lowStockThreshold' => 3]])->product;
        $b = $this->c->AddProduct(['product' => ['sku' => "$key-B", 'name' => 'Filter',
            'price' => ['amount' => '5.50', 'currency' => 'EUR'], 'stockQuantity' => 100, 'lowStockThreshold' => 5]])->product;
        check("$t AddProduct: ids assigned", $a->id > 0 && $b->id > 0 && $a->id !== $b->id, [$a->id, $b->id], 'two positive ids');
        equal("$t AddProduct: price exact", [$a->price->amount, $a->price->currency], ['19.99', 'EUR']);
        equal("$t AddProduct: stock and threshold", [$a->stockQuantity, $a->lowStockThreshold, $a->lowStock], [10, 3, false]);
        $cust = $this->c->AddCustomer(['customer' => ['name' => 'Order Kundin', 'externalId' => "$key-c"]])->customer;

        $placed = $this->c->PlaceOrder(['customerId' => $cust->id, 'externalId' => "$key-o",
            'line' => [['productId' => $a->id, 'quantity' => 7], ['sku' => "$key-B", 'quantity' => 2]]]);
        $o = $placed->order;
        equal("$t PlaceOrder: status", $o->status, 'PLACED');
        equal("$t PlaceOrder: customerId", $o->customerId, $cust->id);
        equal("$t PlaceOrder: lines", array_map(fn($l) => [$l->productId, $l->quantity, $l->unitPrice->amount], $o->line),
            [[$a->id, 7, '19.99'], [$b->id, 2, '5.50']]);
        equal("$t PlaceOrder: exact total", [$o->totalAmount->amount, $o->totalAmount->currency], ['150.93', 'EUR']);
        equal("$t PlaceOrder: LOW_STOCK warning, an array of one",
            array_map(fn($w) => [$w->code, $w->productId, $w->sku, $w->stockQuantity, $w->lowStockThreshold], $placed->warning ?? []),
            [['LOW_STOCK', $a->id, "$key-A", 3, 3]]);

        $paid = $this->c->UpdateOrderStatus(['id' => $o->id, 'status' => 'PAID', 'expectedVersion' => $o->version])->order;
        equal("$t UpdateOrderStatus PLACED -> PAID", [$paid->status, $paid->version], ['PAID', $o->version + 1]);
        $shipped = $this->c->UpdateOrderStatus(['id' => $o->id, 'status' => 'SHIPPED'])->order;
        equal("$t UpdateOrderStatus PAID -> SHIPPED", $shipped->status, 'SHIPPED');
        $this->expectFault('UpdateOrderStatus SHIPPED -> CANCELLED -> CONFLICT',
            fn() => $this->c->UpdateOrderStatus(['id' => $o->id, 'status' => 'CANCELLED']), 'CONFLICT');

        // One line: the request's array of one goes out as one line element, the answer's is an array of one.
        $single = $this->c->PlaceOrder(['customerId' => $cust->id, 'line' => [['productId' => $b->id, 'quantity' => 1]]]);
        check("$t PlaceOrder of one line: line is an array of one", is_array($single->order->line) && count($single->order->line) === 1,
            $single->order->line, 'array of 1');
        equal("$t PlaceOrder of one line: total", $single->order->totalAmount->amount ?? null, '5.50');
        equal("$t PlaceOrder of one line: no warning", $single->warning ?? [], []);

        $r = $this->c->AddReview(['review' => ['customerId' => $cust->id, 'productId' => $a->id, 'stars' => 4, 'title' => 'Gut & günstig']]);
        equal("$t AddReview: stars", $r->review->stars, 4);
        equal("$t AddReview: rating", [$r->rating->average, $r->rating->count], ['4.00', 1]);
        $got = $this->c->GetProduct(['id' => $a->id])->product;
        equal("$t GetProduct: rating", [$got->rating->average, $got->rating->count], ['4.00', 1]);
        equal("$t GetProduct: stock after the order", [$got->stockQuantity, $got->lowStock], [3, true]);
    }

    // checkVersionOnWire asserts that the request really went out in the chosen SOAP
    // version and that the server answered in the same one.
    private function checkVersionOnWire(string $op): void
    {
        $t = $this->t;
        $env = $this->version === SOAP_1_1
            ? 'http://schemas.xmlsoap.org/soap/envelope/'
            : 'http://www.w3.org/2003/05/soap-envelope';
        $ct = $this->version === SOAP_1_1 ? 'text/xml' : 'application/soap+xml';
        check("$t $op: request envelope namespace", str_contains((string) $this->c->__getLastRequest(), $env),
            $this->c->__getLastRequest(), $env);
        check("$t $op: response envelope namespace", str_contains((string) $this->c->__getLastResponse(), $env),
            $this->c->__getLastResponse(), $env);
        equal("$t $op: response content type", responseContentType($this->c), $ct);
    }

    private function expectFault(string $name, callable $call, string $code, ?string $field = null): void
    {
        $t = $this->t;
        try {
            $call();
        } catch (SoapFault $f) {
            $crm = $f->detail->CrmFault ?? null;
            if (!check("$t $name: detail->CrmFault parsed", is_object($crm), $f->detail ?? null, 'CrmFault object')) {
                echo "# response: " . $this->c->__getLastResponse() . "\n";
                return;
            }
            equal("$t $name: code", $crm->code ?? null, $code);
            if ($field !== null) {
                equal("$t $name: field", $crm->field ?? null, $field);
            }
            check("$t $name: message non-empty", ($crm->message ?? '') !== '', $crm->message ?? null, 'some text');
            check("$t $name: faultstring non-empty", $f->faultstring !== '', $f->faultstring, 'some text');
            if ($this->version === SOAP_1_1) {
                equal("$t $name: faultcode", local($f->faultcode), 'Client');
                equal("$t $name: HTTP status", httpStatus($this->c), 500);
            } else {
                equal("$t $name: SOAP 1.2 Code/Value", local($f->faultcode), 'Sender');
                equal("$t $name: HTTP status", httpStatus($this->c), 400);
            }
            return;
        } catch (Throwable $e) {
            check("$t $name: raises SoapFault", false, get_class($e) . ': ' . $e->getMessage(), 'SoapFault');
            return;
        }
        check("$t $name: raises SoapFault", false, 'no fault', $code);
    }
}

if ($argc !== 2) {
    fwrite(STDERR, "usage: php php_test.php WSDL_URL\n");
    exit(2);
}
ini_set('default_socket_timeout', '10');
echo '# PHP ' . PHP_VERSION . " SoapClient against {$argv[1]}\n";
foreach ([SOAP_1_1, SOAP_1_2] as $v) {
    try {
        (new Suite($argv[1], $v))->run();
        (new Suite($argv[1], $v))->runSync();
        (new Suite($argv[1], $v))->runCommerce();
    } catch (Throwable $e) {
        $tag = $v === SOAP_1_1 ? '[SOAP 1.1]' : '[SOAP 1.2]';
        check("$tag suite ran to the end", false, get_class($e) . ': ' . $e->getMessage(), 'no exception');
    }
}
exit(summary());
