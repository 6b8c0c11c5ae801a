#!/bin/sh
# Creates or updates the loyaltybus streams and key-value buckets from the
# JSON definitions in DIR, as the operator user, with the nats CLI (the
# natsio/nats-box image has both this shell and the CLI). Safe to run again:
# an unchanged stream is left as it is, a changed one is updated.
#
# Usage: provision.sh [DIR]      DIR holds <STREAM>.json (default: streams/
#                                beside this script)
#
# Connection settings are the nats CLI's own environment variables:
#   NATS_URL       e.g. tls://nats-1:4222,tls://nats-2:4222,tls://nats-3:4222
#   NATS_USER      operator
#   NATS_PASSWORD  or NATS_PASSWORD_FILE, a file holding it
#   NATS_CA        the deployment CA certificate
#
# The definitions are what bus.Provision creates (pkg/deploytest proves it;
# "go test ./deploytest -run TestCluster -update" in pkg/ rewrites them).
set -eu

dir=${1:-$(dirname "$0")/streams}

if [ -n "${NATS_PASSWORD_FILE:-}" ]; then
	NATS_PASSWORD=$(cat "$NATS_PASSWORD_FILE")
	export NATS_PASSWORD
fi

# The cluster may still be electing its JetStream leader.
tries=0
until nats account info >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "provision: JetStream not reachable at ${NATS_URL:-?} as ${NATS_USER:-?}" >&2
		nats account info >&2 || true
		exit 1
	fi
	sleep 2
done

found=0
for f in "$dir"/*.json; do
	[ -e "$f" ] || continue
	found=1
	name=$(basename "$f" .json)
	# Creating a stream that exists with the same configuration succeeds;
	# with another configuration it fails, and the stream is edited instead.
	if nats stream add "$name" --config "$f" >/dev/null 2>&1; then
		echo "provision: $name up to date"
	else
		nats stream edit "$name" --config "$f" --force
		echo "provision: $name updated"
	fi
done
if [ "$found" -eq 0 ]; then
	echo "provision: no stream definitions in $dir" >&2
	exit 1
fi
