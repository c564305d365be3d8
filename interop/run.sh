#!/usr/bin/env bash
# Third-party SOAP clients against a real crmsoap server: Python zeep, PHP SoapClient
# and node-soap, each through the WSDL the server serves, over SOAP 1.1 and 1.2; then,
# once the server enforces WS-Security, a second server that requires X.509 signatures
# and signs its responses: zeep's BinarySignature and Signature (python3-xmlsec),
# node-soap's WSSecurityCert (xml-crypto), and envelopes signed by the xmlsec1 command
# line from the templates in interop/xmlsec/; xmlsec1 verifies the server's signatures.
# Code-generated clients (interop/generated/): Mono's `wsdl` proxies, gSOAP, Qt KDSoap and Perl
# SOAP::WSDL, each generated from the served WSDL, built and run against the plain server.
# With php: PHP's SoapServer as a push-notification listener (php_listener.php) built from
# /soap/notifications?wsdl, fed by a server with a SOAP subscription (php_listener_test.php).
#
#   bash interop/run.sh            (what `make interop` runs)
#   bash interop/run.sh --install-only   (only the installs: `make test` needs xmlsec1 and zeep too)
#
# Installs what is missing (Debian packages, then node-soap from interop/package-lock.json),
# builds the server, starts it on 127.0.0.1:0 with a throw-away database, runs every client,
# stops the server with SIGTERM and ends with "interop: N passed, N failed" (one per check).
# Exits non-zero when any check failed, any client crashed, or a server did not stop cleanly
# or logged an ERROR.
#
# Environment: CRMSOAP_INTEROP_BIN=path uses a prebuilt server instead of `go build`;
# CRMSOAP_INTEROP_ONLY="zeep php" runs only the named clients (zeep php node xmlsec mono gsoap
# kdsoap perl; xmlsec has only the signed run, the last four only the plain one; "generated"
# stands for those four); CRMSOAP_INTEROP_KEEP=1
# keeps the work directory (server logs, client output) for a look afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# Debian's interpreter: the python3 first on PATH may be another build without zeep.
python=/usr/bin/python3
generated=(mono gsoap kdsoap perl)
clients=(zeep php node xmlsec "${generated[@]}")
if [[ -n ${CRMSOAP_INTEROP_ONLY:-} ]]; then
	read -r -a clients <<<"${CRMSOAP_INTEROP_ONLY//generated/${generated[*]}}"
fi

log() { printf 'interop: %s\n' "$*" >&2; }

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	else
		sudo "$@"
	fi
}

# install_debian PACKAGE...: installs those not installed yet.
install_debian() {
	local missing=() p status
	for p in "$@"; do
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
# openssl makes the signed run's keys; xmlsec1 checks the server's signed responses.
deb_packages=()
for c in "${clients[@]}"; do
	case $c in
	node)
		needs_node=true
		deb_packages+=(xmlsec1 openssl)
		;;
	zeep) deb_packages+=(python3-zeep python3-xmlsec xmlsec1 openssl) ;;
	php) deb_packages+=(php-cli php-soap) ;;
	xmlsec) deb_packages+=(python3-lxml xmlsec1 openssl) ;;
	# The generated clients fetch the WSDL with curl and are read back by a python3 script.
	mono) deb_packages+=(mono-devel curl python3) ;;
	gsoap) deb_packages+=(gsoap libgsoap-dev g++ curl python3) ;;
	kdsoap) deb_packages+=(libkdsoap-dev libkdsoap-bin qtbase5-dev pkg-config g++ curl python3) ;;
	perl) deb_packages+=(libsoap-wsdl-perl curl python3) ;;
	*) log "unknown client $c (known: zeep php node xmlsec ${generated[*]} generated)"; exit 2 ;;
	esac
done
mapfile -t deb_packages < <(printf '%s\n' "${deb_packages[@]}" | sort -u)
install_debian "${deb_packages[@]}"
$needs_node && install_node
if [[ ${1:-} == --install-only ]]; then
	exit 0
fi

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
	# No admin listener: its fixed default port could be taken on a shared machine.
	has_flag admin-addr && set -- --admin-addr "" "$@"
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
	# A client gets 60s (client_timeout), a generated one 600s to build: a hung client must not
	# hang `make interop`.
	timeout "${client_timeout:-60}" "$@" >"$out" 2>&1 || rc=$?
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
	mono | gsoap | kdsoap | perl) client_timeout=600 run_client "$c" bash "$here/generated/run.sh" "$c" "$wsdl_url" ;;
	esac
done
stop_server plain

# PHP's SoapServer as a notification listener generated from /soap/notifications?wsdl: a server with
# a SOAP subscription to it, the listener under `php -S`, and php_listener_test.php writing every
# entity and checking what the listener kept.
if [[ " ${clients[*]} " == *" php "* ]] && grep -q 'subscriptions-reload' <<<"$serve_help"; then
	listener_port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
	"$bin" subscriptions add --db "$work/push.db" --name php-listener --url "http://127.0.0.1:$listener_port/" >/dev/null
	start_server push "${plain_args[@]}" --subscriptions-reload 200ms
	CRMSOAP_LISTENER_WSDL="http://$addr/soap/notifications?wsdl" CRMSOAP_LISTENER_LOG="$work/php-listener.jsonl" \
		php -S "127.0.0.1:$listener_port" "$here/php_listener.php" >"$work/php-listener.log" 2>&1 &
	server_pids[php-listener]=$!
	run_client php-listener php "$here/php_listener_test.php" "http://$addr/soap?wsdl" "http://127.0.0.1:$listener_port/"
	kill -TERM "${server_pids[php-listener]}" 2>/dev/null || true
	wait "${server_pids[php-listener]}" 2>/dev/null || true
	unset "server_pids[php-listener]"
	stop_server push
fi

# WS-Security: one server that requires signatures and signs its responses; every signing
# client calls it. Runs once the server enforces signatures and can register certificates.
signed_clients=()
for c in "${clients[@]}"; do
	case $c in
	zeep | node | xmlsec) signed_clients+=("$c") ;;
	esac
done
if ((${#signed_clients[@]} > 0)); then
	if has_flag insecure-no-auth && grep -q 'clients add' <<<"$clients_help"; then
		# Keys made with openssl, not the server's own `keys new`: a third party's certificates.
		for who in client stranger server; do
			openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 2 -subj "/CN=interop-$who" \
				-keyout "$work/$who.key.pem" -out "$work/$who.cert.pem" 2>/dev/null
		done
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 2 -subj "/CN=interop-ec" \
			-keyout "$work/ec.key.pem" -out "$work/ec.cert.pem" 2>/dev/null
		"$bin" clients add --db "$work/signed.db" --name interop-rsa --cert "$work/client.cert.pem" >/dev/null
		"$bin" clients add --db "$work/signed.db" --name interop-ec --cert "$work/ec.cert.pem" >/dev/null
		signed_args=() server_cert=() server_cert_opt=()
		if has_flag sign-key; then
			signed_args+=(--sign-key "$work/server.key.pem" --sign-cert "$work/server.cert.pem")
			server_cert+=("$work/server.cert.pem")
			server_cert_opt+=(--server-cert "$work/server.cert.pem")
		fi
		start_server signed "${signed_args[@]}"
		keys=("$work/client.key.pem" "$work/client.cert.pem" "$work/stranger.key.pem" "$work/stranger.cert.pem")
		for c in "${signed_clients[@]}"; do
			case $c in
			zeep) run_client zeep-wsse "$python" "$here/zeep_wsse_test.py" "http://$addr/soap?wsdl" "${keys[@]}" "${server_cert[@]}" ;;
			node) run_client node-wsse node "$here/node_wsse_test.js" "http://$addr/soap?wsdl" "${keys[@]}" "${server_cert[@]}" ;;
			xmlsec)
				run_client xmlsec "$python" "$here/xmlsec_test.py" "http://$addr/soap" "$here/xmlsec" "${keys[@]}" \
					--ec-key "$work/ec.key.pem" --ec-cert "$work/ec.cert.pem" "${server_cert_opt[@]}"
				;;
			esac
		done
		stop_server signed
	else
		echo "# signed clients not run: this server does not enforce WS-Security signatures yet"
	fi
fi

echo "interop: $passed passed, $failed failed"
((failed == 0))
