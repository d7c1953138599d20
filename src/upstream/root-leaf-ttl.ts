import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file';
import { MeshidError } from '../common/errors';

/**
 * The longest leaf lifetime (`svid.ttl`) any agent process ever issued under each self-signed
 * root, kept in dataDir. A root retired by a rotation that a restart interrupted stays in the
 * bundle until every leaf under it can have expired: every such leaf was issued before the
 * restart, so within this recorded lifetime of it, whatever `svid.ttl` the restarted agent has.
 * A root's entry is raised before anything is signed under it (at load and at a switch).
 */
export const LEAF_TTL_FILE = 'upstream-ca.leaf-ttl.json';

interface LeafTtlRecord {
  /** sha256 (hex) of the root certificate's DER → the longest leaf lifetime issued under it, in ms. */
  readonly maxLeafTtlMs: { readonly [rootSha256: string]: number };
}

export function rootKey(rootDer: Buffer): string {
  return createHash('sha256').update(rootDer).digest('hex');
}

/** The recorded longest leaf lifetime under `rootDer`, if any agent recorded one. */
export async function recordedLeafTtlMs(dataDir: string, rootDer: Buffer): Promise<number | undefined> {
  return (await read(dataDir)).maxLeafTtlMs[rootKey(rootDer)];
}

/**
 * Raises the record of every root in `raise` to at least `leafTtlMs` and keeps only the roots in
 * `keep` (plus those raised). Written atomically, and only when it changes.
 */
export async function updateLeafTtls(dataDir: string, update: { readonly raise: readonly Buffer[]; readonly leafTtlMs: number; readonly keep: readonly Buffer[] }): Promise<void> {
  const before = await read(dataDir);
  const keep = new Set([...update.keep, ...update.raise].map(rootKey));
  const next: { [rootSha256: string]: number } = {};
  for (const [key, ttl] of Object.entries(before.maxLeafTtlMs)) if (keep.has(key)) next[key] = ttl;
  for (const root of update.raise) next[rootKey(root)] = Math.max(next[rootKey(root)] ?? 0, update.leafTtlMs);
  const record: LeafTtlRecord = { maxLeafTtlMs: next };
  if (JSON.stringify(record) === JSON.stringify(before)) return;
  const file = path.join(dataDir, LEAF_TTL_FILE);
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, 0o600).catch((error: unknown) => {
    throw new MeshidError('UPSTREAM', `upstream(self-signed): cannot write ${file}: ${(error as Error).message}`);
  });
}

async function read(dataDir: string): Promise<LeafTtlRecord> {
  const file = path.join(dataDir, LEAF_TTL_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { maxLeafTtlMs: {} };
    throw new MeshidError('UPSTREAM', `upstream(self-signed): cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<LeafTtlRecord>;
    const entries = Object.entries(parsed.maxLeafTtlMs ?? {}).filter((entry): entry is [string, number] => /^[0-9a-f]{64}$/.test(entry[0]) && Number.isSafeInteger(entry[1]) && entry[1] > 0);
    return { maxLeafTtlMs: Object.fromEntries(entries) };
  } catch {
    // Written atomically by meshid only, so this is someone else's edit: refuse rather than guess low.
    throw new MeshidError('UPSTREAM', `upstream(self-signed): ${file} is not valid JSON; it records how long leaves under each root live: restore it, or remove it if no root rotation is under way`);
  }
}
