import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openssl } from './openssl';

export interface ServingCert {
  readonly caFile: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

async function run(args: string[], cwd: string): Promise<void> {
  const result = await openssl(args, cwd);
  if (!result.ok) throw new Error(`openssl ${args[0]} failed: ${result.output}`);
}

/**
 * A CA and a server certificate it signed for 127.0.0.1, made by the real openssl in `dir` (a
 * kubelet's self-generated serving pair has this shape too: its own CA plus a leaf).
 */
export async function makeServingCert(dir: string, name: string): Promise<ServingCert> {
  const file = (suffix: string): string => `${name}-${suffix}`;
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run(['req', '-x509', ...ec, '-days', '2', '-subj', `/CN=${name}-ca`, '-keyout', file('ca.key'), '-out', file('ca.pem')], dir);
  await run(['req', '-new', ...ec, '-subj', `/CN=${name}`, '-keyout', file('key.pem'), '-out', file('csr.pem')], dir);
  await writeFile(
    path.join(dir, file('ext.cnf')),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n',
  );
  await run(['x509', '-req', '-in', file('csr.pem'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('ext.cnf'), '-out', file('cert.pem')], dir);
  const read = (suffix: string): Promise<string> => readFile(path.join(dir, file(suffix)), 'utf8');
  const [caPem, certPem, keyPem] = await Promise.all([read('ca.pem'), read('cert.pem'), read('key.pem')]);
  return { caFile: path.join(dir, file('ca.pem')), caPem, certPem, keyPem };
}
