#!/usr/bin/env bash
# Debian packages Quire needs; installs only what is missing.
#   .ci/system-packages.sh demo   what a report run needs (make demo, make lab)
#   .ci/system-packages.sh test   that, plus what only the tests use (make test)
#   add --print to list the packages of a mode instead of installing them
#
#   libpango / fonts : WeasyPrint's text layout and the report fonts                  (demo)
#   fonts-noto-*      : the scripts DejaVu lacks (Chinese, Japanese, Korean, Thai, Indic scripts) and colour
#                       emoji, so that a client, a post or a platform named in them is not printed as empty
#                       boxes; the browsers and the charts fall back to them glyph by glyph           (demo)
#   chromium-headless-shell : prints the PDFs (a warm headless browser, driven by Playwright; never `playwright
#                       install`): Chromium's own engine without the desktop browser, which prints the same
#                       pages with a third less CPU (see quire/pdf/chromium.py)                              (demo)
#   chromium          : the real browser of the Voila, console and accessibility tests                        (test)
#   poppler-utils     : pdftoppm/pdftotext, the tests' look at rendered PDFs as PNG pages and text      (test)
#   postgresql        : a real server that the tests start on 127.0.0.1 for the production-database path      (test)
#   nodejs, npm       : installs axe-core (npm registry) for the browser tests' accessibility checks; only where
#                       no npm exists (a Node.js that brings its own npm counts)                                   (test)
set -euo pipefail
mode="${1:-demo}"
print="${2:-}"
packages=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji
          chromium-headless-shell)
case "$mode" in
  demo) ;;
  test) packages+=(chromium poppler-utils postgresql) ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
if [ "$print" = "--print" ]; then printf '%s\n' "${packages[@]}"; exit 0; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "$mode" = test ] && { command -v npm >/dev/null 2>&1 || missing+=(nodejs npm); }
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# matplotlib lists the system's fonts once and keeps the list: fonts installed after that stay unseen by the charts.
case " ${missing[*]} " in *" fonts-"*) rm -f "${MPLCONFIGDIR:-$HOME/.cache/matplotlib}"/fontlist-*.json ;; esac
