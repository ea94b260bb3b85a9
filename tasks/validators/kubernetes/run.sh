#!/bin/bash
# The tagen validation Job's command, inside the official splunk/splunk image.
#
# Starts Splunk with the TA installed (the image's provisioning, SPLUNK_APPS_URL), ingests every
# sample of $TAGEN_PLAN/samples.tsv (path TAB sourcetype TAB host) with `splunk add oneshot`,
# waits until Splunk has indexed them, then prints the events of sample N (the search in
# $TAGEN_PLAN/search-N.spl, through the export endpoint as JSON lines) between the lines
# "@@tagen-events-begin N@@" and "@@tagen-events-end N@@", and "@@tagen-done@@" at the end.
# Any failing step ends the script non-zero, so the Job fails and the runner says why.
set -euo pipefail

PLAN="${TAGEN_PLAN:-/tagen/plan}"
API="https://127.0.0.1:8089"
SPLUNK=(sudo -u "${SPLUNK_USER:-splunk}" "${SPLUNK_HOME:-/opt/splunk}/bin/splunk")

rest() { curl -sSk -u "admin:${SPLUNK_PASSWORD}" "$@"; }

# Provision and start splunkd; it keeps running after this returns.
/sbin/entrypoint.sh start-and-exit

while IFS=$'\t' read -r -u 3 path sourcetype host; do
    "${SPLUNK[@]}" add oneshot "$path" -index "${TAGEN_INDEX:-main}" \
        -sourcetype "$sourcetype" -host "$host" -auth "admin:${SPLUNK_PASSWORD}" </dev/null
done 3<"$PLAN/samples.tsv"

# Oneshot inputs are indexed in the background: wait until none is pending and the event
# count holds still between two looks.
pending() {
    rest "$API/services/data/inputs/oneshot?output_mode=json&count=0" |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin).get("entry", [])))'
}
indexed() {
    rest "$API/services/search/jobs/export" -d output_mode=csv \
        --data-urlencode "search=search index=* earliest=0 latest=2147483647 | stats count" |
        tail -n 1 | tr -dc '0-9'
}
previous=""
for _ in $(seq 1 300); do
    sleep 2
    [ "$(pending)" = "0" ] || continue
    current="$(indexed)"
    [ -n "$current" ] && [ "$current" = "$previous" ] && break
    previous="$current"
done

n=0
while [ -f "$PLAN/search-$n.spl" ]; do
    echo "@@tagen-events-begin $n@@"
    rest "$API/services/search/jobs/export" -d output_mode=json \
        --data-urlencode "search@$PLAN/search-$n.spl"
    echo
    echo "@@tagen-events-end $n@@"
    n=$((n + 1))
done
echo "@@tagen-done@@"
