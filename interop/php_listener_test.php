<?php
// Drives the PHP SoapServer notification listener (php_listener.php) through a crmsoap server that
// has a SOAP subscription to it.
//
// Usage: php php_listener_test.php WSDL_URL LISTENER_URL
//
// Writes customers, products, reviews (one deleted again) and an order of two lines (then paid)
// with SoapClient, reads the change feed with GetChanges, waits until the listener kept the feed's
// last change, and checks that the listener got the changes in feed order (increasing
// notificationId, none twice) and, for every change of the feed, its entity, kind, id, version and
// the record's state as the listener's SoapServer decoded it. One line per check ("ok - ..." or
// "FAIL - ..."); exits 1 when any check failed.

declare(strict_types=1);

require __DIR__ . '/checks.php';
$suite = 'php-listener';

function lines($v): array
{
    if ($v === null) {
        return [];
    }
    return is_array($v) ? $v : [$v];
}

// state spells out a record (a SoapClient answer or the listener's JSON) in the fields each entity
// must carry, money as the exact strings on the wire.
function state(string $entity, $r): ?array
{
    if ($r === null) {
        return null;
    }
    switch ($entity) {
        case 'customer':
            return [(int)$r->id, (int)$r->version, $r->externalId ?? null, $r->name ?? null, $r->address->city ?? null];
        case 'product':
            // Not the rating: a review moves it without a change of the product's own in the feed, so
            // the same notification id can carry another rating depending on when it was read.
            return [(int)$r->id, (int)$r->version, $r->sku, $r->name, $r->price->amount, $r->price->currency,
                (int)$r->stockQuantity, (int)$r->lowStockThreshold, (bool)$r->lowStock, (bool)$r->active];
        case 'order':
            return [(int)$r->id, (int)$r->version, $r->orderNumber, $r->externalId ?? null, (int)$r->customerId, $r->status,
                $r->currency, $r->totalAmount->amount, $r->totalAmount->currency, $r->note ?? null,
                array_map(fn($l) => [(int)$l->lineNo, (int)$l->productId, $l->sku, $l->productName, (int)$l->quantity,
                    $l->unitPrice->amount, $l->lineAmount->amount, $l->lineAmount->currency], lines($r->line))];
        case 'review':
            return [(int)$r->id, (int)$r->version, (int)$r->customerId, (int)$r->productId, (int)$r->stars,
                $r->title ?? null, $r->text ?? null];
    }
    return ['unknown entity', $entity];
}

[$wsdl, $listener] = [$argv[1] ?? '', $argv[2] ?? ''];
if ($wsdl === '' || $listener === '') {
    fwrite(STDERR, "usage: php php_listener_test.php WSDL_URL LISTENER_URL\n");
    exit(2);
}
$c = new SoapClient($wsdl, ['soap_version' => SOAP_1_1, 'cache_wsdl' => WSDL_CACHE_NONE, 'exceptions' => true,
    'encoding' => 'UTF-8', 'connection_timeout' => 10, 'features' => SOAP_SINGLE_ELEMENT_ARRAYS]);

$key = 'phpl-' . getmypid();
$ann = $c->UpsertCustomer(['customer' => ['externalId' => "$key-ann", 'name' => 'Müller & Söhne <GmbH>',
    'address' => ['city' => 'Köln']]])->customer;
$bob = $c->AddCustomer(['customer' => ['name' => 'Bob']])->customer;
$mill = $c->AddProduct(['product' => ['sku' => "$key-mill", 'name' => 'Kaffeemühle Ä',
    'price' => ['amount' => '19.9', 'currency' => 'EUR'], 'stockQuantity' => 10, 'lowStockThreshold' => 3]])->product;
$filter = $c->AddProduct(['product' => ['sku' => "$key-filter", 'name' => 'Filter',
    'price' => ['amount' => '5.50', 'currency' => 'EUR'], 'stockQuantity' => 100]])->product;
$tea = $c->AddProduct(['product' => ['sku' => "$key-tea", 'name' => 'Matcha',
    'price' => ['amount' => '500', 'currency' => 'JPY'], 'stockQuantity' => 4]])->product;
// The review before the order: the order's stock change is then the mill's last change, with the rating.
$c->AddReview(['review' => ['customerId' => $ann->id, 'productId' => $mill->id, 'stars' => 4, 'title' => 'Gut & günstig']]);
$order = $c->PlaceOrder(['customerId' => $ann->id, 'externalId' => "$key-o", 'note' => 'ring twice',
    'line' => [['productId' => $mill->id, 'quantity' => 7], ['sku' => "$key-filter", 'quantity' => 2]]])->order;
$c->UpdateOrderStatus(['id' => $order->id, 'status' => 'PAID', 'expectedVersion' => $order->version]);
$gone = $c->AddReview(['review' => ['customerId' => $bob->id, 'productId' => $tea->id, 'stars' => 2]])->review;
$c->DeleteReview(['id' => $gone->id]);

// The feed: every record once, at its last change.
$feed = [];
$cursor = null;
do {
    $resp = $c->GetChanges($cursor === null ? ['maxChanges' => 1000] : ['cursor' => $cursor, 'maxChanges' => 1000]);
    foreach ($resp->change ?? [] as $ch) {
        $feed[] = $ch;
    }
    $cursor = $resp->nextCursor;
} while ($resp->hasMore);
$last = end($feed)->seq;
$byEntity = array_count_values(array_map(fn($ch) => strtolower($ch->entity) . ' ' . $ch->kind, $feed));
equal('the feed has every entity', [$byEntity['customer UPSERTED'] ?? 0, $byEntity['product UPSERTED'] ?? 0,
    $byEntity['order UPSERTED'] ?? 0, $byEntity['review UPSERTED'] ?? 0, $byEntity['review DELETED'] ?? 0], [2, 3, 1, 1, 1]);

// Wait for the listener to keep the feed's last change.
$kept = [];
for ($deadline = microtime(true) + 45; microtime(true) < $deadline; usleep(200_000)) {
    $raw = @file_get_contents($listener);
    $kept = $raw === false ? [] : array_map(fn($l) => json_decode($l), array_filter(explode("\n", $raw)));
    if ($kept && end($kept)->notificationId >= $last) {
        break;
    }
}
check('the listener got the last change of the feed', $kept && end($kept)->notificationId === $last,
    $kept ? end($kept)->notificationId : null, $last);

$ids = array_map(fn($n) => $n->notificationId, $kept);
$sorted = $ids;
sort($sorted);
equal('notifications arrive in feed order, none twice', $ids === $sorted && count(array_unique($ids)) === count($ids), true);

$got = [];
foreach ($kept as $n) {
    $got[$n->notificationId] = $n;
}
foreach ($feed as $ch) {
    $entity = strtolower($ch->entity);
    $want = [$entity, $ch->kind, (int)$ch->id, (int)$ch->version, state($entity, $ch->{$entity} ?? null)];
    $n = $got[$ch->seq] ?? null;
    $have = $n === null ? null : [$n->entity, $n->kind, $n->id, $n->version, state($n->entity, $n->state)];
    equal("notification {$ch->seq}: $entity {$ch->kind} {$ch->id} v{$ch->version} with its state", $have, $want);
}

// The wire values, spelled out once: exact money strings, the order's two lines, the deletion's empty state.
$find = function (string $entity, int $id) use ($kept) {
    $hit = null;
    foreach ($kept as $n) {
        if ($n->entity === $entity && $n->id === $id) {
            $hit = $n; // the last one: the record's latest state
        }
    }
    return $hit;
};
$p = $find('product', $mill->id);
equal('product: exact price, stock after the order, rating',
    $p ? [$p->state->price->amount, $p->state->price->currency, $p->state->stockQuantity, $p->state->lowStock, $p->state->rating->average] : null,
    ['19.90', 'EUR', 3, true, '4.00']);
$t = $find('product', $tea->id);
equal('product: JPY has no fraction digits', $t ? $t->state->price->amount : null, '500');
$o = $find('order', $order->id);
equal('order: paid, exact total, two lines',
    $o ? [$o->state->status, $o->state->totalAmount->amount, array_map(fn($l) => [$l->lineNo, $l->quantity, $l->lineAmount->amount], $o->state->line)] : null,
    ['PAID', '150.30', [[1, 7, '139.30'], [2, 2, '11.00']]]);
$r = $find('review', $gone->id);
equal('review deleted: kind DELETED, no state', $r ? [$r->kind, $r->state] : null, ['DELETED', null]);
$a = $find('customer', $ann->id);
equal('customer: markup and umlauts verbatim', $a ? [$a->state->name, $a->state->address->city] : null, ['Müller & Söhne <GmbH>', 'Köln']);

exit(summary());
