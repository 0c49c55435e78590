#!/usr/bin/env bash
# Whole-process `gitops render` against `helm template` in the same run: every conformance chart
# (its first render of renders.txt, all charts one after the other) and a generated chart of
# 199 templates (benches/helm/generate.py). Wall time is the best of N runs; outputs are
# compared byte for byte.
#
# Usage: benches/helm/compare.sh [RUNS]     (default 5; needs python3, /usr/bin/time)
# Peers: helm v4.3.1 from ../shared/tools/install-peers.sh (or $PEERS_DIR/bin/helm).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
helm=${PEERS_DIR:-$HOME/.cache/gitops-peers}/bin/helm
[[ -x $helm ]] || helm=$(bash ../shared/tools/install-peers.sh)/helm
big=target/bench-helm-big
rm -rf "$big" && python3 benches/helm/generate.py "$big" >/dev/null
cargo build --release -q
gitops=$PWD/target/release/gitops

best() { # best wall seconds of $runs runs of "$@"
  local best=999999 t
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e' -o target/bench-time "$@" >/dev/null 2>&1 || true
    t=$(tail -1 target/bench-time)
    best=$(python3 -c "print(min($best, $t))")
  done
  echo "$best"
}

# All fixture charts rendered by one shell loop per tool (process start-up included).
charts=$(for d in tests/fixtures/helm/*/renders.txt; do dirname "$d"; done)
cat > target/bench-helm-all.sh <<SCRIPT
#!/usr/bin/env bash
for d in $(echo $charts); do (cd \$d && "\$@" chart >/dev/null 2>&1); done
SCRIPT
chmod +x target/bench-helm-all.sh
ours_all=$(best target/bench-helm-all.sh "$gitops" render)
theirs_all=$(best target/bench-helm-all.sh "$helm" template release-name)
ours_big=$(best "$gitops" render "$big")
theirs_big=$(best "$helm" template release-name "$big")
"$gitops" render "$big" > target/bench-helm-ours.yaml
"$helm" template release-name "$big" > target/bench-helm-theirs.yaml
identical=no; cmp -s target/bench-helm-ours.yaml target/bench-helm-theirs.yaml && identical=yes
n=$(echo "$charts" | wc -w)
printf '%d fixture charts:   gitops %6.3f s   helm %6.3f s   ratio %s\n' "$n" "$ours_all" "$theirs_all" \
  "$(python3 -c "print(f'{$theirs_all/max($ours_all, 0.001):.1f}x')")"
printf '199-template chart: gitops %6.3f s   helm %6.3f s   ratio %s   byte-identical: %s\n' "$ours_big" \
  "$theirs_big" "$(python3 -c "print(f'{$theirs_big/max($ours_big, 0.001):.1f}x')")" "$identical"
