#!/usr/bin/env bash
# gitops-source against the git CLI, in the same run and against the same server: `git
# http-backend` behind lighttpd on 127.0.0.1 (protocol v2, as the tests serve it), serving the
# repository that benches/source/generate.py makes (20,000 files, 3,000 commits, ~100 MB; cached in
# $BENCH_DIR, default /tmp/gitops-bench-source, so reruns skip it).
#
#   (a) cold shallow clone: `git clone --depth 1 --bare` vs `Cache::open_or_clone` with depth 1
#   (b) warm fetch of one new commit into a full mirror: `git fetch` vs `Cache::update`
#   (c) fetch one new commit, then resolve and read a 500-file folder at it:
#       `git fetch` + `git archive REV FOLDER` vs `Cache::update` + `resolve` + `Snapshot::subtree` + reads
#
# Each is run RUNS times (default 5), alternating the tools; the median wall time and the highest
# peak RSS (`/usr/bin/time -f %M`: the largest single process of the tree, git's children included)
# are reported. Needs python3, git, lighttpd and /usr/bin/time.
#
# Usage: benches/source/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
bench=${BENCH_DIR:-/tmp/gitops-bench-source}
python3 benches/source/generate.py "$bench/repo.git"
cargo build --release -q -p gitops-source --example source_bench
ours=$(pwd)/target/release/examples/source_bench
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
export GIT_CONFIG_NOSYSTEM=1 HOME=$bench/home
mkdir -p "$HOME"

work=$bench/run
rm -rf "$work" && mkdir -p "$work/srv"
# The served repository borrows the generated one's objects, so each run starts from the same state.
git clone -q --bare --shared "$bench/repo.git" "$work/srv/repo.git"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
backend=$(git --exec-path)/git-http-backend
cat > "$work/lighttpd.conf" <<CONF
server.document-root = "$work/srv"
server.port = $port
server.bind = "127.0.0.1"
server.modules = ("mod_alias", "mod_cgi", "mod_setenv")
alias.url = ("/git/" => "$backend/")
cgi.assign = ("" => "")
setenv.add-environment = ("GIT_PROJECT_ROOT" => "$work/srv", "GIT_HTTP_EXPORT_ALL" => "1")
CONF
"$lighttpd" -D -f "$work/lighttpd.conf" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.05; done
url=http://127.0.0.1:$port/git/repo.git

# Pushes one commit to the served main that rewrites 8 files of FOLDER; prints its id.
folder=apps/app-07
serial=0
new_commit() {
  serial=$((serial + 1))
  local parent
  parent=$(git -C "$work/srv/repo.git" rev-parse main)
  python3 - "$parent" "$folder" "$serial" <<'PY' | git -C "$work/srv/repo.git" fast-import --quiet
import base64, os, sys
parent, folder, serial = sys.argv[1:]
out = sys.stdout.buffer
msg = f"bench change {serial}\n".encode()
out.write(b"commit refs/heads/main\ncommitter Bench <bench@example.com> 1800000000 +0000\n")
out.write(b"data %d\n%s\nfrom %s\n" % (len(msg), msg, parent.encode()))
for i in range(8):
    blob = b"data: " + base64.b64encode(os.urandom(2298)) + b"\n"
    out.write(b"M 100644 inline %s/file-%03d.yaml\ndata %d\n%s\n" % (f"{folder}".encode(), (int(serial) * 8 + i) % 500, len(blob), blob))
PY
  git -C "$work/srv/repo.git" rev-parse main
}

# measure NAME CMD...: appends "seconds peak_kib" to $work/NAME.
measure() {
  local name=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" > "$work/$name.stdout"
  cat "$work/time.out" >> "$work/$name"
}

refspecs=('+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*')
for run in $(seq "$runs"); do
  echo "run $run/$runs" >&2
  # (a) cold shallow clone.
  rm -rf "$work/a-git.git" "$work/a-cache"
  measure a-git git clone -q --depth 1 --bare "$url" "$work/a-git.git"
  measure a-ours "$ours" clone "$work/a-cache" "$url"
  # Warm full mirrors for (b) and (c), once.
  if [[ $run == 1 ]]; then
    git clone -q --bare "$url" "$work/git.git"
    "$ours" fetch "$work/cache" "$url"
  fi
  # (b) warm fetch of one new commit.
  new_commit > /dev/null
  measure b-git git -C "$work/git.git" fetch -q origin "${refspecs[@]}"
  measure b-ours "$ours" fetch "$work/cache" "$url"
  # (c) fetch one new commit, read the folder at it.
  rev=$(new_commit)
  measure c-git sh -c 'git -C "$1" fetch -q origin "$3" "$4" && git -C "$1" archive "$2" "$5" > /dev/null' \
    _ "$work/git.git" "$rev" "${refspecs[@]}" "$folder"
  measure c-ours "$ours" read "$work/cache" "$url" "$rev" "$folder"
done
grep -q '^500 files' "$work/c-ours.stdout" || { echo "read did not see 500 files: $(cat "$work/c-ours.stdout")" >&2; exit 1; }

python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def load(name):
    rows = [line.split() for line in open(f"{work}/{name}") if line.strip()]
    return statistics.median(float(r[0]) for r in rows), max(int(r[1]) for r in rows) / 1024
print(f"{'case':<38} {'git (s)':>8} {'ours (s)':>9} {'git/ours':>9} {'git MB':>7} {'ours MB':>8}")
for key, label in [("a", "(a) cold shallow clone"), ("b", "(b) warm fetch of one commit"),
                   ("c", "(c) fetch + read 500-file folder")]:
    (gt, gm), (ot, om) = load(f"{key}-git"), load(f"{key}-ours")
    print(f"{label:<38} {gt:>8.3f} {ot:>9.3f} {gt / ot:>8.2f}x {gm:>7.1f} {om:>8.1f}")
PY
