import { readFileSync, statSync } from 'node:fs';

/** How stale a name may be: account files change rarely, attestation runs on every call. */
const RECHECK_INTERVAL_MS = 1_000;

/**
 * Id → name lookups from /etc/passwd or /etc/group. The file's mtime is checked at most once a
 * second and the file re-parsed only when it changed, so a call costs a Map lookup. Reads are
 * synchronous: small local files, read rarely, and an async read costs more than it saves.
 */
export class AccountNames {
  private names = new Map<number, string>();
  private loadedMtimeMs = -1;
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly file: string) {}

  nameOf(id: number): string | undefined {
    // Monotonic time, not Clock: it only bounds how often /etc/passwd is stat'ed; the answer comes from the file.
    const now = performance.now();
    if (now - this.checkedAt >= RECHECK_INTERVAL_MS) {
      this.checkedAt = now;
      this.reloadIfChanged();
    }
    return this.names.get(id);
  }

  private reloadIfChanged(): void {
    try {
      const mtimeMs = statSync(this.file).mtimeMs;
      if (mtimeMs === this.loadedMtimeMs) return;
      this.names = parseColonFile(readFileSync(this.file, 'utf8'));
      this.loadedMtimeMs = mtimeMs;
    } catch {
      this.names = new Map();
      this.loadedMtimeMs = -1;
    }
  }
}

/** passwd(5) and group(5) share `name:password:id:...`. */
function parseColonFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (!name || id === undefined || name.startsWith('#')) continue;
    const numeric = Number(id);
    if (Number.isInteger(numeric) && !names.has(numeric)) names.set(numeric, name);
  }
  return names;
}
