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
