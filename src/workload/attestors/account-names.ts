import { readFile, stat } from 'node:fs/promises';

/**
 * Id → name lookups from /etc/passwd or /etc/group, re-parsed only when the file changes: the
 * attestor runs on every call, and these files change rarely.
 */
export class AccountNames {
  private names = new Map<number, string>();
  private loadedMtimeMs = -1;

  constructor(private readonly file: string) {}

  async nameOf(id: number): Promise<string | undefined> {
    const info = await stat(this.file).catch(() => undefined);
    if (!info) return undefined;
    if (info.mtimeMs !== this.loadedMtimeMs) {
      this.names = parseColonFile(await readFile(this.file, 'utf8'));
      this.loadedMtimeMs = info.mtimeMs;
    }
    return this.names.get(id);
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
