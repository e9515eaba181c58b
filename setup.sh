#!/usr/bin/env bash
# provdc setup: installs what is missing (Debian packages, then the Python package in .venv),
# idempotently, then runs the job you name.
#
#   ./setup.sh demo [ARGS]   the main job on the embedded example province (provdc demo ARGS)
#   ./setup.sh test [ARGS]   the full test suite (pytest ARGS)
#   ./setup.sh install       install only
#
# Run as root on Debian 12. Re-running is cheap: installed packages and an unchanged
# pyproject.toml are detected and skipped.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

# System packages the lab, audits, monitoring and tests use (all from Debian's archive).
APT_PACKAGES=(
  openssh-server openssh-client iproute2 util-linux procps psmisc kmod
  nmap iperf3 snmpd snmp nftables nginx-light curl
  prometheus prometheus-node-exporter prometheus-blackbox-exporter prometheus-snmp-exporter prometheus-alertmanager
  chromium chromium-driver fonts-dejavu-core fonts-noto-core poppler-utils libreoffice-writer graphviz
  chrony auditd libpam-pwquality unattended-upgrades python3-apt systemd
  pamtester clamav aide apparmor-utils rsyslog sudo
  python3 python3-venv python3-dev gcc
)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh must run as root (it installs Debian packages and builds network namespaces)." >&2
    exit 1
  fi
}

install_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "system packages: all ${#APT_PACKAGES[@]} present"
    return
  fi
  log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # Packaged daemons must not start on install: provdc starts its own instances on lab
  # addresses, and a stock chrony would reach for Debian's public NTP pool (the network rule:
  # only loopback and lab hosts). A temporary policy-rc.d tells invoke-rc.d to start nothing.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# provdc setup: no daemon starts during package installation\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || { [ "$own_policy" = 1 ] && rm -f "$policy"; return 1; }
  [ "$own_policy" = 1 ] && rm -f "$policy"
  # and where systemd runs, the units this install brought stay off at boot
  if [ -d /run/systemd/system ]; then
    for unit in prometheus prometheus-node-exporter prometheus-blackbox-exporter prometheus-snmp-exporter snmpd nginx \
                clamav-freshclam rsyslog dailyaidecheck.timer; do
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
    # time and audit daemons only when this install brought them (the machine's own stay)
    for unit in chrony auditd; do
      if printf '%s\n' "${missing[@]}" | grep -qx "$unit"; then systemctl disable --now "$unit" >/dev/null 2>&1 || true; fi
    done
  fi
}

python_for_venv() {
  # Any Python >= 3.11 with venv: Debian 12's python3 is 3.11.
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return
    fi
  done
  echo "no Python >= 3.11 with the venv module found" >&2; exit 1
}

install_python_package() {
  local stamp=.venv/.provdc-installed want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ -x .venv/bin/provdc ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    log "python package: up to date in .venv"
    return
  fi
  [ -x .venv/bin/python ] || { log "creating .venv"; "$(python_for_venv)" -m venv .venv; }
  log "installing provdc and its Python dependencies into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
}

main() {
  local job=${1:-install}
  [ $# -gt 0 ] && shift
  need_root
  install_system_packages
  install_python_package
  case "$job" in
    install) log "installed; try: .venv/bin/provdc --help" ;;
    demo) exec .venv/bin/provdc demo "$@" ;;
    # serial by default: tests/run_tiers.py (four tiers side by side, PROVDC_TESTS_TIERS=1) puts a
    # 2-core machine at load 15-18 and timing-bound tests then miss their windows (BENCHMARKS.md)
    test) if [ "${PROVDC_TESTS_TIERS:-0}" = 1 ]; then exec .venv/bin/python tests/run_tiers.py "$@"; fi
          exec .venv/bin/python -m pytest "$@" ;;
    *) echo "usage: ./setup.sh [install|demo|test] [ARGS]" >&2; exit 2 ;;
  esac
}

main "$@"
