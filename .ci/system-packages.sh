#!/usr/bin/env bash
# Debian packages Quire needs at run time and in tests; installs only what is missing.
#   libpango / fonts : WeasyPrint's text layout and the report fonts
#   poppler-utils     : pdftoppm/pdftotext for the visual checks in the tests
#   chromium          : the real browser of the Voila tests (driven by Playwright; never `playwright install`)
#   postgresql        : a real server that the tests start on 127.0.0.1 for the production-database path
#   nodejs, npm       : installs axe-core (npm registry) for the accessibility checks of the browser tests
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils chromium postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A Node.js that brings its own npm (e.g. NodeSource's) counts: only a machine without npm gets Debian's.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
