#!/busybox/sh
# Entry point of the demo partner image (deploy/demopartner.Dockerfile),
# demo only. On first start it creates the demo tenant's partner access key
# with `livery keys create` (same configuration and environment as the
# gateway) and keeps it in the /keys volume; then it runs the demo partner
# platform with that key. Arguments go to demopartner.
set -eu
keys=/keys/demo.key
if [ ! -s "$keys" ]; then
  /livery keys create -tenant demo -config /etc/livery/livery.yaml > "$keys.tmp"
  mv "$keys.tmp" "$keys"
fi
ak=$(sed -n 's/^access key: *//p' "$keys")
DEMOPARTNER_SK=$(sed -n 's/^secret key: *//p' "$keys")
export DEMOPARTNER_SK
if [ -z "$ak" ] || [ -z "$DEMOPARTNER_SK" ]; then
  echo "demopartner: $keys holds no access key; remove the volume and restart" >&2
  exit 1
fi
exec /demopartner -ak "$ak" "$@"
