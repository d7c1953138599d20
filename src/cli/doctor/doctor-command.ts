import { parseOptions, usageError, type Command } from '../command';
import { UnreadableInput } from './certificate-files';
import { diagnose, type DoctorReport } from './diagnose';
import { readDoctorInput, type DoctorOptions } from './doctor-input';
import { renderText } from './report-text';

export const DOCTOR_HELP = `Usage: meshid doctor --cert CHAIN.pem [--key KEY.pem] [--bundle BUNDLE.pem] [options]
       meshid doctor --connect HOST:PORT [--servername NAME] [--cert C --key K] [--bundle BUNDLE.pem] [options]

Runs the PKI troubleshooting checks on an X.509-SVID and reports each problem with its fix:
chain order, trust up to the bundle (signatures verified), key/certificate match, key file
mode, validity (with a clock-skew hint), expiry within 24 h, SANs, the SPIFFE X509-SVID rules,
RSA keys below 3072 bits.
  --cert FILE        certificate chain, leaf first (with --connect: client certificate to present)
  --key FILE         the leaf's private key (with --connect: client key to present)
  --bundle FILE      trust bundle (root certificates); without it trust is not checked
  --connect H:P      examine the chain a live TLS server presents instead of files
  --servername NAME  SNI name for --connect (default: the host, unless it is an IP address)
  --now ISO-TIME     judge validity at this time instead of now
  --output FORMAT    text (default) or json: { ok, findings: [...], subject: {...} }
  --timeout S        --connect gives up after S seconds (default 10)
Exit status: 0 when no finding is an error (warnings may be listed), 1 when at least one is,
2 on a usage error (bad options, unreadable input file).`;

const OPTIONS = {
  cert: { type: 'string' },
  key: { type: 'string' },
  bundle: { type: 'string' },
  connect: { type: 'string' },
  servername: { type: 'string' },
  now: { type: 'string' },
  output: { type: 'string' },
  timeout: { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;
const text = (values: Values, name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);

export const doctorCommand: Command = {
  async run(args) {
    const { values, exit } = parseOptions(args, OPTIONS, DOCTOR_HELP);
    if (exit !== undefined) return exit;
    const problem = usageProblem(values);
    if (problem) return usageError(`${problem}\n\n${DOCTOR_HELP}`);
    const now = text(values, 'now') === undefined ? new Date() : new Date(text(values, 'now') ?? '');

    const options: DoctorOptions = {
      now,
      timeoutMs: Number(text(values, 'timeout') ?? 10) * 1000,
      ...pick(values, ['cert', 'key', 'bundle', 'servername'] as const),
      ...(text(values, 'connect') !== undefined && { connect: parseHostPort(text(values, 'connect') ?? '') }),
    };
    let report: DoctorReport;
    try {
      report = diagnose(await readDoctorInput(options));
    } catch (error) {
      if (error instanceof UnreadableInput) return usageError(error.message);
      throw error;
    }
    console.log(text(values, 'output') === 'json' ? JSON.stringify(report, null, 2) : renderText(report));
    return report.ok ? 0 : 1;
  },
};

function usageProblem(values: Values): string | undefined {
  const has = (name: string): boolean => text(values, name) !== undefined;
  if (!has('cert') && !has('connect')) return 'doctor needs --cert FILE or --connect HOST:PORT';
  if (has('key') && !has('cert')) return '--key needs --cert (the certificate it belongs to)';
  if (has('connect') && has('cert') !== has('key')) return 'with --connect, --cert and --key go together (the client credentials to present)';
  if (has('servername') && !has('connect')) return '--servername needs --connect';
  if (has('connect') && !parseHostPort(text(values, 'connect') ?? '')) return `--connect wants HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443), got "${text(values, 'connect') ?? ''}"`;
  if (has('now') && Number.isNaN(Date.parse(text(values, 'now') ?? ''))) return `--now wants an ISO time such as 2026-01-31T12:00:00Z, got "${text(values, 'now') ?? ''}"`;
  const output = text(values, 'output');
  if (output !== undefined && output !== 'text' && output !== 'json') return `--output is text or json, got "${output}"`;
  const timeout = Number(text(values, 'timeout') ?? 10);
  if (!(timeout > 0)) return `--timeout wants a positive number of seconds, got "${text(values, 'timeout') ?? ''}"`;
  return undefined;
}

function pick<K extends string>(values: Values, names: readonly K[]): Partial<Record<K, string>> {
  const picked: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = text(values, name);
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

export function parseHostPort(target: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  return host && port > 0 && port < 65536 ? { host, port } : undefined;
}
