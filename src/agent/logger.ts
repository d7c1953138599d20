import pino, { type Logger, type LevelWithSilent } from 'pino';

/**
 * JSON logs for machines; readable lines when a person watches a terminal. Serializers are
 * allow-lists: nothing that could carry key material (requests, SVID objects) is ever logged whole.
 */
export function createLogger(level: LevelWithSilent, pretty = process.stdout.isTTY === true): Logger {
  const options: pino.LoggerOptions = { level, base: { service: 'meshid' }, serializers: { err: pino.stdSerializers.err } };
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  return pino(options);
}
