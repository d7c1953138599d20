import { readFile, stat } from 'node:fs/promises';
import { examine, type ExaminedCertificate } from './examined-certificate';
import { PemConverter } from './peculiar-x509';
import type { Finding } from './finding';
import type { KeyFile } from './key-checks';

/** A file the doctor was pointed at but could not read: a usage error, not a finding. */
export class UnreadableInput extends Error {}

/** The text of an input file; a file that cannot be read is a usage error. */
export async function readInputText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UnreadableInput(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * The certificates of a PEM file in file order, labelled "<prefix> #n". Blocks that do not
 * parse, and a file without any, are findings: they are what the operator came to diagnose.
 */
export async function readCertificateFile(file: string, prefix: 'chain' | 'bundle', findings: Finding[]): Promise<ExaminedCertificate[]> {
  const text = await readInputText(file, prefix === 'chain' ? '--cert' : '--bundle');
  const blocks = certificateBlocks(text);
  if (blocks.length === 0) {
    const holdsKey = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
    findings.push({
      id: prefix === 'chain' ? 'chain.empty' : 'bundle.empty',
      severity: 'error',
      message: `${file} contains no PEM CERTIFICATE block${holdsKey ? ' (it holds a private key)' : ''}`,
      fix: prefix === 'chain' ? 'pass the certificate chain, leaf first, as --cert (meshid writes it as svid.N.pem)' : "pass the trust domain's root certificates as --bundle (meshid writes them as bundle.N.pem)",
    });
  }
  const certificates: ExaminedCertificate[] = [];
  for (const [index, der] of blocks.entries()) {
    const label = `${prefix} #${index + 1}`;
    const certificate = examine(der, label);
    if (certificate) {
      certificates.push(certificate);
    } else {
      findings.push({ id: 'input.unparseable-certificate', severity: 'error', where: label, message: `${label} in ${file} is not a certificate that can be parsed`, fix: `replace block ${index + 1} of ${file} with the PEM certificate it should hold` });
    }
  }
  return certificates;
}

/**
 * The CERTIFICATE blocks of a PEM text, decoded, in file order. PemConverter drops a block whose
 * body is not base64 (a truncated copy-paste, say), so each block is decoded on its own: one it
 * drops stays in place as bytes no parser accepts, and is reported as unparseable.
 */
function certificateBlocks(text: string): Buffer[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => {
    const [der] = PemConverter.decode(block);
    return der ? Buffer.from(der) : Buffer.alloc(0);
  });
}

export async function readKeyFile(file: string): Promise<KeyFile> {
  const pem = await readInputText(file, '--key');
  return { path: file, pem, mode: (await stat(file)).mode };
}
