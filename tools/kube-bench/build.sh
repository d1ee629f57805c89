#!/usr/bin/env bash
# Builds the real Kubernetes control plane for the test bench (SPEC R-ARCH-3 bench; issue #3):
# kube-apiserver, kube-controller-manager and kube-scheduler from Debian's `kubernetes` source
# package (1.20.2, vendored), with Debian's Go. The binaries are cached in tools/bench-bin/kube/
# (git-ignored), so only the first run builds (≈5.5 min on 2 cores). Also makes sure etcd is
# installed. Prints the binary directory on stdout; diagnostics go to stderr.
#
# Needs root for apt (golang-go etcd-server rsync golang-github-modern-go-reflect2-dev); elsewhere it
# says what to install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/tools/bench-bin/kube"
work="$root/tools/bench-bin/kube-build"
stamp="$out/.built-from"
bins=(kube-apiserver kube-controller-manager kube-scheduler)
recipe_rev="1" # bump to force a rebuild when this recipe changes

log() { echo "kube-bench build: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

need_pkgs=()
command -v etcd >/dev/null || need_pkgs+=(etcd-server)
have_bins=1
for b in "${bins[@]}"; do [[ -x "$out/$b" ]] || have_bins=0; done
if [[ $have_bins == 1 && -f "$stamp" && "$(cat "$stamp")" == "$recipe_rev" && ${#need_pkgs[@]} == 0 ]]; then
  echo "$out"
  exit 0
fi
if [[ $have_bins == 0 || ! -f "$stamp" || "$(cat "$stamp")" != "$recipe_rev" ]]; then
  command -v go >/dev/null || need_pkgs+=(golang-go)
  command -v rsync >/dev/null || need_pkgs+=(rsync)
  [[ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ]] || need_pkgs+=(golang-github-modern-go-reflect2-dev)
  command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
fi
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  log "installing ${need_pkgs[*]}"
  if ! as_root true 2>/dev/null; then
    log "not root and no passwordless sudo: install these Debian packages first: ${need_pkgs[*]}"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2 || true
  as_root apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi
if [[ $have_bins == 1 && -f "$stamp" && "$(cat "$stamp")" == "$recipe_rev" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$work" "$out"
cd "$work"
if [[ ! -d src ]]; then
  # A private deb-src list so /etc/apt stays untouched.
  mkdir -p apt/sources apt/lists/partial
  sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    | awk 'BEGIN{RS="";ORS="\n\n"} /debian-security/ {next} {print}' \
    | sed -e 's/^Suites: .*/Suites: bookworm/' >apt/sources/debian-src.sources
  opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources"
    -o "Dir::State::Lists=$work/apt/lists" -o APT::Sandbox::User=root)
  log "downloading Debian's kubernetes source package"
  apt-get "${opts[@]}" update -qq >&2
  rm -rf dl && mkdir dl && (cd dl && apt-get "${opts[@]}" source --download-only kubernetes >&2)
  dsc=$(ls dl/kubernetes_*.dsc | head -n1)
  rm -rf src.tmp
  dpkg-source --no-check -x "$dsc" src.tmp >&2
  # Required fix: vendored modern-go/reflect2 1.0.1 crashes under Go >= 1.18 when a custom
  # resource is created; use Debian's 1.0.2 sources instead.
  rm -rf src.tmp/vendor/github.com/modern-go/reflect2
  mkdir -p src.tmp/vendor/github.com/modern-go/reflect2
  for f in /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s; do
    [[ -e "$f" && "$f" != *_test.go ]] && cp "$f" src.tmp/vendor/github.com/modern-go/reflect2/
  done
  mv src.tmp src
fi

# GOPATH-mode build, as Debian's rules do.
mkdir -p .go/src/k8s.io
ln -sfn "$work/src" .go/src/k8s.io/kubernetes
cd .go/src/k8s.io/kubernetes
log "building ${bins[*]} (first run only; a few minutes)"
start=$(date +%s)
GOPATH="$work/.go" GO111MODULE=off CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor \
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >&2 \
  || GOPATH="$work/.go" GO111MODULE=off CGO_ENABLED=0 GOPROXY=off \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >&2
for b in "${bins[@]}"; do
  f=$(find _output -type f -name "$b" -perm -u+x | head -n1)
  [[ -n "$f" ]] || { log "build produced no $b"; exit 1; }
  cp "$f" "$out/$b"
done
echo "$recipe_rev" >"$stamp"
log "built in $(($(date +%s) - start)) s"
# The source tree and Go build cache are not needed any more (≈1.5 GB); keep only the binaries.
if [[ "${KUBE_BENCH_KEEP_BUILD:-}" == "" ]]; then rm -rf "$work"; fi
echo "$out"
