#!/usr/bin/env bash
# Code-generated SOAP clients against a running crmsoap server: generates each client from the
# WSDL the server serves (no hand edits), builds it, runs the same flow over SOAP 1.1 and 1.2
# (Perl: 1.1 only), and reads what they wrote back with readback.py, outside the generated code.
#
#   bash interop/generated/run.sh STACK WSDL_URL      STACK: mono gsoap kdsoap perl
#
# interop/run.sh installs the tools and calls this once per stack. Prints one "ok - " or
# "FAIL - " line per check and exits non-zero when any failed. A build is kept under
# interop/generated/.cache/, keyed by the served WSDL (without its address), this script, the sources
# and the tool versions; CRMSOAP_INTEROP_NO_CACHE=1 always generates afresh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
stack=${1:?usage: run.sh STACK WSDL_URL}
wsdl_url=${2:?usage: run.sh STACK WSDL_URL}
endpoint=${wsdl_url%%\?*}

work=$(mktemp -d "${TMPDIR:-/tmp}/crmsoap-generated.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Each stack defines: sources (files of this directory it builds from), tool_version, build
# OUT (generate from $wsdl_url into OUT and build there) and run OUT (run every program, with
# LABEL and the endpoint).
case $stack in
mono)
	sources=(mono_client.cs)
	tool_version() { mono --version | head -n 1; }
	build() {
		local out=$1 v
		for v in 11 12; do
			local proto=SOAP
			[[ $v == 12 ]] && proto=SOAP12
			# Mono's wsdl: the System.Web.Services proxy, one per binding.
			(cd "$out" && wsdl -nologo -protocol:$proto -out:"Crm$v.cs" "$wsdl_url" >"wsdl$v.log")
			mcs -nologo -r:System.Web.Services -r:System.Xml -out:"$out/client$v.exe" \
				"$here/mono_client.cs" "$out/Crm$v.cs"
		done
	}
	run() {
		mono "$1/client11.exe" mono-soap11 "$endpoint"
		mono "$1/client12.exe" mono-soap12 "$endpoint"
	}
	;;
gsoap)
	sources=(gsoap_client.cpp)
	tool_version() { wsdl2h -V; }
	build() {
		local out=$1 v
		# -N: a proxy class per binding (CrmSoap11BindingProxy, CrmSoap12BindingProxy).
		wsdl2h -Ncrm -o "$out/crm.h" "$wsdl_url"
		for v in 1 2; do
			mkdir "$out/soap1$v"
			# -1 / -2: SOAP 1.1 / 1.2 envelopes; -j: proxy classes; -C: client side; -x: no sample messages.
			(cd "$out/soap1$v" && soapcpp2 -$v -j -C -x -I/usr/share/gsoap/import ../crm.h)
			local def=()
			[[ $v == 2 ]] && def=(-DCRM_SOAP12)
			g++ -O0 -I"$out/soap1$v" "${def[@]}" -o "$out/client1$v" "$here/gsoap_client.cpp" \
				"$out/soap1$v/soapC.cpp" "$out/soap1$v/soapCrmSoap1${v}BindingProxy.cpp" -lgsoap++
		done
	}
	run() {
		"$1/client11" gsoap-soap11 "$endpoint"
		"$1/client12" gsoap-soap12 "$endpoint"
	}
	;;
kdsoap)
	sources=(kdsoap_client.cpp)
	tool_version() { kdwsdl2cpp -v 2>&1; }
	build() {
		local out=$1
		# -keep-unused-types: KDSoap 1.9 counts the fault element as unused and drops TNS__CrmFault.
		(cd "$out" && kdwsdl2cpp -keep-unused-types -both crm "$wsdl_url")
		/usr/lib/qt5/bin/moc "$out/crm.h" -o "$out/moc_crm.cpp"
		# shellcheck disable=SC2046 # pkg-config prints one flag per word
		g++ -O0 -fPIC -std=c++17 $(pkg-config --cflags Qt5Core Qt5Network) -I"$out" -o "$out/client" \
			"$here/kdsoap_client.cpp" "$out/crm.cpp" "$out/moc_crm.cpp" \
			-lkdsoap $(pkg-config --libs Qt5Core Qt5Network)
	}
	run() { "$1/client" "$endpoint"; }
	;;
perl)
	sources=(perl_client.pl perl/CrmFaultDetail.pm perl/fault-typemap.pl)
	tool_version() { perl -MSOAP::WSDL -e 'print "SOAP::WSDL $SOAP::WSDL::VERSION\n"'; }
	build() {
		# -mi: the typemap for the fault detail (perl/fault-typemap.pl); the SOAP 1.1 port only.
		wsdl2perl -b "$1/lib" -p Crm -mi="$here/perl/fault-typemap.pl" "$wsdl_url"
		perl -c -I"$1/lib" -I"$here/perl" "$here/perl_client.pl"
	}
	run() { perl -I"$1/lib" -I"$here/perl" "$here/perl_client.pl" perl-soap11 "$endpoint"; }
	;;
*)
	echo "FAIL - generated: unknown stack $stack (known: mono gsoap kdsoap perl)"
	exit 2
	;;
esac

started=$(now)
wsdl=$(curl -fsS "$wsdl_url")
# The served address changes with every port the server gets; it is not part of the contract
# a client is generated from (every program is given the endpoint).
key=$( {
	sed 's/location="[^"]*"/location=""/g' <<<"$wsdl"
	for f in run.sh "${sources[@]}"; do cat "$here/$f"; done
	tool_version
} | sha256sum | cut -c1-16)
out=$here/.cache/$stack-$key
if [[ -n ${CRMSOAP_INTEROP_NO_CACHE:-} || ! -f $out/.built ]]; then
	rm -rf "$out"
	mkdir -p "$out"
	if ! build "$out" >"$work/build.log" 2>&1; then
		cat "$work/build.log"
		echo "FAIL - $stack generate and build from $wsdl_url"
		exit 1
	fi
	touch "$out/.built"
	echo "# $stack: generated and built in $(since "$started")s"
else
	echo "# $stack: build cached in $out"
fi

ran=$(now)
rc=0
run "$out" >"$work/run.out" 2>&1 || rc=$?
cat "$work/run.out"
echo "# $stack: ran in $(since "$ran")s"
if ((rc != 0)) && ! grep -q '^FAIL - ' "$work/run.out"; then
	echo "FAIL - $stack client exited with status $rc without reporting a failed check"
fi
mapfile -t records < <(sed -n 's/^# readback \([0-9]*\) \([0-9]*\) \(add\|update\)$/\1 \2 \3/p' "$work/run.out")
read -r -a args <<<"${records[*]}"
"$python" "$here/readback.py" "$endpoint" "$stack" "${args[@]}" || rc=1
exit "$rc"
