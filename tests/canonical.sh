#!/usr/bin/env bash
# tests/canonical.sh [--fix] - every lab's copy of the shared helpers is the
# one text of tests/canonical.c and tests/canonical.h. Each lab.c and lab.h
# of solutions/ and labs/ holds sections marked
#     /* == canonical: NAME == */ ... /* == end canonical: NAME == */
# and each must equal the section of that NAME in tests/canonical.[ch],
# byte for byte. Every lab has the sections narration, std-fds and bytes.
# Prints one line per lab file checked, and each difference; exits 1 when
# one differs or is missing. --fix copies the canonical text over every
# section a lab has (then check the labs build: make).
set -uo pipefail
cd "$(dirname "$0")/.."
fix=${1:-}
required=(narration std-fds bytes)

# section FILE NAME: the lines of section NAME of FILE, markers included.
section() {
    awk -v n="$2" '$0 == "/* == canonical: " n " == */" { on = 1 }
        on { print } $0 == "/* == end canonical: " n " == */" { on = 0 }' "$1"
}

# One awk reads every file (a process per file and section cost make test
# half a second of CPU). It prints each file's line, a "BAD ..." line for a
# missing or unknown section, and a "DIFF FILE NAME CANON" line for a
# section that differs, which the loop below turns into the diff (or, with
# --fix, into the copy).
mapfile -t report < <(awk -v required="${required[*]}" '
        function flush(    i, n, r, list) {
            if (file == "" || file ~ /^tests\/canonical\.[ch]$/) return
            n = split(required, r, " ")
            for (i = 1; i <= n; i++)
                if (!((file, r[i]) in has)) print "BAD " file ": no section \047" r[i] "\047 (tests/canonical.sh: every lab carries it)"
            print file ": " (names == "" ? "no section" : names)
        }
        FNR == 1 { flush(); file = FILENAME; canon = "tests/canonical." substr(file, length(file)); names = ""; on = "" }
        /^\/\* == canonical: [a-z-]+ == \*\/$/ { on = $4; text = "" }
        on != "" { text = text $0 "\n" }
        on != "" && $0 == "/* == end canonical: " on " == */" {
            if (file ~ /^tests\/canonical\.[ch]$/) want[file, on] = text
            else {
                has[file, on] = 1
                names = names (names == "" ? "" : " ") on
                if (!((canon, on) in want)) print "BAD " file ": section \047" on "\047 is not in " canon
                else if (want[canon, on] != text) print "DIFF " file " " on " " canon
            }
            on = ""
        }
        END { flush() }' tests/canonical.c tests/canonical.h solutions/[0-9][0-9]-*/lab.[ch] labs/[0-9][0-9]-*/lab.[ch])
bad=0
for line in "${report[@]}"; do
    case $line in
    "DIFF "*)
        read -r _ file name canon <<<"$line"
        if [ "$fix" = --fix ]; then
            awk -v n="$name" -v canon="$canon" '
                $0 == "/* == canonical: " n " == */" {
                    on = 1
                    while ((getline line < canon) > 0) {
                        if (line == $0) copy = 1
                        if (copy) print line
                        if (copy && line == "/* == end canonical: " n " == */") break
                    }
                    close(canon)
                }
                !on { print }
                $0 == "/* == end canonical: " n " == */" { on = 0 }' "$file" >"$file.new" &&
                mv "$file.new" "$file"
            echo "$file: section '$name' copied from $canon"
        else
            echo "$file: section '$name' differs from $canon:"
            diff <(section "$canon" "$name") <(section "$file" "$name") | sed 's/^/    /' | head -n 20
            bad=1
        fi ;;
    "BAD "*) echo "${line#BAD }"; bad=1 ;;
    *) [ "$fix" = --fix ] || echo "$line" ;;
    esac
done
exit "$bad"
