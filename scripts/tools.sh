# Sourced by scripts/test, scripts/lint-template and scripts/sam-build: Python tools, each
# installed with pip into its own virtual environment under $WARDEN_TOOLS_DIR (default
# ~/.cache/session-warden/tools), never into the system Python (Debian's is "externally
# managed" and refuses pip) and never into each other, because they pin dependencies that
# would otherwise clash. The scripts share the environments; delete one to reinstall it.
#
#   moto          moto[server] and cfn-lint: moto server and the tests' Python helpers (scripts/test)
#   cfn-lint      cfn-lint (scripts/lint-template)
#   sam           aws-sam-cli (scripts/lint-template, scripts/sam-build)
#   checkov       checkov (scripts/lint-template)
#   cargo-lambda  cargo-lambda and ziglang (scripts/sam-build)
# The README gives their sizes and install times.
#
# Needs python3 (3.11 or newer) with the venv module: on Debian and Ubuntu, the python3-venv
# package.

tools_dir="${WARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/session-warden/tools}"

# venv_dir NAME EXECUTABLE PACKAGE...: print the path of the virtual environment $tools_dir/NAME
# holding the PACKAGEs, creating it first when it is missing, unfinished (no bin/EXECUTABLE) or
# made for other PACKAGEs (the list is kept in its warden-packages file; an environment made
# before that file existed is kept as it is).
venv_dir() {
  local name="$1" executable="$2" venv="$tools_dir/$1"
  shift 2
  if [[ -x "$venv/bin/$executable" ]] \
    && { [[ ! -e "$venv/warden-packages" ]] || [[ "$(cat "$venv/warden-packages")" == "$*" ]]; }; then
    echo "$venv"
    return
  fi
  echo "installing $* with pip into $venv (once; later runs reuse it)" >&2
  rm -rf "$venv"
  mkdir -p "$tools_dir"
  if ! python3 -m venv "$venv" >&2; then
    rm -rf "$venv"
    echo "python3 -m venv failed: Python's venv module is missing (on Debian and Ubuntu:" \
      "sudo apt-get install python3-venv)" >&2
    return 1
  fi
  if ! timeout 900 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2 \
    || [[ ! -x "$venv/bin/$executable" ]]; then
    rm -rf "$venv"
    echo "could not install $* into $venv" >&2
    return 1
  fi
  printf '%s\n' "$*" >"$venv/warden-packages"
  echo "$venv"
}

# venv_tool NAME PACKAGE...: print the path of the command NAME, from PATH or from the virtual
# environment $tools_dir/NAME holding the PACKAGEs.
venv_tool() {
  local name="$1" venv
  shift
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  venv="$(venv_dir "$name" "$name" "$@")" || return 1
  echo "$venv/bin/$name"
}
