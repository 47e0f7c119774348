#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) for the end-to-end tests into .e2e/code-server, once.
# A second run finds the stamp and returns at once. Needs Debian's ripgrep, libkrb5-dev and build-essential
# (the Makefile's system-deps installs them).
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
# The version @vscode/ripgrep (a code-server dependency) downloads in its postinstall; we hand it Debian's rg instead
# because only package registries are reachable.
RIPGREP_VERSION=v13.0.0-10
RIPGREP_PACKAGE_VERSION=1.15.11

here="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$here/.e2e/code-server"
stamp="$prefix/.installed-$CODE_SERVER_VERSION"
if [ -f "$stamp" ]; then
  exit 0
fi

rg_bin="$(command -v rg || true)"
if [ -z "$rg_bin" ]; then
  echo "install-code-server: ripgrep (rg) is missing; run 'make system-deps'" >&2
  exit 2
fi

rm -rf "$prefix"
mkdir -p "$prefix"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export TMPDIR="$work"
cache="$TMPDIR/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
mkdir -p "$cache" "$work/rg"
cp "$rg_bin" "$work/rg/rg"
tar czf "$cache/ripgrep-$RIPGREP_VERSION-x86_64-unknown-linux-musl.tar.gz" -C "$work/rg" rg

# node-gyp builds code-server's native modules against the system's Node headers instead of downloading them.
export npm_config_nodedir=/usr
# code-server's postinstall refuses to run as root without this; node-pty's runs `npx node-gyp`.
export npm_config_unsafe_perm=true
export npm_config_yes=true

echo '{"name": "reload-agent-e2e-code-server", "private": true}' > "$prefix/package.json"
install() {
  (cd "$prefix" && npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION")
}
# The registry occasionally drops a connection: one retry.
install || { echo "install-code-server: npm install failed, retrying once" >&2; install; }

"$prefix/node_modules/.bin/code-server" --version >/dev/null
touch "$stamp"
echo "code-server $CODE_SERVER_VERSION installed in $prefix"
