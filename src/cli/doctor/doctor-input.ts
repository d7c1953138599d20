import { readCertificateFile, readInputText, readKeyFile } from './certificate-files';
import type { DoctorInput } from './diagnose';
import { examine, type ExaminedCertificate } from './examined-certificate';
import type { Finding } from './finding';
import { fetchPeerChain } from './peer-chain';

/** What to examine, as the CLI options say it. */
export interface DoctorOptions {
  /** The chain file (leaf first); with `connect`, the client certificate to present. */
  readonly cert?: string;
  readonly key?: string;
  readonly bundle?: string;
  /** A live TLS peer instead of files. */
  readonly connect?: { readonly host: string; readonly port: number };
  readonly servername?: string;
  readonly now: Date;
  readonly timeoutMs: number;
}

/**
 * Reads what `options` point at. Throws UnreadableInput for a file that cannot be read; every
 * problem with what the files or the peer hold becomes a finding instead.
 */
export function readDoctorInput(options: DoctorOptions): Promise<DoctorInput> {
  return options.connect ? peerInput(options, options.connect) : fileInput(options);
}

async function fileInput(options: DoctorOptions): Promise<DoctorInput> {
  const inputFindings: Finding[] = [];
  const source = options.cert ?? '';
  const presented = await readCertificateFile(source, 'chain', inputFindings);
  const bundle = options.bundle === undefined ? undefined : await readCertificateFile(options.bundle, 'bundle', inputFindings);
  const key = options.key === undefined ? undefined : await readKeyFile(options.key);
  return { source, presented, orderKnown: true, ...(bundle && { bundle }), ...(key && { key }), now: options.now, inputFindings };
}

async function peerInput(options: DoctorOptions, target: { host: string; port: number }): Promise<DoctorInput> {
  const source = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const inputFindings: Finding[] = [];
  const clientCertificate = options.cert !== undefined && options.key !== undefined ? { chainPem: await readInputText(options.cert, '--cert'), keyPem: await readInputText(options.key, '--key') } : undefined;
  const bundle = options.bundle === undefined ? undefined : await readCertificateFile(options.bundle, 'bundle', inputFindings);
  const peer = await fetchPeerChain({
    ...target,
    ...(options.servername !== undefined && { servername: options.servername }),
    ...(clientCertificate && { clientCertificate }),
    timeoutMs: options.timeoutMs,
  });
  inputFindings.push(...peer.findings);
  const presented: ExaminedCertificate[] = [];
  for (const [index, der] of peer.chain.entries()) {
    const label = `peer #${index + 1}`;
    const certificate = examine(der, label);
    if (certificate) presented.push(certificate);
    else inputFindings.push({ id: 'input.unparseable-certificate', severity: 'error', where: label, message: `${label} from ${source} is not a certificate that can be parsed`, fix: 'configure the server with a valid PEM certificate chain' });
  }
  return { source, presented, orderKnown: false, ...(bundle && { bundle }), now: options.now, inputFindings };
}
