#!/usr/bin/env bash
# Third-party SOAP clients against a real crmsoap server: Python zeep, PHP SoapClient
# and node-soap, each through the WSDL the server serves, over SOAP 1.1 and 1.2.
#
#   bash interop/run.sh            (what `make interop` runs)
#
# Installs what is missing (Debian packages, then node-soap from interop/package-lock.json),
# builds the server, starts it on 127.0.0.1:0 with a throw-away database, runs every client,
# stops the server with SIGTERM and ends with "interop: N passed, N failed" (one per check).
# Exits non-zero when any check failed, any client crashed or the server did not stop cleanly.
#
# Environment: CRMSOAP_INTEROP_BIN=path uses a prebuilt server instead of `go build`;
# CRMSOAP_INTEROP_ONLY="zeep php" runs only the named clients; CRMSOAP_INTEROP_KEEP=1
# keeps the work directory (server log, client output) for a look afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# Debian's interpreter: the python3 first on PATH may be another build without zeep.
python=/usr/bin/python3
deb_packages=(python3-zeep php-cli php-soap xmlsec1 python3-xmlsec)
clients=(zeep php node)
if [[ -n ${CRMSOAP_INTEROP_ONLY:-} ]]; then
	read -r -a clients <<<"$CRMSOAP_INTEROP_ONLY"
fi

log() { printf 'interop: %s\n' "$*" >&2; }

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	else
		sudo "$@"
	fi
}

install_debian() {
	local missing=() p status
	for p in "${deb_packages[@]}"; do
		# A removed package whose configuration files remain is "deinstall ok config-files".
		status=$(dpkg -s "$p" 2>/dev/null || true)
		[[ $status == *$'\nStatus: install ok installed\n'* ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# node-soap comes from the committed lock file. The stamp holds the hash of package.json and
# package-lock.json that node_modules was installed from; a different hash means stale.
install_node() {
	command -v npm >/dev/null || { log "npm is not installed"; return 1; }
	local stamp="$here/node_modules/.crmsoap-lock-hash" want
	want=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)
	if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
		return 0
	fi
	log "installing node-soap (npm ci)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	printf '%s\n' "$want" >"$stamp"
}

needs_node=false
needs_debian=false
for c in "${clients[@]}"; do
	case $c in
	node) needs_node=true ;;
	zeep | php) needs_debian=true ;;
	*) log "unknown client $c (known: zeep php node)"; exit 2 ;;
	esac
done
$needs_debian && install_debian
$needs_node && install_node

work=$(mktemp -d "${TMPDIR:-/tmp}/crmsoap-interop.XXXXXX")
server_pid=
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n ${CRMSOAP_INTEROP_KEEP:-} ]]; then
		log "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

bin=${CRMSOAP_INTEROP_BIN:-}
if [[ -z $bin ]]; then
	bin=$work/crmsoap
	log "building server"
	(cd "$root" && go build -o "$bin" ./cmd/crmsoap)
fi

serve_args=(serve --addr 127.0.0.1:0 --db "$work/interop.db" --log-format json)
# Signed requests are the server's default; these clients speak plain SOAP. The help text is
# captured first: `serve -h | grep -q` under pipefail fails when grep closes the pipe early.
serve_help=$("$bin" serve -h 2>&1 || true)
if grep -q -- insecure-no-auth <<<"$serve_help"; then
	serve_args+=(--insecure-no-auth)
fi
"$bin" "${serve_args[@]}" 2>"$work/server.log" &
server_pid=$!

addr=
for _ in $(seq 1 200); do
	addr=$(grep -m1 '"msg":"serving"' "$work/server.log" | sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' || true)
	[[ -n $addr ]] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		log "server exited before serving:"
		cat "$work/server.log" >&2
		exit 1
	fi
	sleep 0.05
done
if [[ -z $addr ]]; then
	log "server did not log \"serving\" within 10s:"
	cat "$work/server.log" >&2
	exit 1
fi
wsdl_url="http://$addr/soap?wsdl"
# Local calls must never go through a proxy from the environment (node-soap's HTTP client
# honours HTTP_PROXY).
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
log "server at $addr"

passed=0
failed=0
run_client() {
	local name=$1
	shift
	local out="$work/$name.out" rc=0 ok bad
	log "running $name"
	# A client gets 60s: a hung client must not hang `make interop`.
	timeout 60 "$@" "$wsdl_url" >"$out" 2>&1 || rc=$?
	cat "$out"
	ok=$(grep -c '^ok - ' "$out" || true)
	bad=$(grep -c '^FAIL - ' "$out" || true)
	if ((rc != 0 && bad == 0)); then
		# The client died before reporting a failure (crash, timeout, missing module).
		echo "FAIL - $name exited with status $rc without reporting a failed check"
		bad=1
	elif ((rc == 0 && bad > 0)); then
		echo "FAIL - $name reported failed checks but exited 0"
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
}

for c in "${clients[@]}"; do
	case $c in
	zeep) run_client zeep "$python" "$here/zeep_test.py" ;;
	php) run_client php php "$here/php_test.php" ;;
	node) run_client node node "$here/node_test.js" ;;
	esac
done

kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
if ((rc != 0)); then
	echo "FAIL - server exited with status $rc after SIGTERM"
	tail -n 20 "$work/server.log"
	failed=$((failed + 1))
fi

# Every request above is a client error or a success: an ERROR line means the server failed.
if grep -q '"level":"ERROR"' "$work/server.log"; then
	echo "FAIL - server logged errors:"
	grep '"level":"ERROR"' "$work/server.log" | head -n 20
	failed=$((failed + 1))
fi

echo "interop: $passed passed, $failed failed"
((failed == 0))
