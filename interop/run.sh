#!/usr/bin/env bash
# Third-party SOAP clients against a real crmsoap server: Python zeep, PHP SoapClient
# and node-soap, each through the WSDL the server serves, over SOAP 1.1 and 1.2; then,
# once the server enforces WS-Security, zeep signing with python3-xmlsec against a
# second server that requires signatures.
#
#   bash interop/run.sh            (what `make interop` runs)
#
# Installs what is missing (Debian packages, then node-soap from interop/package-lock.json),
# builds the server, starts it on 127.0.0.1:0 with a throw-away database, runs every client,
# stops the server with SIGTERM and ends with "interop: N passed, N failed" (one per check).
# Exits non-zero when any check failed, any client crashed, or a server did not stop cleanly
# or logged an ERROR.
#
# Environment: CRMSOAP_INTEROP_BIN=path uses a prebuilt server instead of `go build`;
# CRMSOAP_INTEROP_ONLY="zeep php" runs only the named clients; CRMSOAP_INTEROP_KEEP=1
# keeps the work directory (server logs, client output) for a look afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# Debian's interpreter: the python3 first on PATH may be another build without zeep.
python=/usr/bin/python3
deb_packages=(python3-zeep php-cli php-soap xmlsec1 python3-xmlsec openssl)
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
declare -A server_pids=()
cleanup() {
	local name pid
	for name in "${!server_pids[@]}"; do
		pid=${server_pids[$name]}
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
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

# Help texts are captured first: `cmd -h | grep -q` under pipefail fails when grep closes the
# pipe before cmd has finished writing.
serve_help=$("$bin" serve -h 2>&1 || true)
clients_help=$("$bin" clients 2>&1 || true)
has_flag() { grep -q -- "$1" <<<"$serve_help"; }

# Local calls must never go through a proxy from the environment (node-soap's HTTP client
# honours HTTP_PROXY).
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# start_server NAME ARGS...: starts `serve` on 127.0.0.1:0 with the database $work/NAME.db and
# sets addr once it has logged "serving".
start_server() {
	local name=$1 pid
	shift
	"$bin" serve --addr 127.0.0.1:0 --db "$work/$name.db" --log-format json "$@" 2>"$work/$name.log" &
	pid=$!
	server_pids[$name]=$pid
	addr=
	for _ in $(seq 1 200); do
		addr=$(grep -m1 '"msg":"serving"' "$work/$name.log" | sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' || true)
		[[ -n $addr ]] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			log "server $name exited before serving:"
			cat "$work/$name.log" >&2
			exit 1
		fi
		sleep 0.05
	done
	if [[ -z $addr ]]; then
		log "server $name did not log \"serving\" within 10s:"
		cat "$work/$name.log" >&2
		exit 1
	fi
	log "server $name at $addr"
}

passed=0
failed=0

# stop_server NAME: SIGTERM, then a clean exit status and no ERROR lines in its log are checks of
# their own: every request the clients make is a success or the caller's error.
stop_server() {
	local name=$1 rc=0
	kill -TERM "${server_pids[$name]}"
	wait "${server_pids[$name]}" || rc=$?
	unset "server_pids[$name]"
	if ((rc != 0)); then
		echo "FAIL - server $name exited with status $rc after SIGTERM"
		tail -n 20 "$work/$name.log"
		failed=$((failed + 1))
	fi
	if grep -q '"level":"ERROR"' "$work/$name.log"; then
		echo "FAIL - server $name logged errors:"
		grep '"level":"ERROR"' "$work/$name.log" | head -n 20
		failed=$((failed + 1))
	fi
}

# run_client NAME COMMAND...: runs a client suite with the WSDL URL appended and tallies its
# "ok - " and "FAIL - " lines.
run_client() {
	local name=$1
	shift
	local out="$work/$name.out" rc=0 ok bad
	log "running $name"
	# A client gets 60s: a hung client must not hang `make interop`.
	timeout 60 "$@" >"$out" 2>&1 || rc=$?
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

# Plain SOAP: signatures are the server's default when it has --insecure-no-auth.
plain_args=()
has_flag insecure-no-auth && plain_args+=(--insecure-no-auth)
start_server plain "${plain_args[@]}"
wsdl_url="http://$addr/soap?wsdl"
for c in "${clients[@]}"; do
	case $c in
	zeep) run_client zeep "$python" "$here/zeep_test.py" "$wsdl_url" ;;
	php) run_client php php "$here/php_test.php" "$wsdl_url" ;;
	node) run_client node node "$here/node_test.js" "$wsdl_url" ;;
	esac
done
stop_server plain

# WS-Security: zeep signs with python3-xmlsec, xmlsec1 checks the server's signed responses.
# Runs once the server enforces signatures and can register client certificates.
if [[ " ${clients[*]} " == *" zeep "* ]]; then
	if has_flag insecure-no-auth && grep -q 'clients add' <<<"$clients_help"; then
		# Keys made with openssl, not the server's own `keys new`: a third party's certificates.
		for who in client stranger server; do
			openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 2 -subj "/CN=interop-$who" \
				-keyout "$work/$who.key.pem" -out "$work/$who.cert.pem" 2>/dev/null
		done
		"$bin" clients add --db "$work/signed.db" --name interop-zeep --cert "$work/client.cert.pem" >/dev/null
		signed_args=() server_cert=()
		if has_flag sign-key; then
			signed_args+=(--sign-key "$work/server.key.pem" --sign-cert "$work/server.cert.pem")
			server_cert+=("$work/server.cert.pem")
		fi
		start_server signed "${signed_args[@]}"
		run_client zeep-wsse "$python" "$here/zeep_wsse_test.py" "http://$addr/soap?wsdl" \
			"$work/client.key.pem" "$work/client.cert.pem" "$work/stranger.key.pem" "$work/stranger.cert.pem" \
			"${server_cert[@]}"
		stop_server signed
	else
		echo "# zeep-wsse not run: this server does not enforce WS-Security signatures yet"
	fi
fi

echo "interop: $passed passed, $failed failed"
((failed == 0))
