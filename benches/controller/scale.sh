#!/usr/bin/env bash
# 1,000 Applications of 10 objects each, reconciled by one `gitops controller` against the
# embedded API server (`gitops cluster serve`) over TCP: time to converge from empty (every
# Application Synced) and the controller's steady-state RSS.
#
#   benches/controller/scale.sh [APPS] [OBJECTS]      (defaults 1000 10)
#   GITOPS=target/debug/gitops benches/controller/scale.sh 100   # a debug build, smaller
#
# Needs kubectl (~/.cache/gitops-peers/bin, see /work/shared/tools/install-peers.sh) and git.
set -euo pipefail
APPS=${1:-1000}
OBJECTS=${2:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GITOPS=${GITOPS:-$ROOT/target/release/gitops}
KUBECTL=${KUBECTL:-$(command -v kubectl || echo "$HOME/.cache/gitops-peers/bin/kubectl")}
[ -x "$GITOPS" ] || { echo "build it first: cargo build --release (or set GITOPS)"; exit 2; }
[ -x "$KUBECTL" ] || { echo "kubectl not found"; exit 2; }
WORK=$(mktemp -d)
SERVER=""; CONTROLLER=""
cleanup() { for pid in $CONTROLLER $SERVER; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# The repository: apps/app-N/ with OBJECTS ConfigMaps each.
git -C "$WORK" init -q -b main repo
for ((a = 0; a < APPS; a++)); do
  mkdir -p "$WORK/repo/apps/app-$a"
  for ((o = 0; o < OBJECTS; o++)); do
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-%d-cm-%d}\ndata: {app: "%d", object: "%d"}\n' \
      "$a" "$o" "$a" "$o" > "$WORK/repo/apps/app-$a/cm-$o.yaml"
  done
done
git -C "$WORK/repo" add -A && git -C "$WORK/repo" -c user.name=b -c user.email=b@example.com commit -q -m apps

"$GITOPS" cluster serve --listen 127.0.0.1:0 --kubeconfig "$WORK/kubeconfig" > /dev/null & SERVER=$!
while [ ! -s "$WORK/kubeconfig" ]; do sleep 0.05; done; sleep 0.2
export KUBECONFIG="$WORK/kubeconfig"

mkdir -p "$WORK/control"
cp "$ROOT/deploy/crd.yaml" "$WORK/control/crd.yaml"
for ((a = 0; a < APPS; a++)); do
  printf -- '---\napiVersion: gitops.dev/v1alpha1\nkind: Application\nmetadata: {name: app-%d, namespace: default}\nspec:\n  source: {repoURL: ., path: apps/app-%d}\n  syncPolicy: {automated: {prune: true}}\n  interval: 10m\n' "$a" "$a"
done > "$WORK/control/apps.yaml"
(cd "$WORK" && "$GITOPS" sync control --kubeconfig "$WORK/kubeconfig" --no-wait --name control > /dev/null)

start=$(date +%s.%N)
"$GITOPS" controller --kubeconfig "$WORK/kubeconfig" --watch-namespace default --identity bench \
  --repo-root "$WORK/repo" --concurrency 16 2> "$WORK/controller.log" & CONTROLLER=$!
while :; do
  synced=$("$KUBECTL" get applications.gitops.dev -o jsonpath='{range .items[*]}{.status.sync}{"\n"}{end}' | grep -c '^Synced$' || true)
  [ "$synced" -ge "$APPS" ] && break
  kill -0 "$CONTROLLER" || { cat "$WORK/controller.log"; exit 1; }
  sleep 0.5
done
end=$(date +%s.%N)
sleep 10   # steady state: every Application synced, nothing due for 10 minutes
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$CONTROLLER/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$CONTROLLER/status")
objects=$("$KUBECTL" get configmaps -o name | grep -c 'app-' || true)
printf 'applications: %d x %d objects (%d ConfigMaps live)\n' "$APPS" "$OBJECTS" "$objects"
printf 'converged from empty in %.1f s\n' "$(echo "$end - $start" | bc)"
printf 'controller RSS steady state: %.1f MiB (peak %.1f MiB)\n' "$(echo "$rss_kb / 1024" | bc -l)" "$(echo "$hwm_kb / 1024" | bc -l)"
