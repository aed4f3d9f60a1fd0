#!/usr/bin/env bash
# Regenerates test/fixtures/compressed/: zstd files written by the zstd CLI from committed log lines
# (the licence-permitted corpus in test/fixtures/corpus), for test/decompress.test.ts and
# test/corpus.compressed.test.ts. Nothing in node_modules can encode zstd, so these few small files are
# made once here and committed; the tests rebuild the inputs from the same corpus files and compare.
#
# Needs bash, coreutils and the zstd CLI (Debian: apt-get install zstd). Deletes and rewrites the whole
# folder, README.md included (the README lists every file, the exact command and the input).
# Run it again after adding, removing or changing a log file under test/fixtures/corpus.
#
#   scripts/makeCompressedFixtures.sh
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CORPUS=$ROOT/test/fixtures/corpus
OUT=$ROOT/test/fixtures/compressed
# Copies of the corpus concatenation in corpus-x60: enough for several 128 KiB blocks, more than 1 MiB
# (the size tests) and three 512 KiB multi-threading jobs. decompress.test.ts has the same number.
REPEAT=60
# Where the three frames of the concatenated file are cut (byte offsets in corpus-x60; both mid-line).
CUT1=500001
CUT2=1100003
# Prefix sizes around the decoder's 128 KiB output step (decompress.test.ts has the same list).
PREFIXES=(0 1 131071 131072 131073 262144 1048576 1048577)

command -v zstd >/dev/null || { echo "makeCompressedFixtures: the zstd CLI is needed (apt-get install zstd)" >&2; exit 1; }
ZSTD_VERSION=$(zstd --version)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The corpus's log files, as the tests find them: every file under test/fixtures/corpus except
# documentation and expected output (*.md, *.jsonl, *.yaml), paths relative to it, sorted bytewise.
mapfile -t FILES < <(cd "$CORPUS" && find . -type f ! -name '*.md' ! -name '*.jsonl' ! -name '*.yaml' -printf '%P\n' | LC_ALL=C sort)
[ "${#FILES[@]}" -gt 0 ] || { echo "makeCompressedFixtures: no log files under $CORPUS" >&2; exit 1; }

(cd "$CORPUS" && cat -- "${FILES[@]}") > "$TMP/corpus.cat"
for _ in $(seq "$REPEAT"); do cat "$TMP/corpus.cat"; done > "$TMP/corpus-x60"
X60_BYTES=$(wc -c < "$TMP/corpus-x60")
for cut in "$CUT1" "$CUT2"; do
  [ "$(head -c "$cut" "$TMP/corpus-x60" | tail -c 1 | od -An -tx1 | tr -d ' ')" != 0a ] ||
    { echo "makeCompressedFixtures: cut $cut falls at a line end; pick another" >&2; exit 1; }
done
[ "$X60_BYTES" -gt "$CUT2" ] && [ "$X60_BYTES" -gt "${PREFIXES[-1]}" ] ||
  { echo "makeCompressedFixtures: corpus-x60 is only $X60_BYTES bytes" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/corpus"

README_TOP=()
# fixture NAME INPUT-DESCRIPTION COMMAND: runs COMMAND with bash in $TMP (where corpus-x60 is), its
# stdout becoming $OUT/NAME, and notes it for the README.
fixture() {
  local name=$1 input=$2 cmd=$3
  (cd "$TMP" && bash -c "set -euo pipefail; $cmd") > "$OUT/$name"
  README_TOP+=("- \`$name\` ($(wc -c < "$OUT/$name") bytes). Input: $input." "" '  ```sh' "  $cmd" '  ```' "")
}

X60="corpus-x60 ($X60_BYTES bytes)"
for level in 1 3 19; do
  fixture "corpus-x60.level$level.stream-size.zst" "$X60; one frame with content size and checksum" \
    "zstd -q -c -$level --stream-size=$X60_BYTES < corpus-x60"
done
fixture corpus-x60.pipe.zst "$X60; from a pipe: one frame, no content size, checksum" \
  "cat corpus-x60 | zstd -q -c"
fixture corpus-x60.pipe.long27.zst "$X60; from a pipe, long mode: window 2^27 = 128 MiB in the header (the largest the reader takes)" \
  "cat corpus-x60 | zstd -q -c --long=27"
fixture corpus-x60.pipe.T2-B524288.zst "$X60; from a pipe, two threads, 512 KiB jobs (libzstd's smallest job size: -B262144 is raised to it and writes the same bytes), so three jobs" \
  "cat corpus-x60 | zstd -q -c -T2 -B524288"
fixture "corpus-x60.3-frames.cut-$CUT1-$CUT2.zst" "$X60 cut mid-line at bytes $CUT1 and $CUT2 into three pieces, each compressed from a pipe with other options (level 3 with checksum; --no-check; -12), then concatenated as \`cat a.zst b.zst c.zst\`" \
  "{ head -c $CUT1 corpus-x60 | zstd -q -c; head -c $CUT2 corpus-x60 | tail -c +$((CUT1 + 1)) | zstd -q -c --no-check; tail -c +$((CUT2 + 1)) corpus-x60 | zstd -q -c -12; }"
for size in "${PREFIXES[@]}"; do
  fixture "corpus-x60.first-$size.pipe.zst" "the first $size bytes of corpus-x60, from a pipe ($([ "$size" = 0 ] && echo 'no data: libzstd writes content size 0 even so' || echo 'no content size'); checksum)" \
    "head -c $size corpus-x60 | zstd -q -c"
done

CORPUS_ROWS=()
for rel in "${FILES[@]}"; do
  n=$(wc -c < "$CORPUS/$rel")
  h=$((n / 2))
  mkdir -p "$(dirname "$OUT/corpus/$rel")"
  (cd "$CORPUS" && zstd -q -c -3 --stream-size="$n" < "$rel") > "$OUT/corpus/$rel.zst"
  (cd "$CORPUS" && { head -c "$h" "$rel" | zstd -q -c -3 --stream-size="$h"; tail -c +$((h + 1)) "$rel" | zstd -q -c -3 --stream-size=$((n - h)); }) > "$OUT/corpus/$rel.two-frames.zst"
  CORPUS_ROWS+=("| \`$rel\` | $n | $h | $(wc -c < "$OUT/corpus/$rel.zst") | $(wc -c < "$OUT/corpus/$rel.two-frames.zst") |")
done

{
  cat <<EOF
# Compressed fixtures (zstd)

Written by \`scripts/makeCompressedFixtures.sh\` (this README too: do not edit it by hand) with
\`$ZSTD_VERSION\` (Debian's \`zstd\` package). Nothing in node_modules can encode zstd (\`zstddec\`
only decodes), so these files are made once with the CLI and committed; the tests never run \`zstd\`.
They rebuild each input from the committed corpus files and compare the decompressed bytes with it, so
the fixtures must be regenerated after any change to a log file under \`test/fixtures/corpus\`:

\`\`\`sh
scripts/makeCompressedFixtures.sh
\`\`\`

Another zstd version may write other bytes; any version must decode to the same input.

## Inputs

Made from the licence-permitted log lines in \`test/fixtures/corpus\` (origin and licences in its
README.md; these compressed copies carry the same licences). Nothing here is generated data.

- **corpus.cat** ($(wc -c < "$TMP/corpus.cat") bytes, sha256 \`$(sha256sum < "$TMP/corpus.cat" | cut -d' ' -f1)\`): every file under
  \`test/fixtures/corpus\` except \`*.md\`, \`*.jsonl\` and \`*.yaml\`, concatenated as they are (no separator)
  in the bytewise order of their paths relative to that folder (\`LC_ALL=C sort\`):
EOF
  i=0
  for rel in "${FILES[@]}"; do i=$((i + 1)); echo "  $i. \`$rel\` ($(wc -c < "$CORPUS/$rel") bytes)"; done
  cat <<EOF
- **corpus-x60** ($X60_BYTES bytes, sha256 \`$(sha256sum < "$TMP/corpus-x60" | cut -d' ' -f1)\`): corpus.cat $REPEAT times over,
  so that it spans many 128 KiB blocks, passes 1 MiB and makes three 512 KiB multi-threading jobs.

## Files from corpus-x60 (\`test/decompress.test.ts\`)

Each command ran in a folder holding corpus-x60; its standard output is the file.

EOF
  printf '%s\n' "${README_TOP[@]}"
  cat <<'EOF'
## One copy per corpus file (`test/corpus.compressed.test.ts`)

For each log file `$f` of `test/fixtures/corpus` (as above), of `$n` bytes, with `$h` = `$n / 2` rounded
down (the split is usually inside a line), two files under `corpus/`, each command run in
`test/fixtures/corpus`:

```sh
zstd -q -c -3 --stream-size=$n < "$f" > ../compressed/corpus/$f.zst
{ head -c $h "$f" | zstd -q -c -3 --stream-size=$h; tail -c +$((h + 1)) "$f" | zstd -q -c -3 --stream-size=$((n - h)); } > ../compressed/corpus/$f.two-frames.zst
```

`.zst` is one frame with content size and checksum; `.two-frames.zst` is two such frames, as
`cat a.zst b.zst` of the two halves.

| `$f` | `$n` | `$h` | `.zst` bytes | `.two-frames.zst` bytes |
|---|---|---|---|---|
EOF
  printf '%s\n' "${CORPUS_ROWS[@]}"
} > "$OUT/README.md"

echo "makeCompressedFixtures: wrote $(find "$OUT" -type f | wc -l) files, $(find "$OUT" -type f -name '*.zst' -exec cat {} + | wc -c) bytes of zstd, into ${OUT#"$ROOT"/} ($ZSTD_VERSION)"
