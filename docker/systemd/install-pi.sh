#!/usr/bin/env bash
# Installs Vigie as a systemd service on a bare Raspberry Pi OS 13 (Debian "trixie"), with Node.js
# from the distribution. Run it from a checkout or an unpacked release, as root:
#
#   sudo docker/systemd/install-pi.sh [--dry-run] [--prebuilt] [--no-start] [--source DIR] [--prefix DIR]
#
# Running it again updates the application and the unit and changes nothing else: the
# configuration, site, rules and admin token in /etc/vigie are written only when absent.
# docker/README.md describes each step.
set -euo pipefail

readonly APP=/opt/vigie CONF=/etc/vigie DATA=/var/lib/vigie UNIT_DIR=/etc/systemd/system
readonly SERVICE_USER=vigie
# package.json "engines": node >=20.19 (require() of ES modules, which dependencies rely on).
readonly NODE_MIN_MAJOR=20 NODE_MIN_MINOR=19

DRY_RUN=0
PREBUILT=0
START=1
PREFIX=''
SOURCE=''

usage() {
  cat <<'EOF'
usage: install-pi.sh [options]

  --dry-run       print every action instead of doing it (no root needed)
  --prebuilt      install the dist/ found in the source (a release built with `npm run build`)
                  and only the production dependencies; default: build on the Pi (npm ci with the
                  dev dependencies, npm run build, npm prune --omit=dev)
  --no-start      enable the service but do not (re)start it
  --source DIR    the checkout or unpacked release to install (default: the one holding this script)
  --prefix DIR    stage every file under DIR (DESTDIR-style: the files still name /opt/vigie,
                  /etc/vigie...); the unit is enabled offline (systemctl --root) and nothing is
                  started; no root check
  -h, --help      this text
EOF
}

say() { printf '%s\n' "$*"; }
die() {
  printf 'install-pi: %s\n' "$*" >&2
  exit 1
}

# The words of a command as a shell would read them back (quoted only where needed).
quote() {
  local word out=()
  for word in "$@"; do
    if [[ $word =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
      out+=("$word")
    else
      out+=("'${word//\'/\'\\\'\'}'")
    fi
  done
  printf '%s' "${out[*]}"
}

# Every change to the system goes through run: printed, then done unless --dry-run.
run() {
  printf '+ %s\n' "$(quote "$@")"
  if ((!DRY_RUN)); then "$@"; fi
}

# run, in a directory.
run_in() {
  local dir=$1
  shift
  printf '+ (cd %s && %s)\n' "$(quote "$dir")" "$(quote "$@")"
  if ((!DRY_RUN)); then (cd "$dir" && "$@"); fi
}

# A path as installed: under --prefix when one is given.
dest() { printf '%s%s' "$PREFIX" "$1"; }

parse_args() {
  while (($# > 0)); do
    case $1 in
      --dry-run) DRY_RUN=1 ;;
      --prebuilt) PREBUILT=1 ;;
      --no-start) START=0 ;;
      --source)
        (($# >= 2)) || die '--source needs a directory'
        SOURCE=$2
        shift
        ;;
      --source=*) SOURCE=${1#--source=} ;;
      --prefix)
        (($# >= 2)) || die '--prefix needs a directory'
        PREFIX=$2
        shift
        ;;
      --prefix=*) PREFIX=${1#--prefix=} ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
  done
  PREFIX=${PREFIX%/}
  if [[ -n $PREFIX && $PREFIX != /* ]]; then die "--prefix needs an absolute path: $PREFIX"; fi
  if [[ -z $SOURCE ]]; then SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); fi
  [[ -f $SOURCE/package.json && -f $SOURCE/docker/systemd/vigie.service ]] ||
    die "$SOURCE is not a Vigie checkout or release (no package.json or docker/systemd/vigie.service)"
  if ((PREBUILT)) && [[ ! -f $SOURCE/dist/gateway/src/cli.js ]]; then
    die "--prebuilt: $SOURCE/dist/gateway/src/cli.js is missing (run npm run build there, or leave out --prebuilt)"
  fi
}

require_root() {
  if [[ -z $PREFIX ]] && ((!DRY_RUN)) && [[ $(id -u) -ne 0 ]]; then
    die 'run it as root (sudo), or with --dry-run to see what it would do'
  fi
}

# Refuses a Node.js older than package.json's engines; a Node that is missing is installed below.
check_node() {
  local version major minor
  if ! version=$(node --version 2>/dev/null); then
    if ((DRY_RUN)); then
      say 'node: not installed yet; apt-get installs the distribution nodejs, whose version is checked then'
      return 0
    fi
    die 'node is still missing after apt-get install nodejs'
  fi
  version=${version#v}
  IFS=. read -r major minor _ <<<"$version"
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || die "cannot read the Node.js version: node --version says '$version'"
  if ((major < NODE_MIN_MAJOR || (major == NODE_MIN_MAJOR && minor < NODE_MIN_MINOR))); then
    die "Node.js v$version is too old: Vigie needs Node.js $NODE_MIN_MAJOR.$NODE_MIN_MINOR or later.
  Raspberry Pi OS 13 (trixie) ships nodejs 20.19: install that release (a fresh image is simplest).
  Raspberry Pi OS 12 (bookworm) ships nodejs 18, which cannot run Vigie: either upgrade to trixie,
  or install Node.js 20 or 22 from NodeSource (https://github.com/nodesource/distributions),
  which replaces the distribution's nodejs and npm, then run this script again.
  Nothing was installed."
  fi
  say "node v$version: OK ($NODE_MIN_MAJOR.$NODE_MIN_MINOR or later)"
}

# Node and npm from the distribution when they are missing (a NodeSource Node, which brings its
# own npm, is kept); python3, make and g++ compile the native modules (better-sqlite3, the serial
# port bindings, epoll for onoff, unix-dgram for sd_notify) when no prebuilt binary fits.
install_packages() {
  local wanted=(python3 make g++) missing=() pkg
  command -v node >/dev/null || wanted+=(nodejs)
  command -v npm >/dev/null || wanted+=(npm)
  for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    say "packages: ${wanted[*]} already installed"
    return 0
  fi
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# A system user with no login and no home of its own; gpio owns the GPIO devices and sysfs files
# on Raspberry Pi OS, dialout the serial ports. gpio is created where it does not exist (another
# Debian), since systemd refuses to start a unit whose SupplementaryGroups= names a missing group.
ensure_user() {
  local group
  for group in gpio dialout; do
    if ! getent group "$group" >/dev/null; then run groupadd --system "$group"; fi
  done
  if ! getent passwd "$SERVICE_USER" >/dev/null; then
    run useradd --system --user-group --home-dir "$DATA" --no-create-home \
      --shell /usr/sbin/nologin --comment 'Vigie gateway' "$SERVICE_USER"
  fi
  run usermod --append --groups gpio,dialout "$SERVICE_USER"
}

ensure_dirs() {
  # /etc/vigie may hold provider credentials: readable by the service, writable by root only.
  run install -d -m 0750 "$(dest "$CONF")"
  run chown root:"$SERVICE_USER" "$(dest "$CONF")"
  # The only place the service writes (the unit's ReadWritePaths=); -R repairs files a manual run
  # as root left behind.
  run install -d -m 0750 "$(dest "$DATA")"
  run chown -R "$SERVICE_USER:$SERVICE_USER" "$(dest "$DATA")"
}

# The application is built in a staging directory and swapped in whole, so a failed build leaves
# the running version in place. Owned by root: the service can read its code, not change it.
install_app() {
  local app stage old
  app=$(dest "$APP")
  stage=$app.new
  old=$app.old
  # What the build reads (the image's build context takes the same): no tests, no node_modules.
  local items=(package.json package-lock.json tsconfig.json README.md gateway rules firmware-sim dashboards docker)
  if ((PREBUILT)); then items+=(dist); fi
  run rm -rf "$stage"
  run install -d -m 0755 "$stage"
  printf '+ tar -C %s -cf - %s | tar -C %s -xf -\n' "$(quote "$SOURCE")" "$(quote "${items[@]}")" "$(quote "$stage")"
  if ((!DRY_RUN)); then
    tar -C "$SOURCE" --exclude=node_modules --exclude=test --exclude='*.test.ts' --exclude='*.tsbuildinfo' \
      -cf - "${items[@]}" | tar -C "$stage" --no-same-owner -xf -
  fi
  if ((PREBUILT)); then
    run_in "$stage" npm ci --omit=dev --no-audit --no-fund
  else
    # tsc is a dev dependency: installed for the build (whatever NODE_ENV says), pruned after.
    run_in "$stage" npm ci --include=dev --no-audit --no-fund
    run_in "$stage" npm run build
    run_in "$stage" npm prune --omit=dev --no-audit --no-fund
  fi
  run rm -rf "$old"
  if [[ -e $app ]]; then run mv "$app" "$old"; fi
  run mv "$stage" "$app"
  run rm -rf "$old"
}

# `vigie` on PATH, for the commands an integrator types (validate, hash-password, token, crm import).
install_command() {
  local bin
  bin=$(dest /usr/local/bin)
  run install -d -m 0755 "$bin"
  say "+ write $bin/vigie: exec node $APP/dist/gateway/src/cli.js \"\$@\""
  if ((!DRY_RUN)); then
    printf '#!/bin/sh\n# Installed by install-pi.sh: the Vigie command line.\nexec node %s/dist/gateway/src/cli.js "$@"\n' "$APP" >"$bin/vigie"
  fi
  run chmod 0755 "$bin/vigie"
}

# Copies src to dest unless dest exists: an edited configuration is never overwritten.
install_absent() {
  local src=$1 target=$2
  if [[ -e $target ]]; then
    say "keep $target (exists: never overwritten)"
    return 0
  fi
  run install -m 0640 "$src" "$target"
  run chown root:"$SERVICE_USER" "$target"
}

install_config() {
  local conf rules file env token
  conf=$(dest "$CONF")
  install_absent "$SOURCE/docker/systemd/config.yaml" "$conf/config.yaml"
  install_absent "$SOURCE/rules/examples/site.yaml" "$conf/site.yaml"
  # The example rules only into a new rules directory: a rule deleted there stays deleted.
  rules=$conf/rules
  if [[ -e $rules ]]; then
    say "keep $rules (exists: never overwritten)"
  else
    run install -d -m 0750 "$rules"
    for file in "$SOURCE"/rules/examples/*.yaml; do
      if [[ $(basename "$file") != site.yaml ]]; then run install -m 0640 "$file" "$rules/"; fi
    done
    run chown -R root:"$SERVICE_USER" "$rules"
  fi
  # A fixed admin token, so the API and console keep their credentials across restarts.
  env=$conf/vigie.env
  if [[ -e $env ]]; then
    say "keep $env (exists: never overwritten)"
  elif ((DRY_RUN)); then
    say "+ write $env: VIGIE_ADMIN_TOKEN=<48 random hex digits>"
    run chmod 0640 "$env"
    run chown root:"$SERVICE_USER" "$env"
  else
    token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
    say "+ write $env: VIGIE_ADMIN_TOKEN=<48 random hex digits>"
    (
      umask 077
      printf '# Admin API token of the Vigie gateway (read by vigie.service).\nVIGIE_ADMIN_TOKEN=%s\n' "$token" >"$env"
    )
    run chmod 0640 "$env"
    run chown root:"$SERVICE_USER" "$env"
  fi
}

# The gateway's own check of the configuration, site and rules, before the service uses them.
validate_config() {
  if ! run node "$(dest "$APP")/dist/gateway/src/cli.js" validate --config "$(dest "$CONF")/config.yaml"; then
    die "the configuration in $CONF was refused (problems listed above): fix it, then run this script again"
  fi
}

install_unit() {
  local dir
  dir=$(dest "$UNIT_DIR")
  # The unit is ours and replaced on each run; local changes go in a drop-in (systemctl edit vigie).
  run install -d -m 0755 "$dir"
  run install -m 0644 "$SOURCE/docker/systemd/vigie.service" "$dir/vigie.service"
  if [[ -n $PREFIX ]]; then
    run systemctl --root="$PREFIX" enable vigie.service
    return 0
  fi
  run systemctl daemon-reload
  run systemctl enable vigie.service
  if ((START)); then run systemctl restart vigie.service; fi
}

summary() {
  local host
  host=$(hostname -I 2>/dev/null | awk '{ print $1 }') || host=''
  if [[ -z $host ]]; then host='<the address of this Pi>'; fi
  say ''
  if ((DRY_RUN)); then
    say 'Dry run: nothing was changed. After a real run:'
  else
    say "Vigie is installed in $APP and enabled as vigie.service."
  fi
  say "  console:      http://$host:8080/console/"
  say "  admin token:  sudo grep VIGIE_ADMIN_TOKEN $CONF/vigie.env"
  say "  config:       $CONF/config.yaml (site.yaml and rules/ beside it), data in $DATA"
  say '  logs:         journalctl -u vigie -f'
  say "The example site's devices log in with demo passwords (demo-<device id>): replace the hashes in"
  say "$CONF/site.yaml (vigie hash-password) before wiring real sensors, then: sudo systemctl restart vigie"
}

main() {
  parse_args "$@"
  require_root
  local had_node=0
  if command -v node >/dev/null; then
    had_node=1
    check_node
  fi
  install_packages
  if ((!had_node)); then check_node; fi
  ensure_user
  ensure_dirs
  install_app
  install_command
  install_config
  validate_config
  install_unit
  summary
}

main "$@"
