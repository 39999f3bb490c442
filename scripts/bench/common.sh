# Shared by scripts/bench-http.sh, bench-instr.sh and bench-scale.sh: sourced, not run.

# Prints the calling script's header comment (from line 2 to `set -euo`) and succeeds when
# -h or --help is among its arguments: `if bench_help "$0" "$@"; then exit 0; fi`.
bench_help() {
    local script=$1 arg
    shift
    for arg in "$@"; do
        if [[ $arg == -h || $arg == --help ]]; then
            sed -n '2,/^set -euo/p' "$script" | sed '$d; s/^# \{0,1\}//'
            return 0
        fi
    done
    return 1
}

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Installs each Debian package named whose command is missing (the command and the package
# have the same name: wrk, valgrind).
bench_install() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null && continue
        echo "== installing $tool"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"
    done
}

# Cargo's target directory (CARGO_TARGET_DIR or the workspace's target/).
bench_target_dir() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}
