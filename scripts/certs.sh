#!/usr/bin/env bash
# Makes the TLS material of a loyaltybus NATS deployment with openssl:
#
#   ca.pem, ca-key.pem            a deployment CA (kept if it exists)
#   server.pem, server-key.pem    the NATS servers' certificate, for client
#                                 and route connections (server and client auth)
#   <user>.pem, <user>-key.pem    a client certificate per NATS user, for
#                                 mutual TLS (include/mtls.conf)
#
# Usage: scripts/certs.sh OUT_DIR [SAN ...]
#
# The server certificate names localhost, 127.0.0.1, the compose hosts
# (nats-1, nats-2, nats-3) and the Kubernetes service names of the official
# chart in namespace $NAMESPACE (default loyaltybus): nats, *.nats-headless,
# and their .svc and .svc.cluster.local forms. Extra SANs are openssl SAN
# entries, e.g. DNS:nats.example.com or IP:10.0.0.5.
#
# These are test and bootstrap certificates. In production use your PKI (or
# cert-manager) with the same file names and names in the certificates.
set -euo pipefail

if [[ $# -lt 1 ]]; then
	echo "usage: $0 OUT_DIR [SAN ...]" >&2
	exit 2
fi
out=$1
shift
ns=${NAMESPACE:-loyaltybus}
days=${DAYS:-397}
users=(operator points coupons orders cheques feeds schedule publisher subscriber)

command -v openssl >/dev/null || { echo "$0: openssl is required" >&2; exit 1; }
mkdir -p "$out"
chmod 700 "$out"
cd "$out"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -f ca.pem || ! -f ca-key.pem ]]; then
	key ca-key.pem
	openssl req -x509 -new -key ca-key.pem -sha256 -days 1825 -subj "/CN=loyaltybus NATS CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out ca.pem
fi

# issue NAME CN EXTENSIONS: a key and a certificate signed by the CA.
issue() {
	local name=$1 cn=$2 ext=$3
	key "$name-key.pem"
	openssl req -new -key "$name-key.pem" -subj "/CN=$cn" -out "$name.csr"
	printf '%s\n' "$ext" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 \
		-days "$days" -extfile "$name.ext" -out "$name.pem" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

sans="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:nats-1,DNS:nats-2,DNS:nats-3"
for n in nats "*.nats-headless"; do
	sans+=",DNS:$n,DNS:$n.$ns.svc,DNS:$n.$ns.svc.cluster.local"
done
sans+=",DNS:nats-headless"
for extra in "$@"; do
	sans+=",$extra"
done
issue server "loyaltybus NATS server" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$sans"

for u in "${users[@]}"; do
	issue "$u" "$u" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done
rm -f ca.srl

# Certificates are public (containers that mount them run as other users);
# keys stay private. Keep ca-key.pem out of every container.
for f in ./*.pem; do
	case $f in
	*-key.pem) chmod 600 "$f" ;;
	*) chmod 644 "$f" ;;
	esac
done
echo "certificates in $out (server SANs: $sans)"
