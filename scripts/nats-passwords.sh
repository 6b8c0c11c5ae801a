#!/usr/bin/env bash
# Makes a random password for every NATS user of deploy/nats/include/accounts.conf:
#
#   nats-<user>.password   the password, for the client (a Docker or
#                          Kubernetes secret file: LOYALTY_NATS_PASSWORD_FILE)
#   nats-server.env        NATS_PASSWORD_<USER>=... for the nats-server
#                          processes (compose env_file, Kubernetes secret)
#
# Usage: scripts/nats-passwords.sh OUT_DIR
#
# Existing passwords are kept, so running it again only adds missing users.
# The servers may hold bcrypt hashes instead of the passwords: replace each
# value in nats-server.env by its hash ("nats server passwd" or
# "htpasswd -bnBC 11 '' PASSWORD | tr -d ':\n'"), single-quoted for compose.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUT_DIR" >&2
	exit 2
fi
out=$1
users=(sys operator points coupons orders cheques feeds schedule publisher subscriber)

command -v openssl >/dev/null || { echo "$0: openssl is required" >&2; exit 1; }
mkdir -p "$out"
chmod 700 "$out"

env="$out/nats-server.env"
: >"$env.tmp"
chmod 600 "$env.tmp"
for u in "${users[@]}"; do
	f="$out/nats-$u.password"
	if [[ ! -s $f ]]; then
		(umask 022 && openssl rand -hex 24 >"$f")
	fi
	# Readable by the unprivileged user of the service containers; the
	# directory itself is private.
	chmod 644 "$f"
	printf 'NATS_PASSWORD_%s=%s\n' "$(tr '[:lower:]' '[:upper:]' <<<"$u")" "$(tr -d '\n' <"$f")" >>"$env.tmp"
done
mv "$env.tmp" "$env"
echo "passwords for ${users[*]} in $out"
