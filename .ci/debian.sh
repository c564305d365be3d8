#!/usr/bin/env bash
# Installs the named Debian packages that are not installed yet (as root, or through sudo).
#   bash .ci/debian.sh postgresql nats-server
set -euo pipefail
missing=()
for p in "$@"; do
	# A removed package whose configuration files remain is "deinstall ok config-files".
	status=$(dpkg -s "$p" 2>/dev/null || true)
	[[ $status == *$'\nStatus: install ok installed\n'* ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
