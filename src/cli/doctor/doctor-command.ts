import { Command, Option } from '@commander-js/extra-typings';
import { outputOption, timeoutOption, type OutputFormat } from '../cli-options';
import { exitWith, UsageError } from '../usage-error';
import type { DoctorOptions } from './doctor-input';

interface DoctorFlags {
  readonly cert?: string;
  readonly key?: string;
  readonly bundle?: string;
  readonly connect?: { readonly host: string; readonly port: number };
  readonly servername?: string;
  readonly now?: Date;
  readonly output: OutputFormat;
  readonly timeout: number;
}

export function doctorCommand() {
  return new Command('doctor')
    .summary('check an X.509-SVID (files or a live TLS peer): each problem with its fix')
    .usage('--cert CHAIN.pem [--key KEY.pem] [--bundle BUNDLE.pem] [options]\n       meshid doctor --connect HOST:PORT [--servername NAME] [--cert C --key K] [--bundle BUNDLE.pem] [options]')
    .description(
      `Runs the PKI troubleshooting checks on an X.509-SVID and reports each problem with its fix: chain order, trust up to the bundle (signatures verified), key/certificate match, key file mode, validity (with a clock-skew hint), expiry within 24 h, SANs, the SPIFFE X509-SVID rules, RSA keys below 3072 bits.`,
    )
    .option('--cert <file>', 'certificate chain, leaf first (with --connect: client certificate to present)')
    .option('--key <file>', "the leaf's private key (with --connect: client key to present)")
    .option('--bundle <file>', 'trust bundle (root certificates); without it trust is not checked')
    .addOption(new Option('--connect <host:port>', 'examine the chain a live TLS server presents instead of files').argParser(hostPortFlag))
    .option('--servername <name>', 'SNI name for --connect (default: the host, unless it is an IP address)')
    .addOption(new Option('--now <iso-time>', 'judge validity at this time instead of now').argParser(isoTimeFlag))
    .addOption(outputOption((value) => `--output is text or json, got "${value}"`))
    .addOption(timeoutOption(10_000, '--connect gives up after this long'))
    .addHelpText(
      'after',
      `
--output json prints { ok, findings: [...], subject: {...} }.
Exit status: 0 when no finding is an error (warnings may be listed), 1 when at least one is,
2 on a usage error (bad options, unreadable input file).`,
    )
    .action(async (flags) => exitWith(await doctor(flags)));
}

async function doctor(flags: DoctorFlags): Promise<number> {
  const problem = usageProblem(flags);
  if (problem) throw new UsageError(problem);
  const { cert, key, bundle, servername, connect } = flags;
  const options: DoctorOptions = {
    now: flags.now ?? new Date(),
    timeoutMs: flags.timeout,
    ...(cert !== undefined && { cert }),
    ...(key !== undefined && { key }),
    ...(bundle !== undefined && { bundle }),
    ...(servername !== undefined && { servername }),
    ...(connect && { connect }),
  };
  // Loaded on demand: the certificate parsers and the reflection polyfill they need cost every
  // other verb (`run`, the container's periodic `healthcheck`) ~200 ms and ~15 MB for nothing.
  const { reportDoctor } = await import('./doctor-report.js');
  return reportDoctor(options, flags.output);
}

/** The combinations of options that make no sense; each option's own value is checked by its parser. */
function usageProblem(flags: DoctorFlags): string | undefined {
  const has = (name: 'cert' | 'key' | 'connect' | 'servername'): boolean => flags[name] !== undefined;
  if (!has('cert') && !has('connect')) return 'doctor needs --cert FILE or --connect HOST:PORT';
  if (has('key') && !has('cert')) return '--key needs --cert (the certificate it belongs to)';
  if (has('connect') && has('cert') !== has('key')) return 'with --connect, --cert and --key go together (the client credentials to present)';
  if (has('servername') && !has('connect')) return '--servername needs --connect';
  return undefined;
}

function hostPortFlag(value: string): { host: string; port: number } {
  const target = parseHostPort(value);
  if (!target) throw new UsageError(`--connect wants HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443), got "${value}"`);
  return target;
}

function isoTimeFlag(value: string): Date {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`--now wants an ISO time such as 2026-01-31T12:00:00Z, got "${value}"`);
  return new Date(time);
}

export function parseHostPort(target: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  return host && port > 0 && port < 65536 ? { host, port } : undefined;
}
