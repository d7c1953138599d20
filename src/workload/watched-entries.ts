import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { EntryRule, EntrySource } from './entries';

export type EntriesReload = { readonly result: 'applied'; readonly count: number } | { readonly result: 'invalid'; readonly problems: readonly string[] };

export interface WatchedEntriesOptions {
  readonly file: string;
  /** Entries from the config file itself; they come first (their order decides the default SVID). */
  readonly inline: readonly EntryRule[];
  /** Reads and validates the file; throws a ConfigError listing every problem. */
  readonly load: (file: string) => readonly EntryRule[];
  readonly logger: Logger;
  readonly onReload?: (reload: EntriesReload) => void;
  /** Quiet period after the last event before re-reading (editors write in several steps). */
  readonly debounceMs?: number;
}

/**
 * Registration entries from a YAML file, re-read when it changes. The file's directory is
 * watched rather than the file: editors that save by writing a new file and renaming it over the
 * old one, and Kubernetes ConfigMap volumes (which swap a `..data` symlink), replace the inode a
 * file watch would hold. A file that fails validation keeps the last good entries in force.
 */
export class WatchedEntriesFile implements EntrySource {
  private entries: readonly EntryRule[];
  private inline: readonly EntryRule[];
  private fileEntries: readonly EntryRule[];
  private contentHash: string;
  private readonly listeners = new Set<() => void>();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;

  /** Loads the file once; an invalid file here is a startup error (the caller exits 2). */
  constructor(private readonly options: WatchedEntriesOptions) {
    this.fileEntries = options.load(options.file);
    this.inline = options.inline;
    this.entries = [...this.inline, ...this.fileEntries];
    this.contentHash = hashOf(options.file) ?? '';
  }

  async start(): Promise<void> {
    const directory = path.dirname(this.options.file);
    this.watcher = watch(directory, { depth: 0, ignoreInitial: true });
    this.watcher.on('all', () => this.scheduleReload());
    this.watcher.on('error', (error) => this.options.logger.error({ err: error, file: this.options.file }, 'watching the entries file failed'));
    await new Promise<void>((resolve) => this.watcher?.once('ready', resolve));
  }

  async stop(): Promise<void> {
    clearTimeout(this.debounce);
    await this.watcher?.close();
  }

  current(): readonly EntryRule[] {
    return this.entries;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private scheduleReload(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), this.options.debounceMs ?? 50);
  }

  /** Re-reads the file; public so a SIGHUP can force it. */
  reload(): void {
    const { file, logger, load, onReload } = this.options;
    const hash = hashOf(file);
    // Events for other files in the directory, or a rewrite with identical content: nothing to do.
    if (hash === this.contentHash) return;
    try {
      this.fileEntries = load(file);
      this.contentHash = hash ?? '';
      this.entries = [...this.inline, ...this.fileEntries];
      logger.info({ file, entries: this.fileEntries.length }, 'entries file applied');
      onReload?.({ result: 'applied', count: this.fileEntries.length });
    } catch (error) {
      const problems = (error as { problems?: string[] }).problems ?? [(error as Error).message];
      // Remember the bad content so it is reported once, not on every unrelated event.
      this.contentHash = hash ?? '';
      logger.error({ file, problems }, 'entries file invalid; keeping the last good entries');
      onReload?.({ result: 'invalid', problems });
      return;
    }
    this.notify();
  }

  /** The config file's own entries changed (live config reload). */
  replaceInline(entries: readonly EntryRule[]): void {
    this.inline = entries;
    this.entries = [...this.inline, ...this.fileEntries];
    this.notify();
  }

  private notify(): void {
    const { logger } = this.options;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        logger.error({ err: error }, 'entries change listener failed');
      }
    }
  }
}

function hashOf(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined; // missing for a moment during a rename: the next event re-reads it
  }
}
