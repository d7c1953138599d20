import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../common/errors';
import { derToPem, pemToDerList } from '../identity/pem';
import { writeFileAtomic } from '../common/atomic-file';

/** The node's agent X509-SVID as kept in dataDir: chain (leaf first) and key, in one file. */
export interface AgentSvid {
  readonly chainDer: readonly Buffer[];
  readonly privateKeyPem: string;
  readonly spiffeId: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export const AGENT_SVID_FILE = 'spire-agent-svid.pem';

/**
 * Key and chain share one file, written atomically with mode 0600: a crash can never leave a key
 * that does not match its certificate. Join tokens are single use, so this file is what lets a
 * restarted agent talk to the server again (spire-agent keeps `agent_svid.der` likewise).
 */
export async function saveAgentSvid(dataDir: string, svid: Pick<AgentSvid, 'chainDer' | 'privateKeyPem'>): Promise<void> {
  const pem = svid.privateKeyPem + svid.chainDer.map((der) => derToPem('CERTIFICATE', der)).join('');
  await writeFileAtomic(path.join(dataDir, AGENT_SVID_FILE), pem, 0o600);
}

/** The stored SVID, or undefined when there is none. A file that cannot be used is an error, never silently replaced. */
export async function loadAgentSvid(dataDir: string): Promise<AgentSvid | undefined> {
  const file = path.join(dataDir, AGENT_SVID_FILE);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MeshidError('UPSTREAM', `upstream(spire): cannot read ${file}: ${(error as Error).message}`);
  }
  const keyMatch = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(pem);
  const chainDer = pemToDerList(pem, 'CERTIFICATE');
  if (!keyMatch || chainDer.length === 0 || !chainDer[0]) throw new MeshidError('UPSTREAM', `upstream(spire): ${file} does not hold a key and a certificate; remove it to attest again with a new join token`);
  return describeAgentSvid(chainDer, keyMatch[0], file);
}

export function describeAgentSvid(chainDer: readonly Buffer[], privateKeyPem: string, source: string): AgentSvid {
  const leaf = new X509Certificate(chainDer[0] ?? Buffer.alloc(0));
  if (!leaf.checkPrivateKey(createPrivateKey(privateKeyPem))) throw new MeshidError('UPSTREAM', `upstream(spire): the key in ${source} does not belong to its certificate`);
  const spiffeId = (leaf.subjectAltName ?? '').split(', ').find((name) => name.startsWith('URI:'))?.slice(4) ?? '';
  return { chainDer, privateKeyPem, spiffeId, notBeforeMs: Date.parse(leaf.validFrom), notAfterMs: Date.parse(leaf.validTo) };
}
