"""Which encoding a delivered CSV is in, which bytes of it do not decode, and whether the text is plausible.

Detection (no ``--encoding``):

1. a UTF-8 byte-order mark means ``utf-8-sig``; a UTF-16 one is refused;
2. otherwise the whole file is decoded as UTF-8, and if that meets bad bytes, as GB18030 (GBK and
   GB2312 exports are subsets of it);
3. an encoding is *acceptable* when it leaves at most ``max(10, lines // 1000)`` bad byte sequences
   and, for GB18030, the text is plausible Chinese (below); the acceptable one with the fewest bad
   sequences wins (UTF-8 on a tie). None acceptable: the file is refused, with the first bad offset
   and a hint to pass ``--encoding``.

With ``--encoding NAME`` that encoding is used as given (no plausibility judgement), with the same
tolerance for bad sequences. Either way the bad sequences are returned with their byte offsets: the
CSV reader rejects the records that hold them (row and offset named) and loads the rest.

**Plausibility of GB18030 text.** Text in a single-byte encoding (Latin-1 / cp1252, KOI8-R, ...)
often decodes as GB18030 without a single error, because GB18030 gives almost every pair of high
bytes a meaning. What comes out is not Chinese anyone writes. Over a sample of the decoded text (the
first 64 Ki characters of every 16 MiB piece, at most 1 Mi characters) two measures are taken; the
text is implausible if either fails:

- *rare share*: non-ASCII characters that are neither GB2312 characters (the 6,763 hanzi and the
  symbols of the 1980 national standard, which cover everyday Chinese) nor CJK / full-width
  punctuation, over all non-ASCII characters. Latin-1 letters followed by ASCII letters land in
  GBK's extension rows (rare ideographs): "Müller" becomes "M黮ler", 86% rare in our test text;
  real exports stay under a few percent. Fails above ``RARE_MAX`` (25%) once there are at least 4
  non-ASCII characters.
- *mess ratio*: charset-normalizer's ``mess_ratio`` of the decoded sample (pinned; it scores
  suspicious character sequences such as ideographs mixed into Latin words, or ideographs cut by
  ASCII spaces the way Cyrillic words are). Measured: generated complaint exports 0.00, a file of
  names and company names only 0.03, KOI8-R Russian 0.13, Latin-1 German 0.28. Fails above
  ``MESS_MAX`` (0.10). KOI8-R pairs land inside GB2312 (so the rare share misses them); this catches them.

The byte structure the CSV reader and the record counter rely on (``"``, ``,``, CR, LF) must mean
the same in every encoding read: :func:`check_encoding` admits only encodings in which those ASCII
bytes never occur inside a multi-byte character (UTF-8, the GB/Big5/Shift-JIS/EUC families, and
single-byte ASCII-based code pages).
"""
from __future__ import annotations

import codecs
import functools
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.errors import IngestError

CHUNK = 1 << 24  # 16 MiB: decoding / transcoding stream in pieces of about this size
MAX_BAD_LISTED = 200  # bad sequences remembered with their offsets
RARE_MAX = 0.25
MESS_MAX = 0.10
SAMPLE_CHARS = 1 << 16  # per piece
SAMPLE_MAX = 1 << 20

# Multi-byte encodings whose trail bytes never take an ASCII value that matters to CSV structure.
_ASCII_SAFE_MULTIBYTE = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950",
                         "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949"}
_SURROGATES = re.compile("[\udc80-\udcff]+")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_PUNCT_BLOCKS = ((0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x00B7, 0x00B7), (0x00D7, 0x00D7))


def canonical_name(encoding: str) -> str:
    return codecs.lookup(encoding).name  # "utf-8", "utf-8-sig", "gb18030", "iso8859-1", ...


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, if the CSV reader can read it; ``ValueError`` saying why not."""
    try:
        name = canonical_name(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    if name not in _ASCII_SAFE_MULTIBYTE and not _single_byte_ascii(name):
        raise ValueError(f"encoding {encoding!r} is not read (CSV must be UTF-8, GB18030/GBK, or an ASCII-based "
                         "single-byte code page such as latin-1, cp1252, koi8-r)")
    return name


@functools.cache
def _single_byte_ascii(name: str) -> bool:
    """Every byte decodes on its own to one character, the ASCII bytes to themselves, and the same
    whatever bytes come before it: no shift state (ISO-2022's escape sequences, HZ's ``~{``, UTF-7's
    ``+``), which would let ``"`` and ``,`` occur inside a character."""
    try:
        table = [bytes([b]).decode(name, "replace") for b in range(256)]
    except LookupError:  # a bytes-to-bytes codec (hex, base64, ...)
        return False
    if [len(ch) for ch in table] != [1] * 256 or "".join(table[:128]) != "".join(map(chr, range(128))):
        return False
    # ESC followed by every byte pair: a shift sequence (``ESC $ B``, ``~{``) decodes to no character
    probe = b"".join(bytes([0x1B, x, y]) for x in range(256) for y in range(256))
    return probe.decode(name, "replace") == "".join(table[b] for b in probe)


@dataclass
class Plausibility:
    non_ascii: int = 0
    rare: int = 0
    sample: list[str] = field(default_factory=list)
    sampled: int = 0

    def add(self, text: str) -> None:
        text = _SURROGATES.sub("", text)  # undecodable bytes are counted elsewhere
        if self.sampled < SAMPLE_MAX:
            self.sample.append(text[:SAMPLE_MAX - self.sampled])
            self.sampled += len(self.sample[-1])
        for ch, n in Counter(_NON_ASCII.findall(text)).items():
            self.non_ascii += n
            cp = ord(ch)
            if not (_in_gb2312(ch) or any(lo <= cp <= hi for lo, hi in _PUNCT_BLOCKS)):
                self.rare += n

    @property
    def rare_share(self) -> float:
        return self.rare / self.non_ascii if self.non_ascii else 0.0

    def mess(self) -> float:
        from charset_normalizer.md import mess_ratio

        return mess_ratio("".join(self.sample), maximum_threshold=1.0) if self.non_ascii else 0.0

    def verdict(self) -> str | None:
        """None when plausible, else why not."""
        if self.non_ascii >= 4 and self.rare_share > RARE_MAX:
            return (f"{self.rare_share:.0%} of its non-ASCII characters are rare ideographs or symbols "
                    f"(Chinese text: a few percent)")
        if (mess := self.mess()) > MESS_MAX:
            return f"its characters read as noise (charset-normalizer mess ratio {mess:.2f}; Chinese text under 0.05)"
        return None


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


@dataclass
class DecodeScan:
    encoding: str
    bad: list[tuple[int, bytes]] = field(default_factory=list)  # (byte offset, the bad bytes), first few
    bad_count: int = 0
    plausibility: Plausibility | None = None


@dataclass
class EncodingReport:
    """The encoding a CSV is read in, and the byte sequences that do not decode in it."""
    encoding: str
    bad: list[tuple[int, bytes]] = field(default_factory=list)
    bad_count: int = 0
    forced: bool = False

    def __str__(self) -> str:
        return self.encoding


def _pieces(path: Path):
    """(offset, bytes) pieces of about CHUNK bytes, cut after a LF so no character is split (LF never
    occurs inside a character in the encodings read, see :func:`check_encoding`)."""
    with open(path, "rb") as f:
        offset, carry = 0, b""
        while block := f.read(CHUNK):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < 4 * CHUNK:
                carry = data
                continue
            cut = cut or len(data)
            yield offset, data[:cut]
            offset += cut
            carry = data[cut:]
        if carry:
            yield offset, carry


def scan_decode(path: Path, encoding: str, sample: bool = False) -> DecodeScan:
    """Decode the file; count the bad byte sequences and note where the first are."""
    # A UTF-8 BOM decodes as U+FEFF in UTF-8; "utf-8-sig" would drop it from the text, and add one
    # when the text before a bad sequence is encoded again to find its offset.
    decode_as = "utf-8" if encoding == "utf-8-sig" else encoding
    # The usual case first, as fast as decoding gets: strict, block by block, no copies.
    scan = DecodeScan(encoding, plausibility=Plausibility() if sample else None)
    decoder = codecs.getincrementaldecoder(decode_as)("strict")
    try:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                text = decoder.decode(block)
                if scan.plausibility is not None:
                    scan.plausibility.add(text[:SAMPLE_CHARS])
            decoder.decode(b"", final=True)
        return scan
    except UnicodeDecodeError:
        pass
    # Bad bytes: again, in pieces cut at line ends, to find and count them.
    scan = DecodeScan(encoding, plausibility=Plausibility() if sample else None)
    for offset, piece in _pieces(path):
        try:
            text = piece.decode(decode_as)
        except UnicodeDecodeError:
            text = piece.decode(decode_as, "surrogateescape")
            for m in _SURROGATES.finditer(text):
                scan.bad_count += 1
                if len(scan.bad) < MAX_BAD_LISTED:
                    at = offset + len(text[:m.start()].encode(decode_as, "surrogateescape"))
                    scan.bad.append((at, m.group().encode(decode_as, "surrogateescape")))
        if scan.plausibility is not None:
            scan.plausibility.add(text[:SAMPLE_CHARS])
    return scan


def _tolerance(path: Path) -> int:
    lines = 0
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            lines += block.count(b"\n")
    return max(10, lines // 1000)


def _where(scan: DecodeScan) -> str:
    at, seq = scan.bad[0]
    return f"{scan.bad_count} bad byte sequence(s), the first at byte offset {at} ({seq[:4].hex(' ')})"


def detect_encoding(path: Path, forced: str | None = None) -> EncodingReport:
    """The encoding to read ``path`` in (see module docstring); ``IngestError`` if there is none."""
    path = Path(path)
    if forced:
        try:
            name = check_encoding(forced)
        except ValueError as e:
            raise IngestError(path, f"--encoding: {e}") from None
        scan = scan_decode(path, name)
        if scan.bad_count and scan.bad_count > _tolerance(path):
            raise IngestError(path, f"not valid {name} (check --encoding): {_where(scan)}")
        return EncodingReport(name, scan.bad, scan.bad_count, forced=True)

    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError(path, "UTF-16 files are not supported; export as UTF-8 or GB18030")
    if head.startswith(codecs.BOM_UTF8):
        scans = [scan_decode(path, "utf-8-sig")]
    else:
        scans = [scan_decode(path, "utf-8")]
        if scans[0].bad_count:
            scans.append(scan_decode(path, "gb18030", sample=True))
    if not scans[0].bad_count:
        return EncodingReport(scans[0].encoding)
    tolerance = _tolerance(path)
    implausible = {s.encoding: s.plausibility.verdict() for s in scans if s.plausibility is not None}
    acceptable = [s for s in scans if s.bad_count <= tolerance and not implausible.get(s.encoding)]
    if acceptable:
        best = min(acceptable, key=lambda s: s.bad_count)  # stable: UTF-8 first on a tie
        return EncodingReport(best.encoding, best.bad, best.bad_count)
    gb = scans[-1]
    if gb.encoding == "gb18030" and gb.bad_count <= tolerance and implausible.get("gb18030"):
        raise IngestError(path, f"another encoding? pass --encoding NAME (e.g. cp1252, koi8-r): the "
                                f"file decodes as GB18030 but {implausible['gb18030']}")
    raise IngestError(path, f"not UTF-8 nor GB18030: pass --encoding NAME or re-export as UTF-8; as UTF-8 {_where(scans[0])}")


def transcode_to_utf8(path: Path, encoding: str, target_dir: Path, unify_newlines: bool = False) -> Path:
    """Stream a file into a UTF-8 temp file in ``target_dir`` (mode 0600, from mkstemp): DuckDB's CSV
    reader reads UTF-8 only without the encodings extension, which cannot be downloaded here.
    Optionally turn CRLF / CR into LF."""
    fd, name = tempfile.mkstemp(suffix=".csv", dir=target_dir)
    out = Path(name)
    with open(path, encoding=str(encoding), newline=None if unify_newlines else "") as src, \
            open(fd, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(CHUNK):
            dst.write(block)
    return out
