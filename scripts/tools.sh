# Sourced by scripts/lint-template and scripts/sam-build: command-line tools that are installed
# with pip, each into its own virtual environment under $WARDEN_TOOLS_DIR (default
# ~/.cache/session-warden/tools), because they pin dependencies that would otherwise change the
# packages the tests use. Both scripts share the environments.

tools_dir="${WARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/session-warden/tools}"

# venv_tool NAME PACKAGE...: print the path of NAME, from PATH or from the virtual environment
# $tools_dir/NAME holding the PACKAGEs (created on first use).
venv_tool() {
  local name="$1" venv="$tools_dir/$1"
  shift
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  if [[ ! -x "$venv/bin/$name" ]]; then
    echo "$name not found; installing $* with pip into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    if ! timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2; then
      rm -rf "$venv"
      echo "could not install $*" >&2
      return 1
    fi
  fi
  echo "$venv/bin/$name"
}
