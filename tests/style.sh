#!/bin/sh
# style.sh CLANG-FORMAT SOURCE-ROOT - fail if a C file strays from .clang-format.
set -eu
clang_format=$1
cd "$2"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find agent backends protocol tests -name '*.[ch]')
[ -n "$files" ] || { echo "no C files found" >&2; exit 1; }
# shellcheck disable=SC2086
"$clang_format" --dry-run --Werror $files
echo "$(echo "$files" | wc -l) files match .clang-format"

# .editorconfig: no trailing blanks, no tabs in C, a final newline, in every
# tracked text file but the binary fuzz corpora.
text=$(git ls-files | grep -v '^tests/fuzz/corpus/' || true)
bad=0
for f in $text; do
  [ -f "$f" ] || continue
  if grep -nE '[[:blank:]]+$' "$f" >/dev/null; then
    case "$f" in *.md) ;; *) echo "$f: trailing blanks" >&2; bad=1 ;; esac
  fi
  case "$f" in
    *.c|*.h) if grep -n "$(printf '\t')" "$f" >/dev/null; then echo "$f: tab" >&2; bad=1; fi ;;
  esac
  if [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
    echo "$f: no final newline" >&2; bad=1
  fi
done
[ "$bad" -eq 0 ] || exit 1
echo "every tracked text file matches .editorconfig"
