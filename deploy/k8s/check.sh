#!/usr/bin/env bash
# Renders every overlay with `kubectl kustomize` and checks the result
# (check.py: probes, requests and limits, non-root, Service/PDB/HPA per
# Deployment, no committed Secret). scripts/test.sh and CI run it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
for overlay in "$here"/overlays/*/; do
  name=$(basename "$overlay")
  # kustomize's deprecation warnings go to stderr; failures still fail.
  if ! rendered=$(kubectl kustomize "$overlay" 2>/tmp/kustomize-$name.err); then
    echo "k8s $name: kubectl kustomize failed:" >&2
    cat /tmp/kustomize-$name.err >&2
    status=1
    continue
  fi
  # The prod overlay runs on highly available engines (check.py --ha).
  ha=()
  [[ $name == prod ]] && ha=(--ha)
  if problems=$(printf '%s\n' "$rendered" | /usr/bin/python3 "$here/check.py" "${ha[@]}"); then
    echo "k8s $name: $(printf '%s\n' "$rendered" | grep -c '^kind:') objects, probes and limits ok${ha:+, HA engines ok}"
  else
    echo "k8s $name: $problems" >&2
    status=1
  fi
done
exit $status
