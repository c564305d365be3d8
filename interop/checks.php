<?php
// The check counters and reporting shared by the PHP interop suites (as checks.py for Python).
//
// Each check prints one line, "ok - SUITE name" or "FAIL - SUITE name: got ..., want ...";
// summary() prints the suite's totals and returns the exit status. Set $suite first.

declare(strict_types=1);

$suite = 'php';
$passed = 0;
$failed = 0;

function check(string $name, bool $ok, $got = null, $want = null): bool
{
    global $suite, $passed, $failed;
    if ($ok) {
        $passed++;
        echo "ok - $suite $name\n";
    } else {
        $failed++;
        echo "FAIL - $suite $name: got " . var_export($got, true) . ', want ' . var_export($want, true) . "\n";
    }
    return $ok;
}

function equal(string $name, $got, $want): bool
{
    return check($name, $got === $want, $got, $want);
}

// summary prints "# SUITE: N passed, N failed" and returns the exit status (1 on any failure).
function summary(): int
{
    global $suite, $passed, $failed;
    echo "# $suite: $passed passed, $failed failed\n";
    return $failed > 0 ? 1 : 0;
}
