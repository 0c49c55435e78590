#!/usr/bin/env bash
# Whole-process `gitops render` against `kubectl kustomize` on the same generated tree, in the
# same run: wall time (best of N), peak memory, and whether the outputs are byte-identical.
#
# Usage: benches/kustomize/compare.sh [RUNS]     (default 5; needs python3, /usr/bin/time)
# Peers: kubectl v1.37.1 from ../shared/tools/install-peers.sh (or $PEERS_DIR/bin/kubectl).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
kubectl=${PEERS_DIR:-$HOME/.cache/gitops-peers}/bin/kubectl
[[ -x $kubectl ]] || kubectl=$(bash ../shared/tools/install-peers.sh)/kubectl
tree=target/bench-kustomize
rm -rf "$tree" && python3 benches/kustomize/generate.py "$tree" >/dev/null
git -C "$tree" init -q
cargo build --release -q
gitops=target/release/gitops

best() { # best wall seconds of $runs runs of "$@", and the peak RSS (KB) of the last
  local best=999999 rss=0 t
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o target/bench-time "$@" >/dev/null 2>&1
    read -r t rss < target/bench-time
    best=$(python3 -c "print(min($best, $t))")
  done
  echo "$best $rss"
}

resources=$("$gitops" render "$tree" | grep -c '^kind:')
read -r ours ours_rss < <(best "$gitops" render "$tree")
read -r theirs theirs_rss < <(best "$kubectl" kustomize "$tree")
"$gitops" render "$tree" > target/bench-ours.yaml
"$kubectl" kustomize "$tree" 2>/dev/null > target/bench-kubectl.yaml
identical=no; cmp -s target/bench-ours.yaml target/bench-kubectl.yaml && identical=yes
printf 'resources: %s\n' "$resources"
printf 'gitops render:      %6.3f s  peak %6d KB\n' "$ours" "$ours_rss"
printf 'kubectl kustomize:  %6.3f s  peak %6d KB\n' "$theirs" "$theirs_rss"
python3 -c "print(f'ratio: {($theirs)/max($ours, 0.001):.1f}x faster')"
printf 'outputs byte-identical: %s\n' "$identical"
