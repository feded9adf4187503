// LevelDB's on-disk formats read in JavaScript: CRC32C of every table block and log record, CURRENT → MANIFEST → live tables.
//
// Why here and not in LevelDB: classic-level 3 opens LevelDB with paranoid_checks off and reads with
// verify_checksums off, and exposes neither. Unverified, a flipped byte in a table block reaches LevelDB's block
// parser, which aborts the process on an assertion; a bad log record is silently dropped with the rest of its
// 32 KiB block. Patching binding.cc builds in ~15 s here, but a patched addon exists only where our setup script ran:
// `npm install secretslite` gets the unpatched prebuilt, so the guarantee would depend on how it was installed.
// These formats are fixed and documented (doc/table_format.md, doc/log_format.md in LevelDB's source), so every
// byte LevelDB will read at open and after is checked here, before any native code sees it (docs/reliability.md).
import { closeSync, openSync, readSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const CRC_TABLE = (() => {
  const table = new Int32Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c;
  }
  // Slicing by four: about 4× the byte-at-a-time speed in V8.
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 4; s++) table[s * 256 + i] = (table[(s - 1) * 256 + i]! >>> 8) ^ table[table[(s - 1) * 256 + i]! & 0xff]!;
  }
  return table;
})();

/** CRC32C (Castagnoli) of `parts` taken as one byte string, as LevelDB computes it. */
export function crc32c(...parts: Uint8Array[]): number {
  let c = -1;
  const t = CRC_TABLE;
  for (const bytes of parts) {
    let i = 0;
    const n = bytes.length;
    for (; i + 4 <= n; i += 4) {
      c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
      c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[(c >>> 24) & 0xff]!;
    }
    for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/** LevelDB stores CRCs masked, so a CRC of data holding CRCs is not degenerate. */
export const maskCrc = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** Where a file is damaged and how; `offset` is a byte offset in it. */
export interface Damage {
  readonly file: string;
  readonly cause: string;
  /** True when records stored in the file are lost (a table block, a log record), false for metadata only. */
  readonly dataLost: boolean;
}

class FormatError extends Error {}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new FormatError("varint runs past the end");
      const byte = this.bytes[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new FormatError("varint longer than 10 bytes");
  }
  slice(length: number): Uint8Array {
    if (length > this.end - this.pos) throw new FormatError("length runs past the end");
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  lengthPrefixed(): Uint8Array {
    return this.slice(this.varint());
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
}

const u32 = (bytes: Uint8Array, at: number): number => (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;

// ---- Tables: blocks, each followed by a 5-byte trailer (compression type, masked CRC32C of block + type).

const FOOTER_BYTES = 48;
const BLOCK_TRAILER = 5;

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** One table block's entries (key, value); restart points are not needed to walk them in order. */
export function blockEntries(block: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  if (block.length < 4) throw new FormatError("block shorter than its restart count");
  const restarts = u32(block, block.length - 4);
  const limit = block.length - 4 - 4 * restarts;
  if (restarts < 1 || limit < 0) throw new FormatError("bad restart count");
  const reader = new Reader(block, limit);
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  let previous: Uint8Array = new Uint8Array(0);
  while (!reader.done) {
    const shared = reader.varint();
    const unshared = reader.varint();
    const valueLength = reader.varint();
    if (shared > previous.length) throw new FormatError("entry shares more than the previous key");
    const key = new Uint8Array(shared + unshared);
    key.set(previous.subarray(0, shared));
    key.set(reader.slice(unshared), shared);
    entries.push([key, reader.slice(valueLength)]);
    previous = key;
  }
  return entries;
}

/**
 * Snappy decompression (LevelDB's block type 1). secretslite writes uncompressed tables, but LevelDB's RepairDB
 * (which takes no options through classic-level) writes Snappy ones, keeping a block compressed when that saves an
 * eighth: index blocks do.
 */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  const reader = new Reader(input);
  const length = reader.varint();
  if (length > 64 * 1024 * 1024) throw new FormatError("uncompressed length out of range");
  const out = new Uint8Array(length);
  let at = 0;
  let pos = reader.pos;
  while (pos < input.length) {
    const tag = input[pos++]!;
    let len: number;
    let offset = 0;
    switch (tag & 3) {
      case 0: {
        len = (tag >>> 2) + 1;
        if (len > 60) {
          const extra = len - 60;
          if (pos + extra > input.length) throw new FormatError("literal length runs past the end");
          len = 0;
          for (let i = 0; i < extra; i++) len += input[pos + i]! * 2 ** (8 * i);
          len += 1;
          pos += extra;
        }
        if (pos + len > input.length || at + len > length) throw new FormatError("literal runs past the end");
        out.set(input.subarray(pos, pos + len), at);
        pos += len;
        at += len;
        continue;
      }
      case 1:
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | (input[pos++] ?? 0);
        break;
      case 2:
        len = (tag >>> 2) + 1;
        offset = (input[pos] ?? 0) | ((input[pos + 1] ?? 0) << 8);
        pos += 2;
        break;
      default:
        len = (tag >>> 2) + 1;
        offset = u32(input, pos);
        pos += 4;
    }
    if (pos > input.length || offset === 0 || offset > at || at + len > length) throw new FormatError("copy out of range");
    for (let i = 0; i < len; i++, at++) out[at] = out[at - offset]!;
  }
  if (at !== length) throw new FormatError("uncompressed length does not match");
  return out;
}

/** A block's contents: stored as is (type 0) or Snappy-compressed (type 1). */
const blockContents = (block: { block: Uint8Array; type: number }): Uint8Array => {
  if (block.type === 0) return block.block;
  if (block.type === 1) return snappyUncompress(block.block);
  throw new FormatError(`unknown block compression type ${block.type}`);
};

const blockHandle = (value: Uint8Array): BlockHandle => {
  const reader = new Reader(value);
  return { offset: reader.varint(), size: reader.varint() };
};

/** The block at `handle` after checking its trailer's CRC, or why it cannot be trusted. */
function readBlock(file: Uint8Array, handle: BlockHandle, what: string): { block: Uint8Array; type: number } | string {
  if (handle.offset + handle.size + BLOCK_TRAILER > file.length) {
    return `${what} at offset ${handle.offset} (${handle.size} bytes) runs past the end of the file (${file.length} bytes): the file is truncated`;
  }
  const block = file.subarray(handle.offset, handle.offset + handle.size);
  const type = file[handle.offset + handle.size]!;
  const stored = u32(file, handle.offset + handle.size + 1);
  if (maskCrc(crc32c(block, Uint8Array.of(type))) !== stored) return `${what} at offset ${handle.offset} (${handle.size} bytes) fails its CRC32C checksum: bytes changed on disk`;
  return { block, type };
}

export interface TableCheck {
  /** Data blocks whose checksum holds, in order, with their last internal key (for salvage). */
  readonly goodBlocks: Array<{ handle: BlockHandle; lastKey: Uint8Array }>;
  readonly badBlocks: number;
  /** The first problem, undefined for a sound table. */
  readonly problem: string | undefined;
}

/** Checks every block of one table file (data, filter, metaindex, index) and its footer. */
export function checkTable(file: Uint8Array): TableCheck {
  const goodBlocks: Array<{ handle: BlockHandle; lastKey: Uint8Array }> = [];
  if (file.length < FOOTER_BYTES) return { goodBlocks, badBlocks: 0, problem: `only ${file.length} bytes, shorter than a table's footer: the file is truncated` };
  const footer = file.subarray(file.length - FOOTER_BYTES);
  if (u32(footer, 40) !== 0x8b80fb57 || u32(footer, 44) !== 0xdb477524) {
    return { goodBlocks, badBlocks: 0, problem: "its last 8 bytes are not LevelDB's table magic number: the file is truncated or overwritten" };
  }
  let metaindex: BlockHandle;
  let index: BlockHandle;
  try {
    const reader = new Reader(footer, 40);
    metaindex = { offset: reader.varint(), size: reader.varint() };
    index = { offset: reader.varint(), size: reader.varint() };
  } catch {
    return { goodBlocks, badBlocks: 0, problem: "its footer does not decode: the file is damaged" };
  }
  const indexBlock = readBlock(file, index, "the index block");
  if (typeof indexBlock === "string") return { goodBlocks, badBlocks: 0, problem: indexBlock };
  let problem: string | undefined;
  let badBlocks = 0;
  const metaBlock = readBlock(file, metaindex, "the metaindex block");
  if (typeof metaBlock === "string") problem = metaBlock;
  else {
    try {
      for (const [, value] of blockEntries(blockContents(metaBlock))) {
        const filter = readBlock(file, blockHandle(value), "the filter block");
        if (typeof filter === "string") problem ??= filter;
      }
    } catch (error) {
      problem ??= `the metaindex block does not decode (${(error as Error).message})`;
    }
  }
  let entries: Array<[Uint8Array, Uint8Array]>;
  try {
    entries = blockEntries(blockContents(indexBlock));
  } catch (error) {
    return { goodBlocks, badBlocks, problem: `the index block does not decode (${(error as Error).message})` };
  }
  for (const [, value] of entries) {
    let handle: BlockHandle;
    try {
      handle = blockHandle(value);
    } catch {
      return { goodBlocks, badBlocks: badBlocks + 1, problem: problem ?? "an index entry does not decode" };
    }
    const data = readBlock(file, handle, "a data block");
    if (typeof data === "string") {
      badBlocks++;
      problem ??= data;
      continue;
    }
    let lastKey: Uint8Array | undefined;
    try {
      const blockKeys = blockEntries(blockContents(data));
      lastKey = blockKeys[blockKeys.length - 1]?.[0];
    } catch (error) {
      badBlocks++;
      problem ??= `a data block at offset ${handle.offset} has a valid checksum but does not decode (${(error as Error).message})`;
      continue;
    }
    if (lastKey !== undefined) goodBlocks.push({ handle, lastKey });
  }
  return { goodBlocks, badBlocks, problem };
}

// ---- Logs (the write-ahead log and the MANIFEST): 32 KiB blocks of records, each with a 7-byte header.

const LOG_BLOCK = 32768;
const LOG_HEADER = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

export interface LogCheck {
  /** Complete logical records, in order. */
  readonly records: Uint8Array[];
  /** A record cut short at the end of the file: a write that never completed (a crash), or a truncated file. */
  readonly tornTail: string | undefined;
  /** A damaged record before the end: LevelDB would drop it, and the rest of its block, without failing. */
  readonly problem: string | undefined;
}

export function checkLog(file: Uint8Array): LogCheck {
  const records: Uint8Array[] = [];
  let fragments: Uint8Array[] | undefined;
  let fragmentStart = 0;
  let pos = 0;
  const allZeroFrom = (at: number): boolean => {
    for (let i = at; i < file.length; i++) if (file[i] !== 0) return false;
    return true;
  };
  while (pos < file.length) {
    const leftInBlock = LOG_BLOCK - (pos % LOG_BLOCK);
    if (leftInBlock < LOG_HEADER) {
      // The writer pads a block's last 1-6 bytes with zeros when it starts the next record.
      if (pos + leftInBlock >= file.length) {
        return { records, tornTail: `the file ends ${file.length - pos} bytes into a record header at offset ${pos}`, problem: undefined };
      }
      pos += leftInBlock;
      continue;
    }
    if (pos + LOG_HEADER > file.length) {
      return { records, tornTail: `the file ends ${file.length - pos} bytes into a record header at offset ${pos}`, problem: undefined };
    }
    const length = file[pos + 4]! | (file[pos + 5]! << 8);
    const type = file[pos + 6]!;
    if (type === 0 && length === 0) {
      // Zeros: preallocated space a crash left unwritten, if nothing but zeros follows.
      if (allZeroFrom(pos)) return { records, tornTail: `zero bytes from offset ${pos} to the end (space never written)`, problem: undefined };
      return { records, tornTail: undefined, problem: `zero bytes at offset ${pos} followed by more records: LevelDB would skip the rest of that block` };
    }
    if (LOG_HEADER + length > leftInBlock) {
      if (pos + LOG_HEADER + length > file.length && pos + leftInBlock >= file.length) {
        return { records, tornTail: `the record at offset ${pos} needs ${length} bytes but the file ends after ${file.length - pos - LOG_HEADER}`, problem: undefined };
      }
      return { records, tornTail: undefined, problem: `the record at offset ${pos} claims ${length} bytes, more than its block holds (bad record length)` };
    }
    if (pos + LOG_HEADER + length > file.length) {
      return { records, tornTail: `the record at offset ${pos} needs ${length} bytes but the file ends after ${file.length - pos - LOG_HEADER}`, problem: undefined };
    }
    const payload = file.subarray(pos + LOG_HEADER, pos + LOG_HEADER + length);
    if (maskCrc(crc32c(Uint8Array.of(type), payload)) !== u32(file, pos)) {
      return { records, tornTail: undefined, problem: `the record at offset ${pos} (${length} bytes) fails its CRC32C checksum: bytes changed on disk` };
    }
    if (type === FULL || type === FIRST) {
      if (fragments !== undefined) return { records, tornTail: undefined, problem: `the record started at offset ${fragmentStart} has no end (partial record without end)` };
      if (type === FULL) records.push(payload);
      else {
        fragments = [payload];
        fragmentStart = pos;
      }
    } else if (type === MIDDLE || type === LAST) {
      if (fragments === undefined) return { records, tornTail: undefined, problem: `the record fragment at offset ${pos} has no start (missing start of fragmented record)` };
      fragments.push(payload);
      if (type === LAST) {
        records.push(Buffer.concat(fragments));
        fragments = undefined;
      }
    } else {
      return { records, tornTail: undefined, problem: `the record at offset ${pos} has unknown type ${type}` };
    }
    pos += LOG_HEADER + length;
  }
  if (fragments !== undefined) return { records, tornTail: `the record started at offset ${fragmentStart} was never finished`, problem: undefined };
  return { records, tornTail: undefined, problem: undefined };
}

/**
 * The whole records of a damaged log, read as LevelDB reads a log with checksums on: a record that fails its
 * checksum, or whose length is wrong, is dropped with the rest of its block (its length cannot be trusted), and so is
 * a logical record missing a fragment. LevelDB's RepairDB reads logs with checksums off, which would keep a flipped
 * record's garbage; repair.ts rewrites a damaged log from these first.
 */
export function salvageLog(file: Uint8Array): { records: Uint8Array[]; droppedBytes: number } {
  const records: Uint8Array[] = [];
  let fragments: Uint8Array[] | undefined;
  let droppedBytes = 0;
  let pos = 0;
  while (pos < file.length) {
    const blockEnd = Math.min(file.length, pos - (pos % LOG_BLOCK) + LOG_BLOCK);
    if (blockEnd - pos < LOG_HEADER) {
      pos = blockEnd;
      continue;
    }
    const length = file[pos + 4]! | (file[pos + 5]! << 8);
    const type = file[pos + 6]!;
    const end = pos + LOG_HEADER + length;
    const bad = end > blockEnd || maskCrc(crc32c(Uint8Array.of(type), file.subarray(pos + LOG_HEADER, end))) !== u32(file, pos) || type < FULL || type > LAST;
    if (bad) {
      droppedBytes += blockEnd - pos;
      fragments = undefined;
      pos = blockEnd;
      continue;
    }
    const payload = file.subarray(pos + LOG_HEADER, end);
    if (type === FULL) {
      if (fragments !== undefined) droppedBytes += fragments.reduce((n, f) => n + f.length, 0);
      fragments = undefined;
      records.push(payload);
    } else if (type === FIRST) {
      fragments = [payload];
    } else if (fragments === undefined) {
      droppedBytes += payload.length;
    } else {
      fragments.push(payload);
      if (type === LAST) {
        records.push(Buffer.concat(fragments));
        fragments = undefined;
      }
    }
    pos = end;
  }
  return { records, droppedBytes };
}

/** A log file holding `records`, framed as LevelDB's log writer frames them. */
export function writeLog(records: readonly Uint8Array[]): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (const record of records) {
    let left = record.length;
    let at = 0;
    let begin = true;
    do {
      const room = LOG_BLOCK - (offset % LOG_BLOCK);
      if (room < LOG_HEADER) {
        out.push(Buffer.alloc(room));
        offset += room;
        continue;
      }
      const fragment = Math.min(left, room - LOG_HEADER);
      const end = left === fragment;
      const type = begin && end ? FULL : begin ? FIRST : end ? LAST : MIDDLE;
      const payload = record.subarray(at, at + fragment);
      const header = Buffer.alloc(LOG_HEADER);
      header.writeUInt32LE(maskCrc(crc32c(Uint8Array.of(type), payload)), 0);
      header.writeUInt16LE(fragment, 4);
      header[6] = type;
      out.push(header, Buffer.from(payload));
      offset += LOG_HEADER + fragment;
      at += fragment;
      left -= fragment;
      begin = false;
    } while (left > 0);
  }
  return Buffer.concat(out);
}

// ---- The MANIFEST's version edits: which tables are live, and from which log on writes must be replayed.

export interface Manifest {
  /** Live table file number → its size in bytes. */
  readonly tables: Map<number, number>;
  readonly logNumber: number;
  readonly prevLogNumber: number;
}

export function decodeManifest(records: readonly Uint8Array[]): Manifest {
  const tables = new Map<number, number>();
  let logNumber = 0;
  let prevLogNumber = 0;
  for (const record of records) {
    const reader = new Reader(record);
    while (!reader.done) {
      const tag = reader.varint();
      switch (tag) {
        case 1: reader.lengthPrefixed(); break; // comparator name
        case 2: logNumber = reader.varint(); break;
        case 3: reader.varint(); break; // next file number
        case 4: reader.varint(); break; // last sequence
        case 5: reader.varint(); reader.lengthPrefixed(); break; // compaction pointer
        case 6: { reader.varint(); tables.delete(reader.varint()); break; }
        case 7: {
          reader.varint();
          const number = reader.varint();
          tables.set(number, reader.varint());
          reader.lengthPrefixed();
          reader.lengthPrefixed();
          break;
        }
        case 9: prevLogNumber = reader.varint(); break;
        default: throw new FormatError(`unknown version-edit tag ${tag}`);
      }
    }
  }
  return { tables, logNumber, prevLogNumber };
}

// ---- A whole database directory.

export interface DbFiles {
  readonly current: boolean;
  readonly manifests: string[];
  readonly tables: string[];
  readonly logs: string[];
}

export function listDbFiles(dbDir: string): DbFiles {
  let names: string[];
  try {
    names = readdirSync(dbDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") names = [];
    else throw error;
  }
  return {
    current: names.includes("CURRENT"),
    manifests: names.filter((name) => /^MANIFEST-\d+$/.test(name)),
    tables: names.filter((name) => /^\d+\.(ldb|sst)$/.test(name)),
    logs: names.filter((name) => /^\d+\.log$/.test(name)),
  };
}

/**
 * Whether the dir holds a database to keep. A MANIFEST alone is not one: a kill during LevelDB's very first open
 * (after it wrote MANIFEST-000001, before CURRENT) leaves exactly that, with no record anywhere, and LevelDB then
 * rightly makes the database anew.
 */
export const holdsDatabase = (files: DbFiles): boolean => files.current || files.tables.length > 0 || files.logs.length > 0;

export interface DbCheck {
  /** The first damage found; undefined when every file LevelDB will read is sound. */
  readonly damage: Damage | undefined;
  /** Every damaged file (repair reports all of them). */
  readonly damaged: Damage[];
  /** Torn tails: expected after a crash, a sign of truncation after a clean shutdown. */
  readonly tornTails: Array<{ file: string; cause: string }>;
  readonly tablesChecked: number;
  readonly bytesChecked: number;
}

const readWhole = (file: string): Buffer => {
  // readFileSync, but a short read (a file shrinking under us) shows as what it is.
  const size = statSync(file).size;
  const buffer = Buffer.alloc(size);
  const fd = openSync(file, "r");
  try {
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buffer, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
};

/** Checks what LevelDB will read when it opens `dbDir`: CURRENT, the MANIFEST it names, the live tables and logs. */
export function checkDbFiles(dbDir: string): DbCheck {
  const files = listDbFiles(dbDir);
  const damaged: Damage[] = [];
  const tornTails: Array<{ file: string; cause: string }> = [];
  let tablesChecked = 0;
  let bytesChecked = 0;
  const result = (): DbCheck => ({ damage: damaged[0], damaged, tornTails, tablesChecked, bytesChecked });
  const at = (name: string): string => path.join(dbDir, name);

  let manifest: Manifest | undefined;
  if (!files.current) {
    if (files.tables.length > 0 || files.logs.length > 0) {
      damaged.push({
        file: at("CURRENT"),
        cause: `is missing, yet the dir holds ${files.tables.length} table file(s) and ${files.logs.length} log(s): opening it would create an empty database and delete those tables`,
        dataLost: false,
      });
    }
  } else {
    const current = readFileSync(at("CURRENT"), "latin1");
    const named = /^(MANIFEST-\d+)\n$/.exec(current);
    if (named === null) {
      damaged.push({ file: at("CURRENT"), cause: `does not name a MANIFEST file (it holds ${JSON.stringify(current.slice(0, 40))})`, dataLost: false });
    } else if (!files.manifests.includes(named[1]!)) {
      damaged.push({ file: at("CURRENT"), cause: `names ${named[1]}, which is missing`, dataLost: false });
    } else {
      const bytes = readWhole(at(named[1]!));
      bytesChecked += bytes.length;
      const log = checkLog(bytes);
      if (log.problem !== undefined) damaged.push({ file: at(named[1]!), cause: log.problem, dataLost: false });
      else {
        if (log.tornTail !== undefined) tornTails.push({ file: at(named[1]!), cause: log.tornTail });
        try {
          manifest = decodeManifest(log.records);
        } catch (error) {
          damaged.push({ file: at(named[1]!), cause: `has a record that does not decode as a version edit (${(error as Error).message})`, dataLost: false });
        }
        if (manifest !== undefined && log.records.length === 0) {
          damaged.push({ file: at(named[1]!), cause: `holds no complete record (${log.tornTail ?? "it is empty"})`, dataLost: false });
          manifest = undefined;
        }
      }
    }
  }

  // Without a readable MANIFEST, check every table and log present: repair will read them all.
  const tableNames = manifest === undefined
    ? files.tables
    : [...manifest.tables.keys()].map((number) => {
        const base = String(number).padStart(6, "0");
        return files.tables.includes(`${base}.sst`) ? `${base}.sst` : `${base}.ldb`;
      });
  for (const name of tableNames) {
    let bytes: Buffer;
    try {
      bytes = readWhole(at(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      damaged.push({ file: at(name), cause: "is missing, yet the MANIFEST lists it as live", dataLost: true });
      continue;
    }
    tablesChecked++;
    bytesChecked += bytes.length;
    const expected = manifest?.tables.get(Number(name.slice(0, -4)));
    if (expected !== undefined && expected !== bytes.length) {
      damaged.push({ file: at(name), cause: `has ${bytes.length} bytes where the MANIFEST recorded ${expected}: the file was ${bytes.length < expected ? "truncated" : "extended"}`, dataLost: true });
      continue;
    }
    const table = checkTable(bytes);
    if (table.problem !== undefined) damaged.push({ file: at(name), cause: table.problem, dataLost: true });
  }
  const logNames = manifest === undefined
    ? files.logs
    : files.logs.filter((name) => {
        const number = Number(name.slice(0, -4));
        return number >= manifest!.logNumber || number === manifest!.prevLogNumber;
      });
  for (const name of logNames) {
    const bytes = readWhole(at(name));
    bytesChecked += bytes.length;
    const log = checkLog(bytes);
    if (log.problem !== undefined) damaged.push({ file: at(name), cause: log.problem, dataLost: true });
    else if (log.tornTail !== undefined) tornTails.push({ file: at(name), cause: log.tornTail });
  }
  return result();
}
