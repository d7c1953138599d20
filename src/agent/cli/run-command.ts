import path from 'node:path';
import { isMeshidError } from '../../errors';
import { startAgent } from '../agent';
import { embeddedDefaults } from '../config/defaults';
import { loadConfigFile } from '../config/load';
import { FileContentWatcher } from '../../file-content-watcher';
import { createLogger } from '../logger';
import { EXIT_USAGE, parseOptions, type Command } from './command';

const HELP = `Usage: meshid run [--config FILE]

Starts the agent. Without --config it runs on embedded defaults: trust domain example.org,
data in ./.meshid, socket ./.meshid/agent.sock, a self-signed upstream CA, and one entry
giving your uid the ID spiffe://example.org/uid/<uid>.

Exit codes: 2 when the configuration or the upstream CA is unusable (every problem is listed).`;

/** How long in-flight calls get to finish on SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 5_000;

export const runCommand: Command = {
  async run(args) {
    const { values, exit } = parseOptions(args, { config: { type: 'string', short: 'c' } }, HELP);
    if (exit !== undefined) return exit;

    let config;
    try {
      config = typeof values.config === 'string' ? loadConfigFile(path.resolve(values.config), process.env) : embeddedDefaults({ cwd: process.cwd(), uid: process.getuid?.() ?? 0 });
    } catch (error) {
      console.error(`meshid: invalid configuration:\n${(error as Error).message}`);
      return EXIT_USAGE;
    }

    const logger = createLogger(config.logLevel);
    // Watch from the moment the file was read, so an edit made while the agent starts is seen.
    const configFile = typeof values.config === 'string' ? path.resolve(values.config) : undefined;
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

    return -1;
  },
};
