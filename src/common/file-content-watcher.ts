import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { Logger } from 'pino';

/**
 * Calls `onChange` when a file's content changes. The file's directory is watched rather than
 * the file: editors that save by writing a new file and renaming it over the old one, and
 * Kubernetes ConfigMap volumes (which swap a `..data` symlink), replace the inode a file watch
 * would hold. Events are debounced (editors write in several steps) and compared by content
 * hash, so touching the file or writing the same bytes is not a change.
 */
export class FileContentWatcher {
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private contentHash: string | undefined;

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly logger: Logger,
    private readonly debounceMs = 50,
  ) {
    this.contentHash = hashOf(file);
  }

  async start(): Promise<void> {
    // Loaded here, not at module load: the agent serves before its watchers start.
    const { watch } = await import('chokidar');
    this.watcher = watch(path.dirname(this.file), { depth: 0, ignoreInitial: true });
    this.watcher.on('all', () => {
      clearTimeout(this.debounce);
      // Real time, not Clock: it coalesces real filesystem events (a rename-save raises several).
      this.debounce = setTimeout(() => this.check(), this.debounceMs);
    });
    this.watcher.on('error', (error) => this.logger.error({ err: error, file: this.file }, 'watching a file failed'));
    await new Promise<void>((resolve) => this.watcher?.once('ready', resolve));
    // A change between construction (when the content was read) and the watch being ready
    // raised no event: look once now.
    this.check();
  }

  async stop(): Promise<void> {
    clearTimeout(this.debounce);
    await this.watcher?.close();
  }

  /** Runs onChange if the content differs from the last seen; public so SIGHUP can force a look. */
  check(): void {
    const hash = hashOf(this.file);
    // Missing for a moment during a rename, or the same bytes: nothing to do.
    if (hash === undefined || hash === this.contentHash) return;
    this.contentHash = hash;
    this.onChange();
  }
}

function hashOf(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
