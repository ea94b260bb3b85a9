#!/bin/bash
# The tagen validation Job's init container: download the inputs too large for the Secret.
# $TAGEN_PLAN/urls.tsv: a file name under /tagen/input TAB a presigned object-store URL.
set -euo pipefail

PLAN="${TAGEN_PLAN:-/tagen/plan}"
mkdir -p /tagen/input/samples
while IFS=$'\t' read -r -u 3 name url; do
    curl -fsSL --retry 3 -o "/tagen/input/$name" "$url"
done 3<"$PLAN/urls.tsv"
