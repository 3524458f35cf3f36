#!/bin/sh
# tools/oci-layout.sh OUT TAG CONFIG LAYER.tar...: writes an OCI image
# layout (the OCI image spec's image-layout.md) in the directory OUT, from
# plain tar files, bottom layer first; make image-debian uses it, and then
# imports OUT like any other image (make image FROM=oci:OUT:TAG).
#
# CONFIG is the image configuration's "config" object as JSON, e.g.
#   '{"Env":["PATH=/usr/bin:/bin"],"Cmd":["/bin/bash"],"WorkingDir":"/"}'
# Each layer goes in gzipped (gzip -n: no name or time, so the same tar
# always gives the same blob and digest). Every blob is stored under its
# own digest, blobs/sha256/HEX; the config lists the layers' diff_ids
# (the digests of the uncompressed tars), the manifest their blobs'.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 OUT TAG CONFIG LAYER.tar..." >&2; exit 2; }
out=$1 tag=$2 config=$3
shift 3

case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac

mkdir -p "$out/blobs/sha256"
# blob FILE: stores FILE under its digest; prints the digest and size.
blob() {
    d=$(sha256sum "$1" | cut -d' ' -f1)
    cp "$1" "$out/blobs/sha256/$d"
    echo "sha256:$d $(stat -c %s "$1")"
}

diff_ids="" layers=""
for tar in "$@"; do
    diff_id=sha256:$(sha256sum "$tar" | cut -d' ' -f1)
    gzip -n -c "$tar" >"$out/layer.tmp"
    set -- $(blob "$out/layer.tmp")
    rm "$out/layer.tmp"
    diff_ids="$diff_ids${diff_ids:+,}\"$diff_id\""
    layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$1\",\"size\":$2}"
done

printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$arch" "$config" "$diff_ids" >"$out/config.tmp"
set -- $(blob "$out/config.tmp")
rm "$out/config.tmp"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
    "$1" "$2" "$layers" >"$out/manifest.tmp"
set -- $(blob "$out/manifest.tmp")
rm "$out/manifest.tmp"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$1" "$2" "$tag" >"$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
