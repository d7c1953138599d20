import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';

export type BinaryDigest = { readonly sha256: string } | { readonly skipped: string };

export interface BinaryDigestsOptions {
  /** Larger files are not hashed: reading them would delay the caller's first answer too long. */
  readonly maxHashBytes: number;
  /** Distinct binaries remembered; the oldest is forgotten first. */
  readonly maxEntries?: number;
  /** Called each time a file is actually read and hashed (a cache miss), with its size. */
  readonly onHash?: (bytes: number) => void;
}

const DEFAULT_MAX_ENTRIES = 4096;
// Large reads keep the number of thread-pool round trips (and hash.update calls) low, while each
// update still takes well under a millisecond of the event loop.
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * SHA-256 of executables, remembered per file version. The key is device + inode + mtime + size:
 * a running executable cannot be opened for writing (ETXTBSY), so the same key means the same
 * content, and the many processes of one binary cost one hash. Concurrent misses for one file
 * share one read.
 */
export class BinaryDigests {
  private readonly known = new Map<string, Promise<BinaryDigest>>();

  constructor(private readonly options: BinaryDigestsOptions) {}

  /** `file` is opened by name (e.g. /proc/<pid>/exe); `stats` is what the caller saw it as. */
  sha256(file: string, stats: BigIntStats): Promise<BinaryDigest> {
    if (stats.size > BigInt(this.options.maxHashBytes)) {
      return Promise.resolve({ skipped: `executable is ${stats.size} bytes, above maxHashBytes (${this.options.maxHashBytes})` });
    }
    const key = versionKey(stats);
    const cached = this.known.get(key);
    if (cached) return cached;
    const hashing = this.hash(file, key);
    this.remember(key, hashing);
    // Only successful digests are worth keeping; a failure is retried by the next caller.
    void hashing.then((digest) => {
      if ('skipped' in digest && this.known.get(key) === hashing) this.known.delete(key);
    });
    return hashing;
  }

  private async hash(file: string, key: string): Promise<BinaryDigest> {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      return { skipped: `cannot open executable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
    try {
      // The name may have come to mean another file since the caller's stat (the process exited
      // and its pid was reused): a digest stored under the first file's key would poison the cache.
      const opened = await handle.stat({ bigint: true });
      if (versionKey(opened) !== key) return { skipped: 'executable changed between stat and open' };
      const digest = createHash('sha256');
      for await (const chunk of handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, autoClose: false })) {
        digest.update(chunk as Buffer);
      }
      this.options.onHash?.(Number(opened.size));
      return { sha256: digest.digest('hex') };
    } catch (error) {
      return { skipped: `cannot read executable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    } finally {
      await handle.close();
    }
  }

  private remember(key: string, digest: Promise<BinaryDigest>): void {
    const limit = this.options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    while (this.known.size >= limit) {
      const oldest = this.known.keys().next().value;
      if (oldest === undefined) break;
      this.known.delete(oldest);
    }
    this.known.set(key, digest);
  }
}

function versionKey(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.mtimeNs}:${stats.size}`;
}
