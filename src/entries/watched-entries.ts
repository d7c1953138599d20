import type { Logger } from 'pino';
import { FileContentWatcher } from '../common/file-content-watcher';
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
 * Registration entries from a YAML file, re-read when its content changes (see
 * FileContentWatcher for how renames and ConfigMap swaps are caught). A file that fails
 * validation keeps the last good entries in force.
 */
export class WatchedEntriesFile implements EntrySource {
  private entries: readonly EntryRule[];
  private inline: readonly EntryRule[];
  private fileEntries: readonly EntryRule[];
  private readonly listeners = new Set<() => void>();
  private readonly watcher: FileContentWatcher;

  /** Loads the file once; an invalid file here is a startup error (the caller exits 2). */
  constructor(private readonly options: WatchedEntriesOptions) {
    this.fileEntries = options.load(options.file);
    this.inline = options.inline;
    this.entries = [...this.inline, ...this.fileEntries];
    this.watcher = new FileContentWatcher(options.file, () => this.apply(), options.logger, options.debounceMs);
  }

  start(): Promise<void> {
    return this.watcher.start();
  }

  stop(): Promise<void> {
    return this.watcher.stop();
  }

  current(): readonly EntryRule[] {
    return this.entries;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the file if it changed (SIGHUP). */
  reload(): void {
    this.watcher.check();
  }

  /** The config file's own entries changed (live config reload). */
  replaceInline(entries: readonly EntryRule[]): void {
    this.inline = entries;
    this.entries = [...this.inline, ...this.fileEntries];
    this.notify();
  }

  private apply(): void {
    const { file, logger, load, onReload } = this.options;
    try {
      this.fileEntries = load(file);
    } catch (error) {
      const problems = (error as { problems?: string[] }).problems ?? [(error as Error).message];
      logger.error({ file, problems }, 'entries file invalid; keeping the last good entries');
      onReload?.({ result: 'invalid', problems });
      return;
    }
    this.entries = [...this.inline, ...this.fileEntries];
    logger.info({ file, entries: this.fileEntries.length }, 'entries file applied');
    onReload?.({ result: 'applied', count: this.fileEntries.length });
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.options.logger.error({ err: error }, 'entries change listener failed');
      }
    }
  }
}
