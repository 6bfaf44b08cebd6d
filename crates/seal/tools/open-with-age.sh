#!/bin/sh
# Opens one FieldPost sealed batch with standard tools only: coreutils, age (or rage) and zstd.
# No FieldPost needed; this is the escrow holder's way in (docs/escrow.md).
#
#   open-with-age.sh BATCH IDENTITY_FILE > payload.json
#
# It does NOT check the device signature (use `fieldpost archive open --device-key` for that).
# Layout (docs/sealed-batch.md): magic(8) version(2) header_len(4, big-endian) header
# ciphertext_len(8, big-endian) ciphertext(an age file) signature(64).
set -eu
batch=$1
key=$2
magic=$(head -c 10 "$batch" | od -An -tx1 | tr -d ' \n')
if [ "$magic" != "89465053420d0a1a0001" ]; then
    echo "$batch: not a FieldPost sealed batch of format version 1" >&2
    exit 1
fi
h=$(od -An -tu4 --endian=big -j 10 -N 4 "$batch" | tr -d ' ')
c=$(od -An -tu8 --endian=big -j $((14 + h)) -N 8 "$batch" | tr -d ' ')
# The ciphertext starts at byte offset 22 + h; tail counts from 1.
tail -c +$((23 + h)) "$batch" | head -c "$c" | age -d -i "$key" | zstd -d -q
