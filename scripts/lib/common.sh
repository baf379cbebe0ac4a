# Shared by scripts/test and scripts/package: environment, pinned tools, moto.
# Source it from the repository root.

export SAM_CLI_TELEMETRY=0
export AWS_REGION=ap-southeast-3 AWS_DEFAULT_REGION=ap-southeast-3
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
# Never let a developer's real profile or credentials leak into local checks.
unset AWS_PROFILE
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true

root=$(pwd)
venv="$root/.venv"
export PATH="$venv/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

# Installs the pinned Python tools (moto, aws-sam-cli, cfn-lint, cargo-lambda with zig) into .venv
# when missing or when scripts/requirements-tools.txt changed.
ensure_python_tools() {
  local req="$root/scripts/requirements-tools.txt"
  local stamp="$venv/.requirements.sha256"
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "installing pinned tools into .venv (moto, aws-sam-cli, cfn-lint, cargo-lambda)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
}

# Starts moto on a free loopback port; sets AWS_ENDPOINT_URL and moto_pid. The caller's trap
# stops it with stop_started.
started_pids=()
start_moto() {
  mkdir -p "$root/target"
  local port
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  step "starting moto on 127.0.0.1:$port"
  "$venv/bin/python" "$root/scripts/lib/moto_server.py" 127.0.0.1 "$port" > "$root/target/moto-$port.log" 2>&1 &
  moto_pid=$!
  started_pids+=("$moto_pid")
  for _ in $(seq 1 150); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
      export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$moto_pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$root/target/moto-$port.log" >&2
  echo "moto did not start" >&2
  return 1
}

stop_started() {
  local pid
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}

free_port() {
  "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Installs Debian packages ("$@", apt-get options first if any) as root, or through sudo
# otherwise, after refreshing the package lists; quiet unless it fails.
apt_install() {
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The browser tests' tools: Debian's chromium and chromium-driver (Playwright drives
# /usr/bin/chromium; its own browser download cannot work here) with a font for legible
# screenshots, and axe-core from npm into .tools/npm (gitignored). Prints the versions in use.
axe_core_version=4.14.1
axe_js="$root/.tools/npm/node_modules/axe-core/axe.min.js"
ensure_browser_tools() {
  local missing=() pkg
  for pkg in chromium chromium-driver fonts-liberation; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]} (Debian packages)"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
    "${apt[@]}" || { apt-get update && "${apt[@]}"; }
  fi
  local installed
  installed=$(node -p "require('$root/.tools/npm/node_modules/axe-core/package.json').version" 2>/dev/null || true)
  if [ "$installed" != "$axe_core_version" ]; then
    step "installing axe-core@$axe_core_version into .tools/npm"
    npm install --prefix "$root/.tools/npm" --no-audit --no-fund --save-exact "axe-core@$axe_core_version"
  fi
  export LAPOR_AXE_JS="$axe_js"
  printf 'browser tools: %s, %s, playwright %s, axe-core %s\n' \
    "$(dpkg-query -W -f='chromium ${Version}' chromium)" \
    "$(dpkg-query -W -f='chromium-driver ${Version}' chromium-driver)" \
    "$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("playwright"))')" \
    "$axe_core_version"
}
