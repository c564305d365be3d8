<?php
// A crmsoap notification listener written with PHP's SoapServer (ext-soap, Debian php-soap) from the
// contract crmsoap serves at /soap/notifications?wsdl, and nothing else.
//
// Run it with PHP's built-in web server:
//   CRMSOAP_LISTENER_WSDL=http://127.0.0.1:8080/soap/notifications?wsdl \
//   CRMSOAP_LISTENER_LOG=/tmp/notifications.jsonl php -S 127.0.0.1:PORT php_listener.php
//
// POST: a SOAP 1.1 Notifications message. Each notification not seen before (by notificationId) is
// appended to the log as one JSON line {notificationId, entity, kind, id, version, state}, state being
// the record's element (customer, product, order or review) as SoapServer decoded it, null for a
// deletion; the answer is NotificationsResponse with ack true.
// GET: the log, one JSON line per kept notification.

declare(strict_types=1);

$log = getenv('CRMSOAP_LISTENER_LOG') ?: sys_get_temp_dir() . '/crmsoap-notifications.jsonl';

if ($_SERVER['REQUEST_METHOD'] === 'GET') {
    header('Content-Type: application/x-ndjson');
    readfile_or_nothing($log);
    return true;
}

function readfile_or_nothing(string $path): void
{
    if (is_file($path)) {
        readfile($path);
    }
}

// asList is a maxOccurs>1 element as an array: ext-soap gives a single occurrence as the object itself.
function asList($v): array
{
    if ($v === null) {
        return [];
    }
    return is_array($v) ? $v : [$v];
}

final class Listener
{
    public function __construct(private string $log)
    {
    }

    /** Notifications is the contract's one operation: document/literal wrapped. */
    public function Notifications($request): array
    {
        $f = fopen($this->log, 'c+');
        flock($f, LOCK_EX);
        $seen = [];
        while (($line = fgets($f)) !== false) {
            $seen[json_decode($line)->notificationId] = true;
        }
        foreach (asList($request->notification ?? null) as $n) {
            $id = (int)$n->notificationId;
            if (isset($seen[$id])) {
                continue; // a batch delivered again: ignored, as the contract asks
            }
            $seen[$id] = true;
            $state = $n->customer ?? $n->product ?? $n->order ?? $n->review ?? null;
            if (isset($n->order)) {
                $state->line = asList($state->line); // an order of one line is still a list
            }
            fwrite($f, json_encode(['notificationId' => $id, 'entity' => $n->entity, 'kind' => $n->kind,
                'id' => (int)$n->id, 'version' => (int)$n->version, 'state' => $state],
                JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) . "\n");
        }
        fflush($f);
        flock($f, LOCK_UN);
        fclose($f);
        return ['ack' => true];
    }
}

$wsdl = getenv('CRMSOAP_LISTENER_WSDL');
if (!$wsdl) {
    http_response_code(500);
    echo "CRMSOAP_LISTENER_WSDL is not set\n";
    return true;
}
$server = new SoapServer($wsdl, ['soap_version' => SOAP_1_1, 'cache_wsdl' => WSDL_CACHE_NONE]);
$server->setObject(new Listener($log));
$server->handle();
return true;
