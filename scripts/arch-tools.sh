#!/usr/bin/env bash
# Installs what building and running the Lambda package for one architecture needs on this
# machine, skipping what is already there: the Rust target cargo-lambda builds for (its Zig
# linker comes with the pip package, tests/requirements.txt) and, when the architecture is not
# the host's, Debian's QEMU user-mode emulator and that architecture's C library, under which
# the black-box tests run the bootstrap (tests/harness/src/arch.rs names the same programs and
# paths). Fails with one line when something cannot be installed: an architecture asked for is
# tested, never skipped.
set -euo pipefail
arch=${1:?usage: scripts/arch-tools.sh x86_64|arm64}

fail() { echo "arch-tools ($arch): $*" >&2; exit 1; }

case "$arch" in
  x86_64) triple=x86_64-unknown-linux-gnu emulator=qemu-x86_64-static libc=libc6-amd64-cross sysroot=/usr/x86_64-linux-gnu ;;
  arm64) triple=aarch64-unknown-linux-gnu emulator=qemu-aarch64-static libc=libc6-arm64-cross sysroot=/usr/aarch64-linux-gnu ;;
  *) echo "arch-tools: the architecture must be arm64 or x86_64, not '$arch'" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64) host=x86_64 ;;
  aarch64 | arm64) host=arm64 ;;
  *) fail "this machine is $(uname -m); Lambda runs x86_64 and arm64 only" ;;
esac

command -v rustup >/dev/null || fail "rustup is not installed (https://rustup.rs)"
if ! rustup target list --installed | grep -qx "$triple"; then
  rustup target add "$triple" || fail "rustup target add $triple failed"
fi

[ "$arch" = "$host" ] && exit 0

missing=()
command -v "$emulator" >/dev/null || missing+=(qemu-user-static)
[ -e "$sysroot/lib/libc.so.6" ] || missing+=("$libc")
[ ${#missing[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null ||
  fail "install QEMU's user-mode emulator ($emulator) and the $arch C library in $sysroot (Debian: ${missing[*]})"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "arch-tools ($arch): installing ${missing[*]} (runs the $arch bootstrap on this $host machine)"
"${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null ||
  fail "apt-get install ${missing[*]} failed"
command -v "$emulator" >/dev/null || fail "$emulator is still missing after installing qemu-user-static"
[ -e "$sysroot/lib/libc.so.6" ] || fail "$sysroot/lib/libc.so.6 is still missing after installing $libc"
