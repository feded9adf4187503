// `secretslite repair`: keeps the damaged files aside, salvages what checksums still vouch for, runs LevelDB's RepairDB, and says what was lost.
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ClassicLevel } from "classic-level";
import { blockEntries, checkDbFiles, checkTable, crc32c, holdsDatabase, listDbFiles, maskCrc, salvageLog, snappyUncompress, writeLog } from "./level-format";
import { readRunFile, runningServer, scanInChild } from "./data-dir-check";
import { recordKey, secretVersionId, type Partition } from "./keys";

export interface RepairReport {
  /** Where the damaged db was copied before anything changed. */
  readonly savedTo: string | undefined;
  /** Lines for the user, in order. */
  readonly lines: string[];
  /** True when something could not be recovered (the exit code is then nonzero). */
  readonly lost: boolean;
}

const SEP = "\x1f";

/**
 * Repairs `<dataDir>/db`. Never destroys evidence: the whole db dir is copied to `db.damaged-<time>` first.
 * Then each damaged table is rewritten from its blocks whose CRC32C still holds (LevelDB's RepairDB reads tables
 * without verifying checksums, so a flipped byte would abort it as it aborts a start), LevelDB's RepairDB rebuilds
 * the MANIFEST from the tables and logs, and a scan of the result lists what references records that are gone.
 */
export async function repairDataDir(dataDir: string, now = new Date()): Promise<RepairReport> {
  const lines: string[] = [];
  let lost = false;
  const dbDir = path.join(dataDir, "db");
  const server = runningServer(dataDir);
  if (server !== undefined) {
    throw new Error(`secretslite (pid ${server.pid}, ${server.url}) is running on ${dataDir}: stop it before repairing, or take a copy with \`secretslite backup DIR --data-dir ${dataDir}\``);
  }
  if (!holdsDatabase(listDbFiles(dbDir))) throw new Error(`${dbDir} holds no database to repair`);

  const run = readRunFile(dataDir);
  const before = checkDbFiles(dbDir);
  const savedTo = `${dbDir}.damaged-${now.toISOString().replace(/[:.]/g, "-")}`;
  cpSync(dbDir, savedTo, { recursive: true, errorOnExist: true, force: false });
  lines.push(`copied ${dbDir} to ${savedTo} before changing anything`);
  if (before.damaged.length === 0) lines.push("every file LevelDB reads passes its checksums");
  for (const damage of before.damaged) {
    lines.push(`damaged: ${damage.file} ${damage.cause}`);
    if (damage.dataLost) lost = true;
  }
  for (const tail of before.tornTails) {
    // After a crash the cut-short record is a write never acknowledged; after a clean close it is a truncation.
    lines.push(`${run === undefined ? "truncated (records after the cut are lost)" : "cut short by a crash (an unacknowledged write)"}: ${tail.file} ${tail.cause}`);
    if (run === undefined) lost = true;
  }

  for (const damage of before.damaged) {
    if (!/\.(ldb|sst)$/.test(damage.file) || !existsSync(damage.file)) continue;
    const salvage = salvageTable(readFileSync(damage.file));
    if (salvage.blocks === 0) {
      rmSync(damage.file);
      lines.push(`lost: ${path.basename(damage.file)}: no block of it can be trusted; removed (the copy keeps it)`);
    } else {
      writeFileSync(damage.file, salvage.table);
      lines.push(`salvaged ${path.basename(damage.file)}: kept ${salvage.blocks} data block(s) (${salvage.records} records) whose checksums hold${salvage.dropped > 0 ? `, dropped ${salvage.dropped}` : ""}`);
    }
  }

  for (const damage of before.damaged) {
    if (!/\.log$/.test(damage.file) || !existsSync(damage.file)) continue;
    const salvage = salvageLog(readFileSync(damage.file));
    writeFileSync(damage.file, writeLog(salvage.records));
    lines.push(`salvaged ${path.basename(damage.file)}: kept ${salvage.records.length} whole write(s) whose checksums hold, dropped ${salvage.droppedBytes} bytes`);
  }

  const repaired = await scanInChild(dbDir, "repair");
  if (repaired.kind === "stopped") throw new Error(`the repair of ${dbDir} was stopped by ${repaired.signal} before it finished; run it again (the files as found are in ${savedTo})`);
  if (repaired.kind === "signal") throw new Error(`LevelDB aborted (${repaired.signal}) while repairing ${dbDir} (${repaired.detail}); the damaged files are in ${savedTo}`);
  if (repaired.kind === "open") throw new Error(`LevelDB could not repair ${dbDir}: ${repaired.error.message}; the damaged files are in ${savedTo}`);
  if (repaired.kind !== "ok") throw new Error(`after repair ${dbDir} still holds a bad record (${JSON.stringify(repaired)}); the damaged files are in ${savedTo}`);
  for (const line of repairLog(dbDir)) {
    lines.push(`LevelDB: ${line}`);
    if (/drop|Corruption|ignoring/i.test(line)) lost = true;
  }
  // RepairDB always archives the old MANIFESTs and the logs it turned into tables in lost/; a table there was unreadable.
  const lostDir = path.join(dbDir, "lost");
  const lostTables = existsSync(lostDir) ? readdirSync(lostDir).filter((name) => /\.(ldb|sst)$/.test(name)) : [];
  if (lostTables.length > 0) {
    lines.push(`LevelDB could not read ${lostTables.join(", ")} and moved them to ${lostDir}`);
    lost = true;
  }
  const dangling = await danglingReferences(dbDir);
  lines.push(`recovered ${repaired.records} records: ${Object.entries(repaired.byKind).map(([kind, n]) => `${n} ${kind}`).join(", ")}`);
  for (const line of dangling) lines.push(`unrecoverable: ${line}`);
  if (dangling.length > 0) lost = true;
  lines.push(lost ? "some data could not be recovered (see above); the damaged files stay in " + savedTo : "nothing was lost");
  return { savedTo, lines, lost };
}

/** The lines of LevelDB's repair diary (db/LOG) that say what it found and dropped. */
function repairLog(dbDir: string): string[] {
  try {
    return readFileSync(path.join(dbDir, "LOG"), "utf8")
      .split("\n")
      .map((line) => line.replace(/^\S+ \S+ /, "").trim())
      .filter((line) => /Log #|Table #|Archiving|drop|Corruption|ignoring|Repair/i.test(line));
  } catch {
    return [];
  }
}

/** Records that point at records the repair could not bring back, one line per kind of loss with up to 10 names. */
async function danglingReferences(dbDir: string): Promise<string[]> {
  const found = new Map<string, string[]>();
  for (const line of await danglingRecords(dbDir)) {
    const list = found.get(line.what) ?? [];
    list.push(line.name);
    found.set(line.what, list);
  }
  return [...found].map(([what, names]) => `${names.length} ${what}: ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", …" : ""}`);
}

async function danglingRecords(dbDir: string): Promise<Array<{ what: string; name: string }>> {
  const db = new ClassicLevel<string, Record<string, unknown>>(dbDir, { createIfMissing: false, compression: false, valueEncoding: "json" });
  await db.open();
  const found: Array<{ what: string; name: string }> = [];
  const keys = new Set<string>();
  const records: Array<[string, Record<string, unknown>]> = [];
  try {
    for await (const [key, value] of db.iterator()) {
      keys.add(key);
      records.push([key, value]);
    }
  } finally {
    await db.close();
  }
  const lostKeys = new Map<string, number>();
  for (const [key, value] of records) {
    const [account = "", region = "", , kind = "", ...rest] = key.split(SEP);
    const scope: Partition = { account, region };
    const id = rest.join(SEP);
    if (kind === "secret") {
      for (const versionId of Object.keys((value.versions as Record<string, unknown> | undefined) ?? {})) {
        if (!keys.has(recordKey(scope, "secretsmanager", "secret-version", secretVersionId(id, versionId)))) {
          found.push({ what: "secret versions are gone (their secret remains; GetSecretValue of them fails)", name: `${id}@${versionId} (${account} ${region})` });
        }
      }
    } else if (kind === "secret-version") {
      const [name = ""] = id.split(SEP);
      if (!keys.has(recordKey(scope, "secretsmanager", "secret", name))) found.push({ what: "secrets are gone (a sealed version of each remains, unreachable)", name: `${name} (${account} ${region})` });
      for (const sealed of (value.encryptedDataKeys as Array<{ kmsKeyArn: string }> | undefined) ?? []) {
        const match = /^arn:[^:]+:kms:([^:]+):(\d+):key\/(.+)$/.exec(sealed.kmsKeyArn);
        if (match === null) continue;
        const keyRecord = recordKey({ account: match[2]!, region: match[1]! }, "kms", "kms-key", match[3]!);
        if (!keys.has(keyRecord)) lostKeys.set(sealed.kmsKeyArn, (lostKeys.get(sealed.kmsKeyArn) ?? 0) + 1);
      }
    } else if (kind === "kms-alias") {
      const target = String(value.targetKeyId ?? "");
      if (!keys.has(recordKey(scope, "kms", "kms-key", target))) found.push({ what: "aliases point at a KMS key that is gone", name: `${id} → ${target} (${account} ${region})` });
    } else if (kind === "kms-key") {
      if (!Array.isArray(value.backingKeys) || value.backingKeys.length === 0) found.push({ what: "KMS keys have no backing key material", name: `${id} (${account} ${region})` });
    }
  }
  for (const [arn, versions] of lostKeys) found.push({ what: "KMS keys are gone with their wrapped backing keys (secret versions sealed under them cannot be decrypted)", name: `${arn} (${versions} versions)` });
  return found;
}

// ---- Salvage: a new table from the blocks of a damaged one whose CRC32C still holds.

interface Salvage {
  readonly table: Buffer;
  readonly blocks: number;
  readonly records: number;
  readonly dropped: number;
}

const varint = (value: number): number[] => {
  const out: number[] = [];
  while (value >= 128) {
    out.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
};

const u32le = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
};

/** A block of whole entries (no prefix sharing), every entry a restart point, with its trailer. */
function buildBlock(entries: Array<[Uint8Array, Uint8Array]>): Buffer {
  const parts: Buffer[] = [];
  const restarts: number[] = [];
  let offset = 0;
  for (const [key, value] of entries) {
    restarts.push(offset);
    const head = Buffer.from([...varint(0), ...varint(key.length), ...varint(value.length)]);
    parts.push(head, Buffer.from(key), Buffer.from(value));
    offset += head.length + key.length + value.length;
  }
  if (restarts.length === 0) restarts.push(0);
  for (const restart of restarts) parts.push(u32le(restart));
  parts.push(u32le(restarts.length));
  const block = Buffer.concat(parts);
  return Buffer.concat([block, Buffer.from([0]), u32le(maskCrc(crc32c(block, Uint8Array.of(0))))]);
}

/** The data blocks to keep: from the index when it is sound, else found by walking the file from its start. */
function salvageableBlocks(file: Buffer): Array<{ offset: number; size: number; lastKey: Uint8Array; records: number }> {
  const kept: Array<{ offset: number; size: number; lastKey: Uint8Array; records: number }> = [];
  const check = checkTable(file);
  if (check.goodBlocks.length > 0) {
    for (const { handle, lastKey } of check.goodBlocks) kept.push({ ...handle, lastKey, records: entriesOf(file, handle.offset, handle.size)?.length ?? 0 });
    return kept;
  }
  // No usable index (a truncated table lost it with its footer): blocks lie end to end from offset 0, each followed
  // by its type and CRC, so a block ends where the CRC of what precedes matches the 4 bytes after the type byte.
  let start = 0;
  outer: while (start + 5 < file.length) {
    for (let end = start + 1; end + 5 <= file.length; end++) {
      const type = file[end]!;
      if (type > 1) continue;
      if (maskCrc(crc32c(file.subarray(start, end), Uint8Array.of(type))) !== file.readUInt32LE(end + 1)) continue;
      const entries = entriesOf(file, start, end - start);
      if (entries === undefined || entries.length === 0) break outer; // the filter or index block: data ends here
      kept.push({ offset: start, size: end - start, lastKey: entries[entries.length - 1]![0], records: entries.length });
      start = end + 5;
      continue outer;
    }
    break;
  }
  return kept;
}

/** The entries of the block at offset, if it decodes as a data block of internal keys. */
function entriesOf(file: Buffer, offset: number, size: number): Array<[Uint8Array, Uint8Array]> | undefined {
  try {
    const type = file[offset + size];
    const raw = file.subarray(offset, offset + size);
    const entries = blockEntries(type === 1 ? snappyUncompress(raw) : raw);
    return entries.every(([key]) => key.length >= 8) ? entries : undefined;
  } catch {
    return undefined;
  }
}

/**
 * This walk is quadratic in the worst case (a CRC per candidate end); tables are at most a few MiB and the walk
 * stops at the first block it cannot vouch for, so it stays in the seconds.
 */
function salvageTable(file: Buffer): Salvage {
  const blocks = salvageableBlocks(file);
  const parts: Buffer[] = [];
  const index: Array<[Uint8Array, Uint8Array]> = [];
  let offset = 0;
  let records = 0;
  for (const block of blocks) {
    parts.push(file.subarray(block.offset, block.offset + block.size + 5));
    index.push([block.lastKey, Buffer.from([...varint(offset), ...varint(block.size)])]);
    offset += block.size + 5;
    records += block.records;
  }
  const metaindex = buildBlock([]);
  const metaHandle = [...varint(offset), ...varint(metaindex.length - 5)];
  offset += metaindex.length;
  const indexBlock = buildBlock(index);
  const indexHandle = [...varint(offset), ...varint(indexBlock.length - 5)];
  const footer = Buffer.alloc(48);
  Buffer.from([...metaHandle, ...indexHandle]).copy(footer);
  footer.writeUInt32LE(0x8b80fb57, 40);
  footer.writeUInt32LE(0xdb477524, 44);
  const whole = checkTable(file);
  const dropped = Math.max(0, whole.goodBlocks.length + whole.badBlocks - blocks.length);
  return { table: Buffer.concat([...parts, metaindex, indexBlock, footer]), blocks: blocks.length, records, dropped };
}
