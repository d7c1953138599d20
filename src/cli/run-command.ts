import { Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { isMeshidError } from '../common/errors';
import { startAgent } from '../agent/agent';
import { embeddedDefaults } from '../agent/config/defaults';
import { loadConfigFile } from '../agent/config/load';
import { FileContentWatcher } from '../common/file-content-watcher';
import { createLogger } from '../agent/logger';
import { EXIT_USAGE, exitWith } from './usage-error';

export function runCommand() {
  return new Command('run')
    .summary('start the agent (embedded defaults without --config)')
    .description(
      `Starts the agent. Without --config it runs on embedded defaults: trust domain example.org, data in ./.meshid, socket ./.meshid/agent.sock, a self-signed upstream CA, and one entry giving your uid the ID spiffe://example.org/uid/<uid>.`,
    )
    .option('-c, --config <file>', 'the YAML configuration file (watched: edits apply live)')
    .addHelpText('after', '\nExit codes: 2 when the configuration or the upstream CA is unusable (every problem is listed).')
    .action(async (options) => {
      const failed = await run(options.config);
      // Started: the process lives on until a signal; only a failed start sets the exit code.
      if (failed !== undefined) exitWith(failed);
    });
}

/** How long in-flight calls get to finish on SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Starts the agent; resolves to an exit code only when it could not start. */
async function run(configOption: string | undefined): Promise<number | undefined> {
  let config;
  try {
    config = configOption !== undefined ? loadConfigFile(path.resolve(configOption), process.env) : embeddedDefaults({ cwd: process.cwd(), uid: process.getuid?.() ?? 0 });
  } catch (error) {
    console.error(`meshid: invalid configuration:\n${(error as Error).message}`);
    return EXIT_USAGE;
  }

  const logger = createLogger(config.logLevel);
  // Watch from the moment the file was read, so an edit made while the agent starts is seen.
  const configFile = configOption === undefined ? undefined : path.resolve(configOption);
  const watcher = configFile === undefined ? undefined : new FileContentWatcher(configFile, () => void reload(), logger);
  let agent;
  try {
    agent = await startAgent(config, { logger });
  } catch (error) {
    if (!isMeshidError(error)) throw error;
    console.error(`meshid: cannot start: ${error.message}`);
    return EXIT_USAGE;
  }
  const running = agent;
  // Signals first: a SIGTERM that arrives while the watcher starts must still stop gracefully.
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    void Promise.all([watcher?.stop(), running.stop()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  const fetchCommand = `${process.argv0 === 'node' ? 'node ' + path.relative(process.cwd(), process.argv[1] ?? 'meshid') : 'meshid'} api fetch x509 --socket ${config.socketPath}`;
  logger.info({ socketPath: config.socketPath, fetchCommand }, `fetch an SVID with: ${fetchCommand}`);

  // Live reload: the config file is watched (and SIGHUP forces a look). Entries, files targets
  // and the log level apply at once; other changes are reported as needing a restart; an
  // invalid file is refused with every problem listed and the running config is kept.
  async function reload(): Promise<void> {
    if (configFile === undefined) return;
    let next;
    try {
      next = loadConfigFile(configFile, process.env);
    } catch (error) {
      const problems = (error as { problems?: string[] }).problems ?? [(error as Error).message];
      logger.error({ file: configFile, problems }, 'configuration change refused; keeping the running configuration');
      return;
    }
    const changes = await running.applyConfig(next);
    if (changes.live.length > 0) logger.info({ applied: changes.live }, 'configuration change applied');
    if (changes.restartRequired.length > 0) logger.warn({ keys: changes.restartRequired }, 'configuration change needs a restart to take effect');
  }
  await watcher?.start();
  process.on('SIGHUP', () => {
    watcher?.check();
    running.reloadEntries();
  });

  return undefined;
}
