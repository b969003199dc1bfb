#!/usr/bin/env bash
# `make install DESTDIR=…` puts the binary, the man page, the systemd unit,
# the default configuration and the rules where they belong; the installed
# pieces work together; a changed configuration survives a reinstall and an
# uninstall; `make uninstall` removes everything else.  Also: every option of
# `peregrine --help` is documented in the man page.
set -u
make=${MAKE:-make}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fails=0
fail() { echo "install: FAIL: $*"; fails=$((fails + 1)); }

$make -s install DESTDIR="$dest" PREFIX=/usr/local >/dev/null || { echo "install: FAIL: make install"; exit 1; }

mode() { stat -c %a "$1" 2>/dev/null; }
for f in usr/local/bin/peregrine:755 usr/local/share/man/man1/peregrine.1:644 \
         usr/local/lib/systemd/system/peregrine.service:644 etc/peregrine/peregrine.yaml:644; do
    [ "$(mode "$dest/${f%:*}")" = "${f#*:}" ] || fail "${f%:*} missing or mode $(mode "$dest/${f%:*}") (want ${f#*:})"
done
for r in rules/*.yaml; do
    cmp -s "$r" "$dest/etc/peregrine/rules/$(basename "$r")" || fail "rules: $(basename "$r") not installed"
done
extra=$(cd "$dest" && find . -type f | sed 's|^\./||' | grep -v -e '^usr/local/bin/peregrine$' \
    -e '^usr/local/share/man/man1/peregrine\.1$' -e '^usr/local/lib/systemd/system/peregrine\.service$' \
    -e '^etc/peregrine/peregrine\.yaml$' -e '^etc/peregrine/rules/[^/]*\.yaml$')
[ -z "$extra" ] || fail "unexpected files installed: $extra"
grep -q '^ExecStart=/usr/local/bin/peregrine -c /etc/peregrine/peregrine.yaml$' \
    "$dest/usr/local/lib/systemd/system/peregrine.service" || fail "unit: ExecStart does not name the installed binary"

# the installed pieces work together
bin=$dest/usr/local/bin/peregrine
"$bin" --version | grep -q '^Peregrine version' || fail "installed binary does not run"
"$bin" -V "$dest/etc/peregrine/rules" >/dev/null 2>&1 || fail "installed rules do not validate"
out=$("$bin" -c "$dest/etc/peregrine/peregrine.yaml" -r "$dest/etc/peregrine/rules" \
      -e samples/audit.jsonl 2>/dev/null) || fail "installed configuration + rules do not run on the sample"
grep -q '"rule":' <<<"$out" || fail "installed configuration: no JSON alerts on the sample"

# the man page: renders without warnings, documents every option of --help
if command -v groff >/dev/null; then
    w=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$dest/usr/local/share/man/man1/peregrine.1" 2>&1)
    [ -z "$w" ] || fail "man page warnings: $w"
fi
man_text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' docs/peregrine.1)
for opt in $("$bin" --help | grep -oE '^  +(-[A-Za-z]|--[a-z][a-z-]*)(, --[a-z][a-z-]*)?' | tr -d ',' ); do
    grep -qe "$opt" <<<"$man_text" || fail "man page does not document $opt"
done

# the administrator's configuration is never overwritten nor removed
echo "# local change" >> "$dest/etc/peregrine/peregrine.yaml"
echo "- list: local_list" > "$dest/etc/peregrine/rules/zz-local.yaml"
$make -s install DESTDIR="$dest" PREFIX=/usr/local >/dev/null || fail "second make install"
grep -q '# local change' "$dest/etc/peregrine/peregrine.yaml" || fail "reinstall overwrote the configuration"
$make -s uninstall DESTDIR="$dest" PREFIX=/usr/local >/dev/null || fail "make uninstall"
left=$(cd "$dest" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$left" = "etc/peregrine/peregrine.yaml etc/peregrine/rules/zz-local.yaml " ] ||
    fail "after uninstall, want only the changed config and the local rules file, have: $left"

# and a pristine install is removed completely
rm -rf "$dest" && mkdir "$dest"
$make -s install DESTDIR="$dest" >/dev/null && $make -s uninstall DESTDIR="$dest" >/dev/null
[ -z "$(find "$dest" -type f)" ] || fail "uninstall left files: $(find "$dest" -type f)"
[ ! -d "$dest/etc/peregrine" ] || fail "uninstall left /etc/peregrine"

[ $fails -eq 0 ] || exit 1
echo "install: make install/uninstall DESTDIR ok (binary, man page, unit, config, $(ls rules/*.yaml | wc -l) rules files)"
