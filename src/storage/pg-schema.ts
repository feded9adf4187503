// The PostgreSQL schema secretslite makes and migrates itself, and the migration run at open.
import type { PoolClient } from "pg";

/** Every table secretslite makes starts with this, so it can share a database with other applications. */
export const RECORDS_TABLE = "secretslite_records";
export const VERSION_TABLE = "secretslite_schema_version";

/**
 * The migrations in order: migration i (0-based) takes the schema to version i + 1. Append only; never edit one
 * that has shipped, since databases already at its version will not run it again.
 */
export const MIGRATIONS: readonly string[] = [
  // Keys ordered as LevelDB orders them (UTF-8 bytes: collation "C"), so ranges and their bounds (U+001F separators,
  // U+FFFF ends) mean the same on both stores. The value is the JSON text as written: no jsonb re-encoding, so a
  // record reads back exactly as it was put.
  `CREATE TABLE ${RECORDS_TABLE} (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Held (transaction-scoped) while the schema is checked and migrated, so N nodes starting at once migrate once:
 * the others wait, then find the schema current. Any fixed 64-bit number; this one spells "sltschem".
 */
const MIGRATION_LOCK = "8317150650784310637"; // 0x736c74736368656d: PostgreSQL 15 has no hex literals

/** Thrown when the database's schema is newer than this build: an older node must not write a newer schema. */
export class SchemaTooNew extends Error {
  override readonly name = "SchemaTooNew";
}

/** Brings the schema to SCHEMA_VERSION in one transaction; returns the version the database was at before. */
export async function migrate(client: PoolClient): Promise<number> {
  await client.query("BEGIN");
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}::bigint)`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const found = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${VERSION_TABLE}`);
    const current = found.rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new SchemaTooNew(
        `the PostgreSQL database holds secretslite schema version ${current}, newer than this build's ${SCHEMA_VERSION}: ` +
          "a newer secretslite migrated it; run that version (or newer) on every node",
      );
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query(`INSERT INTO ${VERSION_TABLE} (version) VALUES ($1)`, [version]);
    }
    await client.query("COMMIT");
    return current;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
