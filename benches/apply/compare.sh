#!/usr/bin/env bash
# `gitops sync` against `kubectl apply --server-side -f` of the same rendered objects, each into a
# fresh embedded API server (`gitops cluster serve`) that delays every request by LATENCY, in the
# same run: wall time, requests made, and a no-op re-sync (zero writes).
#
# Usage: benches/apply/compare.sh [OBJECTS] [LATENCY]     (default 2000 and 5ms; needs python3)
# Peers: kubectl v1.37.1 from ../shared/tools/install-peers.sh (or $PEERS_DIR/bin/kubectl).
set -euo pipefail
cd "$(dirname "$0")/../.."
objects=${1:-2000}
latency=${2:-5ms}
kubectl=${PEERS_DIR:-$HOME/.cache/gitops-peers}/bin/kubectl
[[ -x $kubectl ]] || kubectl=$(bash ../shared/tools/install-peers.sh)/kubectl
work=$(pwd)/target/bench-apply
rm -rf "$work" && mkdir -p "$work"
python3 benches/apply/generate.py "$work/app" "$objects"
cargo build --release -q
gitops=$(pwd)/target/release/gitops

server_pid=
stop() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
trap stop EXIT
serve() { # a fresh server with the latency; its kubeconfig at $1
  rm -f "$1"
  "$gitops" cluster serve --latency "$latency" --kubeconfig "$1" >/dev/null &
  server_pid=$!
  until [[ -s $1 ]]; do sleep 0.05; done
  sleep 0.2
}
seconds() { python3 -c "import time; print(time.time())"; }

# gitops: render, observe, plan, apply in waves (no health waits: nothing here needs a rollout).
serve "$work/ours.kubeconfig"
cd "$work"
start=$(seconds)
"$gitops" sync app --kubeconfig ours.kubeconfig --concurrency 32 > sync.out
ours=$(python3 -c "print($(seconds) - $start)")
start=$(seconds)
"$gitops" sync app --kubeconfig ours.kubeconfig --concurrency 32 > resync.out
noop=$(python3 -c "print($(seconds) - $start)")
cd - >/dev/null
stop

# kubectl, with a fresh discovery cache.
serve "$work/theirs.kubeconfig"
start=$(seconds)
HOME=$work/kubectl-home KUBECONFIG=$work/theirs.kubeconfig \
  "$kubectl" apply --server-side --field-manager=kubectl -f "$work/app/objects.yaml" > "$work/kubectl.out"
theirs=$(python3 -c "print($(seconds) - $start)")
stop

printf 'objects: %s, latency per request: %s\n' "$objects" "$latency"
printf 'gitops sync:                       %7.2f s   (%s)\n' "$ours" "$(tail -1 "$work/sync.out")"
printf 'kubectl apply --server-side -f:    %7.2f s   (%s lines of output)\n' "$theirs" "$(wc -l < "$work/kubectl.out")"
python3 -c "print(f'ratio: {$theirs / max($ours, 0.001):.1f}x faster')"
printf 'gitops no-op re-sync:              %7.2f s   (%s)\n' "$noop" "$(tail -1 "$work/resync.out")"
