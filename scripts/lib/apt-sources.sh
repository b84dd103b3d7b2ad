# Sourced by scripts/base-image.sh and scripts/test-setup-fresh.sh.
#
# apt_sources: the machine's configured Debian sources, one "URI SUITE" line
# per URI and suite, from deb822 .sources files and one-line .list entries
# (deb lines only; options in [brackets] skipped).
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources)
        # one "URI SUITE" line per URI x suite of each stanza
        awk '
          /^[[:space:]]*#/ { next }
          /^[[:space:]]*$/ { flush(); next }
          /^URIs:/ { uris = substr($0, 6) }
          /^Suites:/ { suites = substr($0, 8) }
          /^Types:/ { types = substr($0, 7) }
          function flush(  i, j, nu, ns, u, s) {
            if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/) {
              nu = split(uris, u, " "); ns = split(suites, s, " ")
              for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
            }
            uris = ""; suites = ""; types = ""
          }
          END { flush() }' "$f"
        ;;
      *)
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i+1) }' "$f"
        ;;
    esac
  done
}
