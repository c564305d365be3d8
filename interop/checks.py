"""The check counters and reporting shared by the Python interop suites.

Each check prints one line, "ok - SUITE name" or "FAIL - SUITE name: got ..., want ...";
summary() prints the suite's totals and returns the exit status.
"""

suite = "interop"
passed = 0
failed = 0


def check(name, ok, got=None, want=None):
    """Records one check; got/want are printed only on failure."""
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {suite} {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL - {suite} {name}: got {got!r}, want {want!r}", flush=True)
    return ok


def equal(name, got, want):
    return check(name, got == want, got, want)


def summary():
    """Prints '# SUITE: N passed, N failed' and returns the exit status (1 on any failure)."""
    print(f"# {suite}: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0
